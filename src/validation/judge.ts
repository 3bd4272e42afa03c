import { stampTime, type SnapshotStamp } from '../atocore/stamp.js';
import { check, type CheckResult, type SnapshotReport } from '../report/model.js';
import { checkComplete, type SnapshotDatabaseInspection } from './database.js';
import type { SnapshotFacts } from './gather.js';
import { checkImmutable, type LedgerFileRecord, type LedgerSnapshot } from './ledger.js';
import { checkDiskHeadroom, checkFutureStamps, checkListing, checkRpo, checkSizeAnomaly, classifySnapshotEntries, countedTime, summaryOf, type SnapshotSummary } from './overall-checks.js';
import { checkRetention } from './retention.js';
import { checkSidecars } from './sidecars.js';
import {
  checkAtoCoreValidate,
  checkChroma,
  checkFileTypes,
  checkIntegrity,
  checkMetadata,
  checkPaths,
  checkRegistry,
  clip,
  integrityShowsUsable,
  regularSafeFiles,
  snapshotStatus,
  type SnapshotMetadata,
} from './snapshot-checks.js';
import type { DiskSpace, StoreEntry } from './store.js';

/**
 * Judging: the validation's verdicts from gathered facts and the run's options, without
 * I/O. Each check is decided in snapshot-checks.ts, overall-checks.ts and their neighbours;
 * this composes them, and says what is skipped (and why) when the harness could not look.
 */

/** The run's choices a snapshot's checks depend on. */
export interface SnapshotJudgePlan {
  /** where the snapshots are: the metadata's recorded paths are compared with it */
  readonly snapshotsDir: string;
  /** the snapshots whose database the harness meant to inspect */
  readonly deepShare: ReadonlySet<SnapshotStamp>;
  /** why a snapshot outside the deep share was not inspected */
  readonly notInShareReason: string;
  /** the ledger's records as the run found them (null: no ledger kept) */
  readonly ledger: Readonly<Record<string, LedgerSnapshot>> | null;
  readonly nowIso: string;
}

/** The next snapshot whose database rows were read: what snapshot.complete compares with. */
export interface NextInspected {
  readonly stamp: SnapshotStamp;
  readonly inspection: SnapshotDatabaseInspection;
}

export interface JudgedSnapshot {
  readonly report: SnapshotReport;
  readonly summary: SnapshotSummary;
  /** AtoCore's validator could not run on it: the run's error, never the snapshot's */
  readonly validatorCouldNotRun: string | null;
  /** its ledger record after this run (null: no ledger kept, or not hashed) */
  readonly ledgerEntry: LedgerSnapshot | null;
}

/** When the snapshot was taken: what its metadata says, else its stamp. */
function takenAtMs(stamp: SnapshotStamp, metadata: SnapshotMetadata | null): number {
  return metadata?.createdAtMs ?? stampTime(stamp);
}

/** Every per-snapshot check of one snapshot, from its facts. */
export function judgeSnapshot(facts: SnapshotFacts, next: NextInspected | null, plan: SnapshotJudgePlan): JudgedSnapshot {
  const { stamp, files, inspection } = facts;
  const { result: metadataCheck, metadata } = checkMetadata(stamp, files, facts.metadataRead);
  const checks: CheckResult[] = [metadataCheck, checkPaths(stamp, `${plan.snapshotsDir}/${stamp}`, files, metadata), checkFileTypes(files)];
  const notJudged = facts.harnessError ? `not judged: the harness could not inspect the database (${clip(facts.harnessError, 300)})` : null;
  const integrity = checkIntegrity(files, metadata, facts.databaseHead, inspection, notJudged ?? (plan.deepShare.has(stamp) ? 'the database was not inspected' : plan.notInShareReason));
  checks.push(integrity);
  checks.push(checkSidecars(files, facts.sidecarHeads));
  checks.push(notJudged ? check('snapshot.complete', 'skip', notJudged) : checkComplete(stamp, takenAtMs(stamp, metadata), inspection, next));
  if (facts.validatorRefused) checks.push(check('snapshot.atocore_validate', 'skip', `AtoCore's validator not run: ${facts.validatorRefused}`));
  let validatorCouldNotRun: string | null = null;
  if (facts.validatorRun) {
    const { result, couldNotRun } = checkAtoCoreValidate(stamp, facts.validatorRun);
    if (result) checks.push(result);
    else {
      checks.push(check('snapshot.atocore_validate', 'skip', `AtoCore's validator could not run: ${couldNotRun}`));
      validatorCouldNotRun = couldNotRun;
    }
  }
  checks.push(checkRegistry(files, metadata, facts.registryRead));
  checks.push(checkChroma(files, metadata));
  let ledgerEntry: LedgerSnapshot | null = null;
  if (plan.ledger && facts.hashes) {
    const { result, entry } = checkImmutable(stamp, plan.ledger[stamp], ledgerRecords(files, facts.hashes), plan.nowIso);
    ledgerEntry = inspection ? { ...entry, deep_checked_at: plan.nowIso, deep_result: integrity.status === 'pass' ? 'pass' : 'fail' } : entry;
    checks.push(result);
  }
  const report: SnapshotReport = { stamp, status: snapshotStatus(checks), checks };
  const earlier = earlierDeepCheck(checks, plan.ledger?.[stamp]);
  const standing = {
    unusable: unusableReason(checks, integrity, earlier),
    createdAtMs: metadata?.createdAtMs ?? null,
    integrityUnchecked: integrityUnchecked(checks, integrity, earlier, facts, plan),
  };
  return { report, summary: summaryOf(stamp, files, standing), validatorCouldNotRun, ledgerEntry };
}

/**
 * The harness's own integrity_check of this snapshot on an earlier run, as the ledger recorded
 * it, when it still holds: this run found every file unchanged since first seen
 * (snapshot.immutable passed). Null: no such record, or the files are not shown unchanged.
 */
function earlierDeepCheck(checks: readonly CheckResult[], recorded: LedgerSnapshot | undefined): { at: string; result: 'pass' | 'fail' } | null {
  // the ledger is a file like any other: only a record of the shape the harness writes counts
  if (typeof recorded?.deep_checked_at !== 'string' || (recorded.deep_result !== 'pass' && recorded.deep_result !== 'fail')) return null;
  if (!checks.some((c) => c.id === 'snapshot.immutable' && c.status === 'pass')) return null;
  return { at: clip(recorded.deep_checked_at, 40), result: recorded.deep_result };
}

/**
 * Why a judged snapshot does not count for rpo.fresh (null: it does): a check failed, its
 * database is not shown usable (integrityShowsUsable), or, not inspected this run, it failed
 * the harness's integrity_check on an earlier run with the same files. One not deep-checked
 * this run still counts when its size and SQLite header are right; rpo.fresh warns when
 * nothing showed it intact (integrityUnchecked).
 */
function unusableReason(checks: readonly CheckResult[], integrity: CheckResult, earlier: { at: string; result: 'pass' | 'fail' } | null): string | null {
  const failed = checks.filter((c) => c.status === 'fail').map((c) => c.id);
  if (failed.length > 0) return `${failed.join(', ')} failed`;
  if (!integrityShowsUsable(integrity)) return `its database could not be verified (snapshot.integrity ${integrity.status})`;
  if (integrity.status !== 'pass' && earlier?.result === 'fail') return `its database failed the harness's integrity_check at ${earlier.at} (the ledger), and its files are unchanged since`;
  return null;
}

/**
 * Why nothing shows this snapshot's database intact (null: something does): the harness's own
 * integrity_check this run, AtoCore's validator saying valid this run, or the harness's
 * integrity_check on an earlier run with the files unchanged since (the ledger). Over SSH
 * without --deep and with `--atocore-validator none`, nothing does: only the size and the
 * SQLite header are known.
 */
function integrityUnchecked(checks: readonly CheckResult[], integrity: CheckResult, earlier: { at: string; result: 'pass' | 'fail' } | null, facts: SnapshotFacts, plan: SnapshotJudgePlan): string | null {
  if (integrity.status === 'pass') return null;
  if (checks.some((c) => c.id === 'snapshot.atocore_validate' && c.status === 'pass')) return null;
  if (earlier?.result === 'pass') return null;
  const harness = plan.deepShare.has(facts.stamp) ? 'the harness did not inspect its database' : plan.notInShareReason;
  const validator = facts.validatorRefused ? `AtoCore's validator not run: ${facts.validatorRefused}` : facts.validatorRun ? "AtoCore's validator did not say valid" : "AtoCore's validator not run (--atocore-validator none)";
  return `${harness}; ${validator}`;
}

function ledgerRecords(files: readonly StoreEntry[], hashes: ReadonlyMap<string, string>): Map<string, LedgerFileRecord> {
  const current = new Map<string, LedgerFileRecord>();
  for (const file of regularSafeFiles(files)) {
    const sha256 = hashes.get(file.path);
    if (sha256) current.set(file.path, { sha256, size: file.size });
  }
  return current;
}

/**
 * Judges selected snapshots as their facts arrive, oldest first. snapshot.complete compares a
 * snapshot's rows with those of the next snapshot whose rows were read, so one with rows
 * waits for that one: rows are held for two snapshots at most, never for the whole run.
 */
export class SnapshotJudge {
  readonly #judged: Array<JudgedSnapshot | null> = [];
  #waiting: { readonly index: number; readonly facts: SnapshotFacts } | null = null;

  readonly #plan: SnapshotJudgePlan;
  constructor(plan: SnapshotJudgePlan) {
    this.#plan = plan;
  }

  add(facts: SnapshotFacts): void {
    const index = this.#judged.length;
    this.#judged.push(null);
    if (!facts.inspection?.rows) {
      this.#judged[index] = judgeSnapshot(facts, null, this.#plan);
      return;
    }
    if (this.#waiting) this.#judged[this.#waiting.index] = judgeSnapshot(this.#waiting.facts, { stamp: facts.stamp, inspection: facts.inspection }, this.#plan);
    this.#waiting = { index, facts };
  }

  /** Every snapshot added, judged, in the order added (the newest with rows has nothing to compare with yet). */
  finish(): JudgedSnapshot[] {
    if (this.#waiting) this.#judged[this.#waiting.index] = judgeSnapshot(this.#waiting.facts, null, this.#plan);
    this.#waiting = null;
    return this.#judged.map((judged) => judged!);
  }
}

/** A stamp-named entry that is not a directory (a link, a file): refused, never opened or followed. */
export function judgeNotADirectory(entry: StoreEntry): { report: SnapshotReport; summary: SnapshotSummary } {
  const stamp = entry.path as SnapshotStamp;
  const refused = check(
    'snapshot.paths',
    'fail',
    `the snapshot is ${entry.type === 'symlink' ? `a symlink to ${JSON.stringify(clip(entry.linkTarget ?? '', 120))}` : 'not a directory'}; refused, never opened`,
    { type: entry.type, link_target: entry.linkTarget === null ? null : clip(entry.linkTarget) },
  );
  return { report: { stamp, status: 'fail', checks: [refused] }, summary: summaryOf(stamp, [], { unusable: 'snapshot.paths failed', createdAtMs: null, integrityUnchecked: null }) };
}

/** snapshots.listing and snapshots.future, from the entries of `snapshots/`. */
export function judgeListing(where: string, entries: readonly StoreEntry[], nowMs: number): CheckResult[] {
  const stamps = classifySnapshotEntries(entries).stamps.map((e) => e.path as SnapshotStamp);
  return [checkListing(where, entries), checkFutureStamps(stamps, nowMs)];
}

export interface OverallPlan {
  readonly nowMs: number;
  readonly rpoMs: number;
  readonly chromaRpoMs: number | null;
  readonly sizeDropPercent: number;
}

/** rpo.fresh, retention.policy and size.anomaly over every snapshot the run saw. */
export function judgeOverall(
  summaries: readonly SnapshotSummary[],
  stamps: readonly SnapshotStamp[],
  historyStart: SnapshotStamp | null,
  plan: OverallPlan,
): { checks: CheckResult[]; rpoSeconds: number | null; chromaRpoSeconds: number | null } {
  const rpo = checkRpo(summaries, plan.nowMs, plan.rpoMs, plan.chromaRpoMs);
  // retention places a snapshot where rpo.fresh counts it from: a renamed one is not today's restore point
  const earlier = new Map(summaries.flatMap((s) => (countedTime(s).from === 'created_at' ? [[s.stamp, countedTime(s).ms] as const] : [])));
  return {
    checks: [rpo.result, checkRetention(stamps, historyStart, plan.nowMs, earlier), checkSizeAnomaly(summaries, plan.sizeDropPercent)],
    rpoSeconds: rpo.rpoSeconds,
    chromaRpoSeconds: rpo.chromaRpoSeconds,
  };
}

/** disk.headroom, sized by the newest snapshot. */
export function judgeDisk(space: DiskSpace, summaries: readonly SnapshotSummary[]): CheckResult {
  const newest = [...summaries].sort((a, b) => (a.stamp < b.stamp ? 1 : -1))[0];
  return checkDiskHeadroom(space, newest);
}

/** The overall checks a run that could not finish never reached: skipped, with why. */
export function unfinishedRunSkips(present: readonly CheckResult[], offhostAsked: boolean, errorText: string | undefined): CheckResult[] {
  const ids = ['rpo.fresh', 'retention.policy', 'size.anomaly', 'disk.headroom', ...(offhostAsked ? ['offhost.copy'] : [])];
  return ids.filter((id) => !present.some((c) => c.id === id)).map((id) => check(id, 'skip', `not evaluated: the run could not finish (${errorText ?? 'error'})`));
}
