import type { ValidationRunOptions } from '../validation/run-steps.js';
import { errorMessage, InfrastructureError } from '../common/errors.js';
import type { RunOutputs, RunTimeout } from './run-outputs.js';
import { rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SnapshotStamp } from '../atocore/stamp.js';
import { formatDuration } from '../common/duration.js';
import { markDrillRoot } from '../cleanup/marks.js';
import { registerEmergencyCleanup } from '../common/emergency-cleanup.js';
import { FIELD_IDS, type FieldNames } from '../inputs/fields.js';
import type { DrillReport } from '../report/model.js';
import { formatSshAddress, type OffhostTarget, type SshAddress } from '../remote/address.js';
import type { SshIdentity } from '../remote/identity.js';
import { LocalSnapshotStore } from '../validation/local-store.js';
import type { SnapshotStore, StoreContext } from '../validation/store.js';
import { runValidation, type DeepMode, type ValidationObserver } from '../validation/validate.js';
import { describeZone, JELLYCORE_RETENTION_MS, type StampZone } from '../validation/jellycore/layout.js';
import { runJellyCoreValidation, type JellyCoreValidationOptions } from '../validation/jellycore/run.js';
import type { SshAccess } from './ssh-access.js';

/** Where the snapshots are: a directory here, or a host over SSH and the AtoCore root there. */
export type ValidateSource = { readonly kind: 'dir'; readonly path: string } | { readonly kind: 'ssh'; readonly address: SshAddress; readonly root: string };

/** The known_hosts the host key is checked against: a file, or its lines (a secret's text; never written to disk). */
export type KnownHostsSource = { readonly kind: 'file'; readonly path: string } | { readonly kind: 'text'; readonly text: string };

/** Every input of a validation, validated once (src/inputs/validate.ts, for the CLI and the action) into one typed object. */
export interface ValidateInputs extends RunOutputs, RunTimeout {
  /** whose backups: AtoCore's snapshots, or JellyCore's backup directories */
  readonly profile: 'atocore' | 'jellycore';
  /** jellycore: the zone its backup names are read in */
  readonly stampZone: StampZone;
  readonly source: ValidateSource;
  /** needed whenever SSH is used (the source, or an off-host copy over SSH) */
  readonly knownHosts: KnownHostsSource | null;
  /** where the private key comes from; never the key itself for files and variables */
  readonly identity: SshIdentity | null;
  /** trust on first use: off unless explicitly asked for */
  readonly acceptNewHostKey: boolean;
  /** only these snapshots get per-snapshot checks (empty: all) */
  readonly stamps: readonly SnapshotStamp[];
  /** over SSH: stream every database here and check it (locally every snapshot is checked anyway) */
  readonly deep: boolean;
  /** at most this many deep checks per run, rotating oldest-verified first (needs the ledger) */
  readonly maxDeep: number | null;
  readonly ledger: string | null;
  /** AtoCore's validator as argv with `{stamp}`; null: not run */
  readonly validator: readonly string[] | null;
  readonly rpoMs: number;
  /** null: Chroma freshness not checked */
  readonly chromaRpoMs: number | null;
  readonly sizeDropPercent: number;
  readonly offhost: OffhostTarget | null;
  /** "now" for freshness and retention; null: the clock */
  readonly nowMs: number | null;
  readonly connectTimeoutMs: number;
  readonly concurrency: number;
}

export function deepModeOf(inputs: Pick<ValidateInputs, 'source' | 'deep' | 'maxDeep'>): DeepMode {
  if (inputs.maxDeep !== null) return { mode: 'rotate', max: inputs.maxDeep };
  // a local snapshot costs no transfer: the harness checks every one itself
  if (inputs.source.kind === 'dir' || inputs.deep) return { mode: 'all' };
  return { mode: 'none' };
}

function describeSource(source: ValidateSource): string {
  return source.kind === 'dir' ? source.path : `${formatSshAddress(source.address)}:${source.root}`;
}

function describeOffhost(target: OffhostTarget): string {
  return target.kind === 'dir' ? target.path : `${formatSshAddress(target.address)}:${target.path}`;
}

/** One line saying what will be validated, for logs; fields named as the entry's user names them. */
export function describeValidation(inputs: ValidateInputs, names: FieldNames = FIELD_IDS): string {
  if (inputs.profile === 'jellycore') {
    return [
      `JellyCore backup validation of ${describeSource(inputs.source)}`,
      "the harness's own integrity_check on both databases and every tarball read to its end, in every backup",
      `backup names read as ${describeZone(inputs.stampZone)} time`,
      `RPO ${formatDuration(inputs.rpoMs)}`,
      `retention ${JELLYCORE_RETENTION_MS / 86_400_000} days`,
    ].join(', ');
  }
  const deep = deepModeOf(inputs);
  const parts = [
    `snapshot validation of ${describeSource(inputs.source)}`,
    deep.mode === 'all' ? "the harness's own integrity_check on every snapshot" : deep.mode === 'rotate' ? `integrity_check on at most ${deep.max} snapshot(s)` : `no deep check (${names.one('deep')} streams the databases)`,
    inputs.validator ? `AtoCore's validator: ${inputs.validator.join(' ')}` : "AtoCore's validator not run",
    `RPO ${formatDuration(inputs.rpoMs)}`,
  ];
  if (inputs.offhost) parts.push(`off-host copy ${describeOffhost(inputs.offhost)}`);
  if (inputs.ledger) parts.push(`ledger ${inputs.ledger}`);
  return parts.join(', ');
}

/**
 * Runs a validation as the inputs ask; the one path for the CLI and the action. Bad input found
 * on the way is a FieldError (src/inputs/fields.ts): the entry names the field for its user.
 */
export async function runValidateJob(inputs: ValidateInputs, context: { signal: AbortSignal; observer?: ValidationObserver; tmpDir?: string; env?: NodeJS.ProcessEnv }): Promise<DrillReport> {
  const needsSsh = inputs.source.kind === 'ssh' || inputs.offhost?.kind === 'ssh';
  // ssh2 is loaded only by runs that reach a host
  const ssh = needsSsh ? await (await import('./ssh-access.js')).SshAccess.load(inputs, context.env ?? process.env) : null;
  const scratchBase = context.tmpDir ?? tmpdir();
  const scratchDir = await mkdtemp(join(scratchBase, 'atocore-drill-validate-')).catch((error: unknown) => {
    throw new InfrastructureError(`the harness's scratch space ${scratchBase}: ${errorMessage(error)}`);
  });
  // streamed databases live here: gone even if a second signal cuts the orderly end short
  const unregister = registerEmergencyCleanup(() => rmSync(scratchDir, { recursive: true, force: true }));
  // and after a SIGKILL, `atocore-drill cleanup` knows it by its mark
  await markDrillRoot(scratchDir).catch((error: unknown) => {
    unregister();
    rmSync(scratchDir, { recursive: true, force: true });
    throw new InfrastructureError(`the harness's scratch space ${scratchBase}: marking ${scratchDir}: ${errorMessage(error)}`);
  });
  const source = inputs.source;
  const openStore = async (storeContext: StoreContext): Promise<SnapshotStore> =>
    source.kind === 'dir' ? LocalSnapshotStore.open(source.path, 'dir', storeContext) : ssh!.store(source.address, source.root, 'root', storeContext);
  const offhostTarget = inputs.offhost;
  const openOffhost = offhostTarget
    ? async (storeContext: StoreContext): Promise<SnapshotStore> =>
        offhostTarget.kind === 'dir' ? LocalSnapshotStore.open(offhostTarget.path, 'offhost', storeContext) : ssh!.store(offhostTarget.address, offhostTarget.path, 'offhost', storeContext)
    : null;
  try {
    if (inputs.profile === 'jellycore') return await runJellyCoreValidation(jellyCoreOptions(inputs, ssh, scratchDir, context));
    return await runValidation({
      openStore,
      openOffhost,
      stamps: inputs.stamps,
      deep: deepModeOf(inputs),
      ledgerPath: inputs.ledger,
      validator: inputs.validator,
      rpoMs: inputs.rpoMs,
      chromaRpoMs: inputs.chromaRpoMs,
      sizeDropPercent: inputs.sizeDropPercent,
      ...runBounds(inputs, scratchDir, context),
      target: {
        source: inputs.source.kind,
        location: describeSource(inputs.source),
        validator: inputs.validator ? inputs.validator.join(' ') : null,
        offhost: inputs.offhost ? describeOffhost(inputs.offhost) : null,
        ledger: inputs.ledger,
        rpo: formatDuration(inputs.rpoMs),
        chroma_rpo: inputs.chromaRpoMs === null ? null : formatDuration(inputs.chromaRpoMs),
        ...(ssh ? { identity: ssh.identity.description } : {}),
      },
    });
  } finally {
    ssh?.close();
    await rm(scratchDir, { recursive: true, force: true });
    unregister();
  }
}

/** A JellyCore validation's options: its backup directories sit directly in the root. */
function jellyCoreOptions(
  inputs: ValidateInputs,
  ssh: { directoryStore: SshAccess['directoryStore']; identity: SshAccess['identity'] } | null,
  scratchDir: string,
  context: { signal: AbortSignal; observer?: ValidationObserver },
): JellyCoreValidationOptions {
  const source = inputs.source;
  return {
    openStore: async (storeContext) => (source.kind === 'dir' ? LocalSnapshotStore.openDirectory(source.path, 'dir', storeContext) : ssh!.directoryStore(source.address, source.root, 'root', storeContext)),
    zone: inputs.stampZone,
    rpoMs: inputs.rpoMs,
    retentionMs: JELLYCORE_RETENTION_MS,
    ...runBounds(inputs, scratchDir, context),
    target: {
      profile: 'jellycore',
      source: source.kind,
      location: describeSource(source),
      rpo: formatDuration(inputs.rpoMs),
      ...(ssh ? { identity: ssh.identity.description } : {}),
    },
  };
}

/** What bounds and watches either validation, from the inputs and the run's context. */
function runBounds(inputs: ValidateInputs, scratchDir: string, context: { signal: AbortSignal; observer?: ValidationObserver }): Omit<ValidationRunOptions, 'target'> & { observer?: ValidationObserver } {
  return {
    nowMs: inputs.nowMs ?? Date.now(),
    timeoutMs: inputs.timeoutMs,
    timeoutName: inputs.timeoutName,
    concurrency: inputs.concurrency,
    signal: context.signal,
    scratchDir,
    ...(context.observer ? { observer: context.observer } : {}),
  };
}
