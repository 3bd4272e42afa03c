import type { ProcessResult } from '../common/child-process.js';
import { describeProcessResult } from '../common/child-process.js';
import { lastJsonObject } from '../common/json-output.js';

/** Runs `python -m atocore.ops.backup <args>` wherever the runtime keeps AtoCore. */
export type BackupCliInvoker = (args: readonly string[], timeoutMs: number) => Promise<ProcessResult>;

/** One call of AtoCore's backup CLI: the process as a value plus the last JSON object it printed. */
export interface BackupCliCall {
  readonly args: readonly string[];
  readonly result: ProcessResult;
  readonly json: Record<string, unknown> | undefined;
}

export async function callBackupCli(invoke: BackupCliInvoker, args: readonly string[], timeoutMs: number): Promise<BackupCliCall> {
  const result = await invoke(args, timeoutMs);
  return { args, result, json: lastJsonObject(result.stdout) };
}

/** For reports: what happened, without the whole output. */
export function summarizeBackupCliCall(call: BackupCliCall): Record<string, unknown> {
  return {
    command: ['backup', ...call.args].join(' '),
    outcome: describeProcessResult(call.result),
    duration_ms: call.result.durationMs,
    stdout_json: call.json ?? null,
    stderr_tail: call.result.stderr.slice(-1_500),
  };
}

/** The backup metadata object (contract: backup-metadata.json). Every field may be missing in an old or broken AtoCore. */
export interface BackupMetadata {
  created_at?: string;
  backup_root?: string;
  db_snapshot_path?: string;
  db_size_bytes?: number;
  registry_snapshot_path?: string;
  chroma_snapshot_path?: string;
  chroma_snapshot_bytes?: number;
  chroma_snapshot_files?: number;
  chroma_snapshot_included?: boolean;
  vector_store_note?: string;
  validated?: boolean;
  validation_errors?: string[];
}

export interface ValidateAnswer {
  stamp?: string;
  path?: string;
  exists?: boolean;
  db_ok?: boolean;
  registry_ok?: boolean | null;
  chroma_ok?: boolean | null;
  errors?: string[];
  valid?: boolean;
  metadata?: BackupMetadata;
}

export interface RestoreAnswer {
  stamp?: string;
  pre_restore_snapshot?: string | null;
  target_db?: string;
  db_restored?: boolean;
  registry_restored?: boolean;
  chroma_restored?: boolean;
  restored_integrity_ok?: boolean;
  integrity_error?: string;
}
