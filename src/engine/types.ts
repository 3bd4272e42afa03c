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

export interface ReportTarget {
  readonly runtime: string | null;
  readonly image: string | null;
  readonly from_image?: string | null;
  readonly backup_stamp: string | null;
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

export function check(id: string, status: CheckStatus, message: string, evidence: Record<string, unknown> = {}): CheckResult {
  return { id, status, message, evidence };
}
