import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { PROJECT_ROOT } from './cli.js';

interface ActionMetadata {
  inputs: Record<string, { default?: string; required?: boolean; description?: string }>;
  outputs: Record<string, { description?: string }>;
  runs: { using: string; main: string; post?: string; 'post-if'?: string };
}

export function actionMetadata(root = PROJECT_ROOT): ActionMetadata {
  return parse(readFileSync(join(root, 'action.yml'), 'utf8')) as ActionMetadata;
}

/**
 * The action as a runner gets it: the repository's files at the action's ref, without
 * node_modules (nothing installed). Only what the action needs at run time is copied —
 * action.yml, dist/, fixtures/, schema/ (reports to merge and profiles are checked against it), profiles/ and
 * package.json — so a bundle that reached into
 * node_modules or src/ fails here as it would on a runner.
 */
export function actionCheckout(parent: string): string {
  const dir = join(parent, 'atocore-drill-action');
  mkdirSync(dir, { recursive: true });
  for (const item of ['action.yml', 'package.json', 'dist', 'fixtures', 'schema', 'profiles']) {
    cpSync(join(PROJECT_ROOT, item), join(dir, item), { recursive: true, filter: (source) => !/__pycache__|\.pyc$/.test(source) });
  }
  return dir;
}

/** `name<<DELIMITER … DELIMITER` and `name=value` entries of a GITHUB_OUTPUT / GITHUB_STATE file. */
export function parseFileCommands(text: string): Record<string, string> {
  const values: Record<string, string> = {};
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const heredoc = /^([^=<]+)<<(.+)$/.exec(line);
    if (heredoc) {
      const [, name, delimiter] = heredoc;
      const value: string[] = [];
      for (i++; i < lines.length && lines[i] !== delimiter; i++) value.push(lines[i]!);
      values[name!] = value.join('\n');
    } else if (line.includes('=')) {
      values[line.slice(0, line.indexOf('='))] = line.slice(line.indexOf('=') + 1);
    }
  }
  return values;
}

export interface StepRun {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  /** GITHUB_OUTPUT after the step */
  readonly outputs: Record<string, string>;
  /** GITHUB_STATE after the step */
  readonly state: Record<string, string>;
}

export interface JobOptions {
  /** inputs as a workflow's `with:` gives them (defaults from action.yml fill the rest) */
  readonly inputs?: Readonly<Record<string, string>>;
  /** GITHUB_API_URL; absent: not set */
  readonly apiUrl?: string;
  readonly token?: string;
  /** pull_request event: the head commit the check belongs to */
  readonly pullRequestHead?: string;
  /** extra environment, e.g. GITEA_ACTIONS=true */
  readonly env?: Readonly<Record<string, string>>;
}

export const TEST_REPOSITORY = 'atocore/atocore';
export const TEST_SHA = 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678';

/**
 * One job on an emulated runner: a workspace, RUNNER_TEMP, and per step fresh
 * GITHUB_OUTPUT / GITHUB_STATE files and one GITHUB_STEP_SUMMARY for the job. Steps run
 * as the runner runs them: `node <action>/<runs.main>` with INPUT_* variables (action.yml
 * defaults applied, `${{ github.token }}` evaluated), main then post, the post step
 * getting main's state as STATE_* variables.
 */
export class RunnerJob {
  readonly dir: string;
  readonly workspace: string;
  readonly runnerTemp: string;
  readonly summaryFile: string;
  readonly action: string;
  readonly #options: JobOptions;
  #step = 0;
  #mainState: Record<string, string> = {};

  constructor(action: string, options: JobOptions = {}) {
    this.action = action;
    this.#options = options;
    this.dir = mkdtempSync(join(tmpdir(), 'atocore-drill-runner-'));
    this.workspace = join(this.dir, 'workspace');
    this.runnerTemp = join(this.dir, 'runner-temp');
    mkdirSync(this.workspace);
    mkdirSync(this.runnerTemp);
    this.summaryFile = join(this.dir, 'step-summary.md');
    writeFileSync(this.summaryFile, '');
  }

  get summary(): string {
    return readFileSync(this.summaryFile, 'utf8');
  }

  /** The job environment for one step. */
  environment(step: 'main' | 'post', files: { output: string; state: string }): NodeJS.ProcessEnv {
    const metadata = actionMetadata(this.action);
    const token = this.#options.token ?? 'ghs_loopbackTestToken0123456789';
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      LANG: 'C.UTF-8',
      CI: 'true',
      GITHUB_ACTIONS: 'true',
      RUNNER_OS: 'Linux',
      RUNNER_ARCH: 'X64',
      RUNNER_TEMP: this.runnerTemp,
      GITHUB_WORKSPACE: this.workspace,
      GITHUB_REPOSITORY: TEST_REPOSITORY,
      GITHUB_SHA: TEST_SHA,
      GITHUB_SERVER_URL: 'https://github.example',
      GITHUB_RUN_ID: '987654321',
      GITHUB_RUN_ATTEMPT: '1',
      GITHUB_WORKFLOW_REF: `${TEST_REPOSITORY}/.github/workflows/drill-monthly.yml@refs/heads/main`,
      GITHUB_ACTION_REPOSITORY: 'atocore/atocore-drill',
      GITHUB_ACTION_REF: 'v1',
      GITHUB_OUTPUT: files.output,
      GITHUB_STATE: files.state,
      GITHUB_STEP_SUMMARY: this.summaryFile,
      TESTCONTAINERS_RYUK_DISABLED: 'true',
      ...(process.env.DOCKER_HOST ? { DOCKER_HOST: process.env.DOCKER_HOST } : {}),
      ...(this.#options.apiUrl ? { GITHUB_API_URL: this.#options.apiUrl } : {}),
    };
    if (this.#options.pullRequestHead) {
      const event = join(this.dir, 'event.json');
      writeFileSync(event, JSON.stringify({ pull_request: { number: 7, head: { sha: this.#options.pullRequestHead }, base: { sha: TEST_SHA } } }));
      env.GITHUB_EVENT_PATH = event;
      env.GITHUB_EVENT_NAME = 'pull_request';
    }
    const given = this.#options.inputs ?? {};
    for (const [name, definition] of Object.entries(metadata.inputs)) {
      const value = name in given ? given[name]! : String(definition.default ?? '').replace(/\$\{\{\s*github\.token\s*\}\}/g, token);
      env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] = value;
    }
    if (step === 'post') for (const [name, value] of Object.entries(this.#mainState)) env[`STATE_${name}`] = value;
    return { ...env, ...this.#options.env };
  }

  /** Starts a step; `done` resolves when it exits (bounded by `timeoutMs`, then SIGKILL). */
  start(step: 'main' | 'post', timeoutMs = 120_000): { child: ChildProcess; done: Promise<StepRun>; stateFile: string } {
    const metadata = actionMetadata(this.action);
    const entry = step === 'main' ? metadata.runs.main : metadata.runs.post!;
    const n = ++this.#step;
    const output = join(this.dir, `output-${n}`);
    const state = join(this.dir, `state-${n}`);
    writeFileSync(output, '');
    writeFileSync(state, '');
    const child = spawn(process.execPath, [join(this.action, entry)], {
      cwd: this.workspace,
      env: this.environment(step, { output, state }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const done = new Promise<StepRun>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`the ${step} step did not finish within ${timeoutMs}ms\n${stdout}\n${stderr}`));
      }, timeoutMs);
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        const run: StepRun = {
          code,
          signal,
          stdout,
          stderr,
          outputs: parseFileCommands(readFileSync(output, 'utf8')),
          state: parseFileCommands(readFileSync(state, 'utf8')),
        };
        if (step === 'main') this.#mainState = run.state;
        resolve(run);
      });
    });
    return { child, done, stateFile: state };
  }

  /** The state post gets, as if main had saved it (for post on its own). */
  setMainState(state: Record<string, string>): void {
    this.#mainState = { ...state };
  }

  run(step: 'main' | 'post', timeoutMs?: number): Promise<StepRun> {
    return this.start(step, timeoutMs).done;
  }
}

/** The workflow-command lines (`::error::…`, `::warning::…`) a step printed. */
export function commands(stdout: string, kind: 'error' | 'warning' | 'notice' | 'add-mask'): string[] {
  return stdout
    .split('\n')
    .filter((line) => line.startsWith(`::${kind}`))
    .map((line) => line.slice(line.indexOf('::', 2) + 2));
}
