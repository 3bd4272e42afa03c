import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import type { DrillReport } from '../../src/report/model.js';

export const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const CLI = fileURLToPath(new URL('../../bin/atocore-drill.js', import.meta.url));

export interface CliRun {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the built CLI as a user would (node bin/atocore-drill.js …), bounded in time. */
export function runCli(args: readonly string[], options: { env?: NodeJS.ProcessEnv; timeoutMs?: number; cwd?: string; wrap?: readonly string[] } = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    // `wrap` runs the CLI under another program (e.g. unshare), which execs it
    const argv = [...(options.wrap ?? []), process.execPath, CLI, ...args];
    const child = spawn(argv[0]!, argv.slice(1), {
      cwd: options.cwd ?? PROJECT_ROOT,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`atocore-drill ${args.join(' ')} did not finish within ${options.timeoutMs ?? 90_000}ms\n${stdout}\n${stderr}`));
    }, options.timeoutMs ?? 90_000);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

let reportSchema: ((data: unknown) => boolean) & { errors?: unknown } | undefined;

/** A report file a test reads, checked against schema/report.schema.json first: every report the tests see is a valid one. */
export function readReport(path: string): DrillReport {
  const report = JSON.parse(readFileSync(path, 'utf8')) as DrillReport;
  if (!reportSchema) {
    const ajv = new Ajv2020({ allErrors: true, strict: true });
    (addFormatsModule as unknown as (ajv: Ajv2020) => void)(ajv);
    reportSchema = ajv.compile(JSON.parse(readFileSync(new URL('../../schema/report.schema.json', import.meta.url), 'utf8')) as object);
  }
  if (!reportSchema(report)) throw new Error(`${path} is not a valid atocore-drill/report@1: ${JSON.stringify(reportSchema.errors).slice(0, 2_000)}`);
  return report;
}

export function statusOf(report: DrillReport): Record<string, string> {
  return Object.fromEntries(report.checks.map((c) => [c.id, c.status]));
}

/**
 * Starts the built CLI and lets a test act on its output as it comes (send a signal when a
 * step starts, kill a container it runs); resolves with the exit code and all output.
 */
export function startCli(args: readonly string[], onOutput: (output: string, child: ReturnType<typeof spawn>) => void, env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, [CLI, ...args], { cwd: PROJECT_ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const take = (d: Buffer): void => {
    output += d.toString();
    onOutput(output, child);
  };
  child.stdout!.on('data', take);
  child.stderr!.on('data', take);
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, output })));
}
