import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, cpSync, lstatSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freeLoopbackPort } from '../../src/runtimes/free-port.js';
import { PROJECT_ROOT } from './cli.js';

/**
 * Real JellyCore backups for the validate tests: the fixture's stand-ins (fixtures/jellycore/)
 * started once in a temporary root, and the plan's or the corrected backup script run against
 * them, as fixtures/jellycore/selftest.py does.
 */
export const JELLYCORE_FIXTURE = join(PROJECT_ROOT, 'fixtures', 'jellycore');

export interface JellyCoreStack {
  readonly root: string;
  readonly data: string;
  readonly backups: string;
  /** runs a backup script (`plan` or `corrected`), returns the directory it made */
  backup(variant: 'plan' | 'corrected', env?: NodeJS.ProcessEnv): string;
  /** runs a backup script and returns how it ended (for runs expected to fail) */
  tryBackup(variant: 'plan' | 'corrected', env?: NodeJS.ProcessEnv): { status: number | null; output: string };
  ctl(...args: string[]): void;
  /** python3 -m jellycore.markers ARGS (write NAME: a marker in every store) */
  markers(...args: string[]): void;
  stop(): void;
}

export async function startJellyCoreStack(root: string): Promise<JellyCoreStack> {
  const data = join(root, 'data');
  const backups = join(root, 'backups');
  mkdirSync(join(data, 'knowledge', 'projects'), { recursive: true });
  mkdirSync(backups, { recursive: true });
  writeFileSync(join(data, 'knowledge', 'README.md'), '# Knowledge\nThe Oracle indexes this tree.\n');
  writeFileSync(join(data, 'knowledge', 'projects', 'backup.md'), 'Backups run every 6 hours.\n');
  const env: NodeJS.ProcessEnv = {
    ...Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('JELLYCORE_'))),
    JELLYCORE_DATA: data,
    JELLYCORE_BACKUPS: backups,
    JELLYCORE_RUN: join(root, 'run'),
    JELLYCORE_ORACLE_PORT: String(await freeLoopbackPort()),
    JELLYCORE_CHROMA_PORT: String(await freeLoopbackPort()),
    JELLYCORE_CHROMA_TOKEN: 'validate-test-token',
    JELLYCORE_CHROMA_FLUSH_SECONDS: '3600',
    // the stand-ins end with the test process, whatever happens to it
    JELLYCORE_EXIT_WITH_PID: String(process.pid),
    PYTHONPATH: JELLYCORE_FIXTURE,
  };
  const run = (argv: string[], extra: NodeJS.ProcessEnv = {}): { status: number | null; output: string } => {
    const done = spawnSync(argv[0]!, argv.slice(1), { env: { ...env, ...extra }, encoding: 'utf8', timeout: 120_000, cwd: root });
    return { status: done.status, output: `${done.stdout}${done.stderr}` };
  };
  const ctl = (...args: string[]): void => {
    const done = run([join(JELLYCORE_FIXTURE, 'bin', 'jellycore-ctl'), ...args]);
    if (done.status !== 0) throw new Error(`jellycore-ctl ${args.join(' ')} exited ${done.status}: ${done.output}`);
  };
  ctl('start');
  const markers = (...args: string[]): void => {
    const done = run(['python3', '-m', 'jellycore.markers', ...args]);
    if (done.status !== 0) throw new Error(`markers ${args.join(' ')} exited ${done.status}: ${done.output}`);
  };
  // a marker in every store: rows in both databases, a Chroma collection, auth and the secret
  markers('write', 'A');
  const tryBackup = (variant: 'plan' | 'corrected', extra: NodeJS.ProcessEnv = {}): { status: number | null; output: string } => run([join(JELLYCORE_FIXTURE, variant, 'backup.sh')], extra);
  return {
    root,
    data,
    backups,
    ctl,
    markers,
    tryBackup,
    backup(variant, extra = {}) {
      const done = tryBackup(variant, extra);
      const made = /^Backup complete: (.+)$/m.exec(done.output);
      if (done.status !== 0 || !made) throw new Error(`${variant} backup exited ${done.status}: ${done.output}`);
      return made[1]!;
    },
    stop() {
      run([join(JELLYCORE_FIXTURE, 'bin', 'jellycore-ctl'), 'stop']);
    },
  };
}

/** `YYYYMMDD_HHMMSS` for a UTC instant. */
export function backupName(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19).replace(/-/g, '').replace('T', '_').replace(/:/g, '');
}

/** A backup root with copies of one real backup under the given names (oldest first), `latest` naming the last. */
export function plantBackups(root: string, source: string, names: readonly string[], options: { latest?: boolean } = {}): string[] {
  mkdirSync(root, { recursive: true });
  const made = names.map((name) => {
    const target = join(root, name);
    cpSync(source, target, { recursive: true, verbatimSymlinks: true });
    return target;
  });
  if (options.latest !== false && names.length > 0) execFileSync('ln', ['-sfn', names.at(-1)!, join(root, 'latest')]);
  return made;
}

/** Every 6 hours back to `days` days before `newestMs` (the plan's schedule and promise). */
export function sixHourly(newestMs: number, days: number): string[] {
  const names: string[] = [];
  for (let at = newestMs - days * 86_400_000; at <= newestMs; at += 6 * 3_600_000) names.push(backupName(at));
  return names;
}

/** World-readable, so that the SSH test's read-only user can read it (the corrected backup is made with umask 077). */
export function readableByAll(path: string): void {
  const stats = lstatSync(path);
  if (stats.isSymbolicLink()) return;
  if (stats.isDirectory()) {
    chmodSync(path, 0o755);
    for (const name of readdirSync(path)) readableByAll(join(path, name));
  } else if (stats.isFile()) chmodSync(path, 0o644);
}
