import { execFileSync } from 'node:child_process';
import { chmodSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { stampOf, type SnapshotStamp } from '../../src/atocore/stamp.js';
import { planRetention } from '../../src/validation/retention.js';
import { PROJECT_ROOT } from './cli.js';

/**
 * Fixture backup roots made by the AtoCore stand-in's own backup module (see
 * snapshot-tree.py): real snapshots, real SQLite files, damaged the way each failure would.
 */
export type SnapshotKind =
  | 'good'
  | 'truncated'
  | 'zeroed-header'
  | 'damaged-index'
  | 'torn-wal'
  | 'bad-registry'
  | 'missing-chroma'
  | 'relocated'
  | 'symlink-outside'
  | 'wiped'
  | 'huge-chroma'
  /** a -wal with committed frames beside the database (the file alone is incomplete) */
  | 'stray-wal'
  /** an empty -wal and a -shm beside the database (left over, hold nothing) */
  | 'empty-wal';

export interface PlannedSnapshot {
  readonly stamp: SnapshotStamp;
  readonly kind: SnapshotKind;
  readonly chroma?: boolean;
  readonly huge_bytes?: number;
  /** rows written the day before this snapshot (default: the plan's rowsPerDay) */
  readonly rows?: number;
}

export interface TreePlan {
  readonly snapshots: readonly PlannedSnapshot[];
  readonly foreign?: ReadonlyArray<{ name: string; type: 'dir' | 'file' }>;
  readonly rowsPerDay?: number;
  readonly payloadBytes?: number;
}

/** "Now" for the fixture trees: a Wednesday, an hour after the 06:00 backup. */
export const FIXTURE_NOW = '2026-04-08T07:00:00Z';

/**
 * What AtoCore's retention leaves of a daily 06:00 backup from `from` to `to`: 7 daily, 4
 * weekly (Sunday) and 6 monthly (1st) snapshots, over more than six months.
 */
export function retainedDailyStamps(from = '2025-10-01', to = '2026-04-08'): SnapshotStamp[] {
  const stamps: SnapshotStamp[] = [];
  for (let day = Date.parse(`${from}T06:00:00Z`); day <= Date.parse(`${to}T06:00:00Z`); day += 86_400_000) stamps.push(stampOf(new Date(day)));
  return planRetention(stamps).kept;
}

/** The good tree: every retained snapshot made properly, Chroma included. */
export function goodTreePlan(): TreePlan {
  return { snapshots: retainedDailyStamps().map((stamp) => ({ stamp, kind: 'good' as const })) };
}

/** Which retained snapshot gets which damage in the bad tree (the newest stays good). */
export const BAD_KINDS: Readonly<Record<string, SnapshotKind>> = {
  '20251101T060000Z': 'relocated',
  '20251201T060000Z': 'truncated',
  '20260101T060000Z': 'zeroed-header',
  '20260201T060000Z': 'damaged-index',
  '20260301T060000Z': 'bad-registry',
  '20260315T060000Z': 'missing-chroma',
  '20260322T060000Z': 'symlink-outside',
  '20260402T060000Z': 'torn-wal',
};

/** Entries in snapshots/ that are not snapshots and must never be opened. */
export const FOREIGN_ENTRIES: ReadonlyArray<{ name: string; type: 'dir' | 'file' }> = [
  { name: 'manual-copy', type: 'dir' },
  { name: 'README', type: 'file' },
  { name: '20260405T060000Z.partial', type: 'dir' },
  { name: "20260301T060000Z; touch pwned-by-name", type: 'dir' },
  { name: '$(touch pwned-by-substitution)', type: 'dir' },
  { name: "20260330T060000Z'`id`", type: 'dir' },
  // Python's and PCRE's `$` match before a trailing newline; the stamp rule must not
  { name: '20260331T060000Z\n', type: 'dir' },
];

export function badTreePlan(): TreePlan {
  return {
    snapshots: retainedDailyStamps().map((stamp) => ({ stamp, kind: BAD_KINDS[stamp] ?? 'good' })),
    foreign: FOREIGN_ENTRIES,
  };
}

/** Runs the builder: `root` becomes an AtoCore root with backups/snapshots. */
export function buildSnapshotTree(root: string, plan: TreePlan): void {
  mkdirSync(root, { recursive: true });
  const planFile = join(root, '..', `${root.split('/').pop()}-plan.json`);
  writeFileSync(
    planFile,
    JSON.stringify({
      root,
      seed: join(PROJECT_ROOT, 'fixtures/seed'),
      snapshots: plan.snapshots,
      foreign: plan.foreign ?? [],
      rows_per_day: plan.rowsPerDay ?? 6,
      payload_bytes: plan.payloadBytes ?? 200,
    }),
  );
  execFileSync('python3', [join(PROJECT_ROOT, 'test/support/snapshot-tree.py'), planFile], {
    env: { ...process.env, PYTHONPATH: join(PROJECT_ROOT, 'fixtures/atocore'), PYTHONDONTWRITEBYTECODE: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 120_000,
  });
}

/** Everyone may read and traverse, nobody but the owner may write (the SSH user only reads). Names as bytes: some are not UTF-8. */
export function makeReadableByAll(path: string | Buffer): void {
  const stats = lstatSync(path);
  if (stats.isSymbolicLink()) return;
  if (stats.isDirectory()) {
    chmodSync(path, 0o755);
    const dir = typeof path === 'string' ? Buffer.from(path) : path;
    for (const name of readdirSync(dir, { encoding: 'buffer' })) makeReadableByAll(Buffer.concat([dir, Buffer.from('/'), name]));
  } else {
    chmodSync(path, 0o644);
  }
}

/**
 * Everything about a tree a write would change: each entry's type, mode, size, mtime and
 * ctime, a file's content hash, a link's target. Equal before and after: nothing was written.
 */
export function treeManifest(path: string, options: { ignoreDirectoryTimes?: boolean } = {}): Record<string, string> {
  const manifest: Record<string, string> = {};
  const walk = (relative: string): void => {
    const full = relative === '' ? path : join(path, relative);
    const stats = lstatSync(full, { bigint: true });
    let line = `${stats.mode.toString(8)} ${stats.uid}:${stats.gid}`;
    if (stats.isSymbolicLink()) line += ` -> ${readlinkSync(full)}`;
    else if (stats.isDirectory()) {
      if (!options.ignoreDirectoryTimes) line += ` m${stats.mtimeNs} c${stats.ctimeNs}`;
    } else line += ` ${stats.size} m${stats.mtimeNs} c${stats.ctimeNs} ${createHash('sha256').update(readFileSync(full)).digest('hex')}`;
    manifest[relative === '' ? '.' : relative] = line;
    if (stats.isDirectory()) for (const name of readdirSync(full).sort()) walk(relative === '' ? name : `${relative}/${name}`);
  };
  walk('');
  return manifest;
}

/** What each snapshot of the bad tree must show: exactly these failing and warning checks, nothing else. */
export const BAD_EXPECTED: Readonly<Record<string, { fails: readonly string[]; warns: readonly string[] }>> = {
  // an rsynced copy from another root: restorable, reported
  '20251101T060000Z': { fails: [], warns: ['snapshot.paths'] },
  '20251201T060000Z': { fails: ['snapshot.atocore_validate', 'snapshot.integrity'], warns: [] },
  '20260101T060000Z': { fails: ['snapshot.atocore_validate', 'snapshot.integrity'], warns: [] },
  // AtoCore's create-time check already said so in the metadata: a warning there as well
  '20260201T060000Z': { fails: ['snapshot.atocore_validate', 'snapshot.integrity'], warns: ['snapshot.metadata'] },
  '20260301T060000Z': { fails: ['snapshot.atocore_validate', 'snapshot.registry'], warns: ['snapshot.metadata'] },
  '20260315T060000Z': { fails: ['snapshot.atocore_validate', 'snapshot.chroma'], warns: ['snapshot.metadata'] },
  '20260322T060000Z': { fails: ['snapshot.paths'], warns: [] },
  // AtoCore's validator and integrity_check both pass a torn copy: only the harness's completeness check sees it
  '20260402T060000Z': { fails: ['snapshot.complete'], warns: [] },
};

/** A report's failing and warning check ids for one snapshot. */
export function snapshotFindings(report: { snapshots: ReadonlyArray<{ stamp: string; checks: ReadonlyArray<{ id: string; status: string }> }> }, stamp: string): { fails: string[]; warns: string[] } {
  const snapshot = report.snapshots.find((s) => s.stamp === stamp);
  if (!snapshot) throw new Error(`no snapshot ${stamp} in the report`);
  return {
    fails: snapshot.checks.filter((c) => c.status === 'fail').map((c) => c.id).sort(),
    warns: snapshot.checks.filter((c) => c.status === 'warn').map((c) => c.id).sort(),
  };
}

/** The stand-in's backup CLI as AtoCore's validator for a tree on this machine (with --dir). */
export function standinValidatorEnv(atocoreRoot: string): NodeJS.ProcessEnv {
  return {
    PYTHONPATH: join(PROJECT_ROOT, 'fixtures/atocore'),
    PYTHONDONTWRITEBYTECODE: '1',
    ATOCORE_DATA_DIR: join(atocoreRoot, 'data'),
    ATOCORE_BACKUP_DIR: join(atocoreRoot, 'backups'),
    ATOCORE_PROJECT_REGISTRY_PATH: join(atocoreRoot, 'config', 'project-registry.json'),
  };
}
export const STANDIN_VALIDATOR = 'python3 -m atocore.ops.backup validate {stamp}';
