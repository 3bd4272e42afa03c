import { cutText } from '../common/cut-text.js';

/** The report's vocabulary (DESIGN.md "The report"). */
export type CheckStatus = 'pass' | 'warn' | 'fail' | 'skip';
export type StepStatus = 'pass' | 'fail' | 'error' | 'skip';
export type Verdict = 'pass' | 'warn' | 'fail' | 'error';

/** One check: a stable reason code, its outcome, and the evidence a reader needs to act. */
export interface CheckResult {
  readonly id: string;
  readonly status: CheckStatus;
  readonly message: string;
  readonly evidence: Record<string, unknown>;
  /** the id of the step that decides it, where a step does (a drill's checks) */
  readonly step?: string;
}

export interface StepRecord {
  readonly id: string;
  readonly title: string;
  readonly status: StepStatus;
  readonly duration_ms: number;
  readonly detail: string;
}

export interface SnapshotReport {
  readonly stamp: string;
  readonly status: CheckStatus;
  readonly checks: CheckResult[];
}

/** One target of a merged report (`merge-reports`): which report it was and how it went. */
export interface MergedTarget {
  /** names the target in every check, step and snapshot of the merged report */
  readonly label: string;
  /** the report file it came from, as given */
  readonly file: string;
  readonly kind: 'drill' | 'validate' | 'rehearse';
  readonly verdict: Verdict;
  readonly headline: string;
  readonly started_at: string;
  readonly duration_ms: number;
  /** the report's own target, its plain values only */
  readonly target: Record<string, string | number | boolean | null>;
  readonly metrics: Record<string, number | null>;
}

export interface ReportTarget {
  readonly runtime: string | null;
  readonly image: string | null;
  readonly from_image?: string | null;
  readonly backup_stamp: string | null;
  /** a merged report's targets, one per report merged */
  readonly targets?: readonly MergedTarget[];
  readonly [key: string]: unknown;
}

export interface DrillReport {
  readonly schema: 'atocore-drill/report@1';
  readonly kind: 'drill' | 'validate' | 'rehearse';
  readonly verdict: Verdict;
  readonly started_at: string;
  readonly finished_at: string;
  readonly duration_ms: number;
  readonly target: ReportTarget;
  readonly steps: StepRecord[];
  readonly checks: CheckResult[];
  readonly metrics: { rto_ms: number | null; restore_ms: number | null; rpo_s: number | null; [key: string]: number | null };
  readonly snapshots: SnapshotReport[];
  /** why the verdict is error, when it is */
  readonly error?: string;
}

/** Where a step's detail hands over to the service's own recent output (the console shows it). */
export const SERVICE_OUTPUT_MARK = '\n--- AtoCore output (tail) ---\n';

/** Bounds on what a check carries: answers and files are hostile and reports must stay readable. */
export const CHECK_LIMITS = { messageChars: 2_000, stringChars: 8_192, arrayItems: 200, objectKeys: 200, depth: 12 } as const;

/**
 * A check result, bounded: the message cut to one readable line's worth, the evidence copied
 * to a fixed depth (a deeply nested answer would otherwise overflow JSON.stringify), long
 * strings, arrays and objects cut with a note of how much was left out.
 */
export function check(id: string, status: CheckStatus, message: string, evidence: Record<string, unknown> = {}): CheckResult {
  return { id, status, message: cutWithCount(message, CHECK_LIMITS.messageChars), evidence: boundValue(evidence, 0) as Record<string, unknown> };
}

/** The check as decided by step `stepId`. */
export function decidedBy(result: CheckResult, stepId: string): CheckResult {
  return { ...result, step: stepId };
}

function cutWithCount(text: string, limit: number): string {
  return text.length > limit ? cutText(text, limit, `… (${text.length - limit} more characters)`) : text;
}

function boundValue(value: unknown, depth: number): unknown {
  if (typeof value === 'string') return cutWithCount(value, CHECK_LIMITS.stringChars);
  if (typeof value === 'bigint') return value.toString();
  if (value === null || typeof value !== 'object') return typeof value === 'function' || typeof value === 'symbol' ? String(value) : value;
  if (depth >= CHECK_LIMITS.depth) return '… (nested deeper than the report keeps)';
  if (Array.isArray(value)) {
    const kept = value.slice(0, CHECK_LIMITS.arrayItems).map((item) => boundValue(item, depth + 1));
    if (value.length > CHECK_LIMITS.arrayItems) kept.push(`… ${value.length - CHECK_LIMITS.arrayItems} more items`);
    return kept;
  }
  const entries = Object.entries(value as Record<string, unknown>);
  const out: Record<string, unknown> = {};
  for (const [key, item] of entries.slice(0, CHECK_LIMITS.objectKeys)) out[cutWithCount(key, 200)] = boundValue(item, depth + 1);
  if (entries.length > CHECK_LIMITS.objectKeys) out['…'] = `${entries.length - CHECK_LIMITS.objectKeys} more keys`;
  return out;
}
