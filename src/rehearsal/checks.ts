/**
 * The rehearsal's checks: small pure functions from what was observed to a CheckResult.
 * Nothing here does I/O; the run (rehearsal.ts) gathers the observations.
 */
import { posix } from 'node:path';
import { statCountsOf, servedProjectIds, type ContextProbeResult } from '../atocore/drill/checks.js';
import type { RestoredDatabase } from './contents.js';
import { check, type CheckResult } from '../report/model.js';

/** The counts /stats must report: the snapshot database's own. */
export interface SnapshotCounts {
  readonly documents: number;
  readonly chunks: number;
  readonly memories: number;
}

/** A snapshot the selection passed over, and why. */
export interface PassedOver {
  readonly stamp: string;
  readonly reason: string;
}

export interface SelectionObservation {
  /** the snapshot chosen, copied into the throwaway root (null: none validates) */
  readonly chosen: { readonly stamp: string; readonly files: number; readonly bytes: number; readonly warnings: readonly string[] } | null;
  /** newer snapshots (or the one asked for) that did not validate, newest first */
  readonly passedOver: readonly PassedOver[];
  /** --stamp: the one snapshot asked for */
  readonly requested: string | null;
  /** where the snapshots are, for messages */
  readonly where: string;
  readonly snapshots: number;
}

function reasons(passed: readonly PassedOver[], max = 3): string {
  const shown = passed.slice(0, max).map((p) => `${p.stamp}: ${p.reason}`);
  return `${shown.join('; ')}${passed.length > max ? ` and ${passed.length - max} more` : ''}`;
}

/** rehearsal.snapshot: a snapshot that validates was found and copied; newer ones passed over are a warning. */
export function snapshotCheck(o: SelectionObservation): CheckResult {
  const evidence = { where: o.where, snapshots: o.snapshots, requested: o.requested, chosen: o.chosen, passed_over: o.passedOver.slice(0, 50) };
  if (!o.chosen) {
    if (o.requested) return check('rehearsal.snapshot', 'fail', `snapshot ${o.requested} does not validate: ${reasons(o.passedOver)}`, evidence);
    if (o.snapshots === 0) return check('rehearsal.snapshot', 'fail', `no snapshot in ${o.where}`, evidence);
    return check('rehearsal.snapshot', 'fail', `none of the ${o.snapshots} snapshot(s) in ${o.where} validates: ${reasons(o.passedOver)}`, evidence);
  }
  const copied = `${o.chosen.files} files, ${o.chosen.bytes} bytes copied`;
  if (o.passedOver.length > 0) {
    return check('rehearsal.snapshot', 'warn', `rehearsing ${o.chosen.stamp}, not the newest: ${o.passedOver.length} newer snapshot(s) do not validate (${reasons(o.passedOver)}); ${copied}`, evidence);
  }
  const warned = o.chosen.warnings.length > 0 ? `; its validation warns on ${o.chosen.warnings.join(', ')}` : '';
  return check('rehearsal.snapshot', 'pass', `${o.chosen.stamp} validates${o.requested ? '' : ' and is the newest'}; ${copied}${warned}`, evidence);
}

/** Where a document's recorded path lies against the deployment's sources root. */
export type SourcePathPlace = 'inside' | 'relative' | 'outside';

/**
 * A document path recorded by AtoCore's ingestion: absolute under the sources root (this
 * deployment), relative (resolved against the sources root by whoever reads it: says nothing
 * of another deployment), or absolute elsewhere (another deployment's files).
 */
export function placeOfSourcePath(path: string, sourcesRoot: string): SourcePathPlace {
  // a Windows path (C:\…, \\server\…) is absolute too, and never under a POSIX root
  if (/^([A-Za-z]:)?[\\/]/.test(path) && !path.startsWith('/')) return 'outside';
  if (!path.startsWith('/')) return 'relative';
  const root = posix.normalize(sourcesRoot).replace(/\/+$/, '');
  const normalized = posix.normalize(path);
  return root === '' || normalized === root || normalized.startsWith(`${root}/`) ? 'inside' : 'outside';
}

export interface SourcePathTally {
  readonly inside: number;
  readonly relative: number;
  readonly outside: number;
  /** a few paths outside, for the evidence */
  readonly outsideExamples: readonly string[];
}

export function tallySourcePaths(paths: Iterable<string>, sourcesRoot: string): SourcePathTally {
  let inside = 0;
  let relative = 0;
  let outside = 0;
  const outsideExamples: string[] = [];
  for (const path of paths) {
    const place = placeOfSourcePath(path, sourcesRoot);
    if (place === 'inside') inside++;
    else if (place === 'relative') relative++;
    else {
      outside++;
      if (outsideExamples.length < 5) outsideExamples.push(path.slice(0, 300));
    }
  }
  return { inside, relative, outside, outsideExamples };
}

/** rehearsal.deployment: the snapshot's source paths belong to this deployment (--sources-root). */
export function deploymentCheck(tally: SourcePathTally, sourcesRoot: string): CheckResult {
  const total = tally.inside + tally.relative + tally.outside;
  const evidence = { sources_root: sourcesRoot, documents: total, under_root: tally.inside, relative: tally.relative, outside: tally.outside, outside_examples: tally.outsideExamples };
  if (total === 0) return check('rehearsal.deployment', 'warn', 'the snapshot holds no source documents, so which deployment it came from cannot be told', evidence);
  if (tally.outside > 0) {
    return check(
      'rehearsal.deployment',
      'fail',
      `${tally.outside} of ${total} source paths lie outside --sources-root ${sourcesRoot} (e.g. ${tally.outsideExamples.slice(0, 2).join(', ')}): a snapshot from another deployment, whose restored AtoCore would not find its sources`,
      evidence,
    );
  }
  return check('rehearsal.deployment', 'pass', `all ${total} source paths belong to this deployment (${tally.inside} under ${sourcesRoot}, ${tally.relative} relative to it)`, evidence);
}

/** rehearsal.integrity: the restored database is intact and holds every row of every table of the snapshot. */
export function restoredIntegrityCheck(restored: RestoredDatabase, snapshotRows: Readonly<Record<string, number>>): CheckResult {
  const restoredRows = restored.rows ?? {};
  const differing = Object.entries(snapshotRows)
    .filter(([table, rows]) => restoredRows[table] !== rows)
    .map(([table, rows]) => ({ table, snapshot: rows, restored: restoredRows[table] ?? null }));
  const evidence = {
    path: restored.path,
    integrity_check: restored.integrity.messages.slice(0, 20),
    foreign_key_violations: restored.foreignKeys.violations.slice(0, 20),
    error: restored.error,
    differing_tables: differing,
  };
  if (!restored.ok) {
    const problems = [
      ...(restored.integrity.ok ? [] : [`integrity_check: ${restored.integrity.messages.slice(0, 3).join('; ').replace(/\s*\n\s*/g, ' ')}`]),
      ...(restored.foreignKeys.ok ? [] : [`${restored.foreignKeys.violations.length} foreign key violation(s)`]),
      ...(restored.error ? [restored.error] : []),
    ];
    return check('rehearsal.integrity', 'fail', `the restored database is damaged: ${problems.join('; ')}`, evidence);
  }
  if (differing.length > 0) {
    return check('rehearsal.integrity', 'fail', `the restored database does not hold the snapshot's rows: ${differing.map((d) => `${d.table} ${d.restored ?? 'missing'} (snapshot ${d.snapshot})`).join(', ')}`, evidence);
  }
  return check('rehearsal.integrity', 'pass', `the restored database passes integrity_check and foreign_key_check and holds the snapshot's rows (${Object.keys(snapshotRows).length} tables)`, evidence);
}

/** rehearsal.health: the throwaway AtoCore came up on the restored data (null answer: it did not, `finding` says why). */
export function healthCheck(answer: { status: number; body: unknown } | null, finding: string | null, logs: string): CheckResult {
  if (!answer || answer.status !== 200) {
    return check('rehearsal.health', 'fail', `AtoCore did not come up on the restored snapshot: ${finding ?? `GET /health answered ${answer?.status}`}`, { logs_tail: logs.slice(-3_000) });
  }
  const body = answer.body !== null && typeof answer.body === 'object' ? (answer.body as Record<string, unknown>) : {};
  return check('rehearsal.health', 'pass', `GET /health answered 200 on the restored data (version ${String(body.version ?? 'unknown')})`, { health: body });
}

/** rehearsal.stats: /stats reports the snapshot database's own counts. */
export function statsCheck(answer: { status: number; body: unknown; text: string }, expected: SnapshotCounts): CheckResult {
  if (answer.status !== 200 || answer.body === null || typeof answer.body !== 'object' || Array.isArray(answer.body)) {
    return check('rehearsal.stats', 'fail', `GET /stats answered HTTP ${answer.status}${answer.status === 200 ? ' without a JSON object' : ''}: ${answer.text.slice(0, 200)}`, { expected });
  }
  const reported = statCountsOf(answer.body as Record<string, unknown>);
  const evidence = { expected, reported, stats: answer.body };
  const wrong = (Object.keys(expected) as Array<keyof SnapshotCounts>).filter((key) => reported[key] !== expected[key]);
  if (wrong.length > 0) {
    return check('rehearsal.stats', 'fail', `/stats disagrees with the snapshot's database: ${wrong.map((k) => `${k} ${reported[k] ?? 'not reported'} (the snapshot holds ${expected[k]})`).join(', ')}`, evidence);
  }
  return check('rehearsal.stats', 'pass', `/stats reports ${expected.documents} documents, ${expected.chunks} chunks, ${expected.memories} memories, as the snapshot's database holds`, evidence);
}

/** rehearsal.projects: /projects lists exactly the projects of the snapshot's registry. */
export function projectsCheck(answer: { status: number; body: unknown }, registered: readonly string[]): CheckResult {
  const served = answer.status === 200 ? servedProjectIds(answer.body) : null;
  const evidence = { served, registered };
  if (!served) return check('rehearsal.projects', 'fail', `/projects did not answer {"projects": [...]} (HTTP ${answer.status})`, evidence);
  const missing = registered.filter((id) => !served.includes(id));
  const extra = served.filter((id) => !registered.includes(id));
  if (missing.length + extra.length > 0) {
    const parts = [...(missing.length ? [`missing ${missing.slice(0, 10).join(', ')}`] : []), ...(extra.length ? [`not in the snapshot's registry: ${extra.slice(0, 10).join(', ')}`] : [])];
    return check('rehearsal.projects', 'fail', `/projects differs from the snapshot's registry: ${parts.join('; ')}`, evidence);
  }
  if (served.length !== registered.length) return check('rehearsal.projects', 'fail', `/projects lists ${served.length} entries, the snapshot's registry ${registered.length}`, evidence);
  return check('rehearsal.projects', 'pass', `/projects lists the ${served.length} project(s) of the snapshot's registry`, evidence);
}

/** One registered project's /context/build answer, with whether the snapshot holds chunks of that project. */
export interface ProjectContext {
  readonly result: ContextProbeResult;
  /** chunks of this project in the snapshot's database (by their documents' paths) */
  readonly chunksInSnapshot: number;
}

function contextProblem(p: ProjectContext): string | null {
  const r = p.result;
  if (r.error !== null) return r.error;
  if (r.foreignChunks > 0) return `${r.foreignChunks} chunk(s) of other projects (${r.strangers.join(', ')})`;
  if (r.unattributedChunks > 0) return `${r.unattributedChunks} chunk(s) from sources no registered project holds (${r.strangers.join(', ')})`;
  // a project the snapshot holds no chunk of has nothing to show: an empty answer is right
  if (p.chunksInSnapshot === 0) return null;
  if (!r.chunksUsed || r.chunksUsed <= 0) return `no chunks, although the snapshot holds ${p.chunksInSnapshot} of this project`;
  if (r.ownChunks === 0) return `${r.chunksUsed} chunk(s) counted but none listed with its source, so none is shown to be the project's`;
  return null;
}

/** rehearsal.context: /context/build for every registered project answers with chunks of that project only. */
export function contextCheck(projects: readonly ProjectContext[]): CheckResult {
  const evidence = { projects: projects.map((p) => ({ ...p.result, chunks_in_snapshot: p.chunksInSnapshot })) };
  if (projects.length === 0) return check('rehearsal.context', 'warn', "the snapshot's registry has no projects, so /context/build was not exercised", evidence);
  const bad = projects.map((p) => ({ p, problem: contextProblem(p) })).filter((x) => x.problem !== null);
  if (bad.length > 0) return check('rehearsal.context', 'fail', `/context/build answered wrongly for ${bad.map((x) => `${x.p.result.project}: ${x.problem}`).join('; ')}`, evidence);
  const shown = projects.filter((p) => p.chunksInSnapshot > 0).length;
  if (shown === 0) return check('rehearsal.context', 'warn', `/context/build answered for all ${projects.length} project(s) without foreign chunks, but the snapshot holds no chunk of any of them, so none was shown to come back`, evidence);
  return check('rehearsal.context', 'pass', `/context/build answered ${shown} of ${projects.length} project(s) with their own chunks only${shown < projects.length ? ` (the others have no chunks in the snapshot and got none of another's)` : ''}`, evidence);
}
