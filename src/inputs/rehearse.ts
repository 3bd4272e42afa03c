import { accessSync, constants as fsConstants } from 'node:fs';
import { posix } from 'node:path';
import type { RehearseInputs } from '../jobs/rehearse-job.js';
import { checkRemotePath, formatSshAddress, parseOffhostTarget } from '../remote/address.js';
import { drillInputs, type RawDrillInputs } from './drill.js';
import { FieldError, forField, namedForSync, type FieldNames } from './fields.js';
import { budgetInputs, historyInputs, historyOutputs, type RawBudgets, type RawRunOutputs } from './history.js';
import { failOn, reportPaths } from './rules.js';
import { validateInputs, type RawValidateInputs, type ValidateRuleContext } from './validate.js';

/** The defaults of a rehearsal, the same whichever entry starts it. */
export const REHEARSE_DEFAULTS = {
  timeout: '30m',
  connectTimeout: '20s',
  /** AtoCore's read-only inputs on Dalidou (sources/{vault,drive}) */
  sourcesRoot: '/srv/storage/atocore/sources',
} as const;

/** A rehearsal's fields as an entry collected them, before any rule; absent: the default. */
export interface RawRehearseInputs
  extends Pick<RawValidateInputs, 'dir' | 'knownHosts' | 'identity' | 'root' | 'acceptNewHostKey' | 'connectTimeout'>,
    Pick<RawDrillInputs, 'runtime' | 'image' | 'command' | 'backupCli' | 'faults' | 'workDir'>,
    RawRunOutputs,
    RawBudgets {
  /** [USER@]HOST[:PORT], or [USER@]HOST[:PORT]:/ROOT (then without root) */
  readonly ssh?: string | undefined;
  readonly stamp?: string | undefined;
  readonly sourcesRoot?: string | undefined;
  /** absent: the rehearsal's default */
  readonly timeout?: string | undefined;
}

/** `--ssh user@host:/root` names the root too; then `root` may not be given as well. */
function sshAndRoot(raw: RawRehearseInputs): { ssh: string | undefined; root: string | undefined } {
  const ssh = raw.ssh;
  if (ssh === undefined || !/:\//.test(ssh)) return { ssh, root: raw.root };
  const target = forField('ssh', (name) => parseOffhostTarget(ssh, name));
  if (target.kind !== 'ssh') return { ssh, root: raw.root };
  if (raw.root !== undefined) throw new FieldError('root', (n) => `the AtoCore root is given twice: in ${n.one('ssh')} (HOST:/PATH) and in ${n.one('root')}`);
  return { ssh: formatSshAddress(target.address), root: target.path };
}

/** An absolute POSIX path: where the deployment's AtoCore reads its sources from. */
function sourcesRootOf(value: string | undefined): string {
  const path = value ?? REHEARSE_DEFAULTS.sourcesRoot;
  if (!path.startsWith('/')) throw new FieldError('sourcesRoot', `"${path}" is not an absolute path (the sources root as the deployment's AtoCore sees it)`);
  forField('sourcesRoot', (name) => checkRemotePath(path, name));
  return posix.normalize(path).replace(/(.)\/+$/, '$1');
}

/** The harness must list and read the snapshots itself: a directory it cannot is bad input, named. */
function readableDirectory(path: string): void {
  try {
    accessSync(path, fsConstants.R_OK | fsConstants.X_OK);
  } catch {
    throw new FieldError('dir', `${path} is not a directory this user can read`);
  }
}

function rules(raw: RawRehearseInputs, context: ValidateRuleContext, names: FieldNames): RehearseInputs {
  // where the snapshots are: the validation's own rules for the same fields
  const { ssh, root } = sshAndRoot(raw);
  const reached = validateInputs(
    {
      dir: raw.dir,
      ssh,
      root,
      knownHosts: raw.knownHosts,
      identity: raw.identity,
      acceptNewHostKey: raw.acceptNewHostKey,
      stamps: raw.stamp === undefined ? undefined : [raw.stamp],
      connectTimeout: raw.connectTimeout ?? REHEARSE_DEFAULTS.connectTimeout,
      atocoreValidator: 'none',
    },
    names,
    context,
  );
  // which AtoCore restores and serves it: the drill's own rules for the same fields
  const service = drillInputs(
    { runtime: raw.runtime, image: raw.image, command: raw.command, backupCli: raw.backupCli, faults: raw.faults, workDir: raw.workDir, timeout: raw.timeout ?? REHEARSE_DEFAULTS.timeout },
    names,
    context.base,
  );
  if (reached.source.kind === 'dir') readableDirectory(reached.source.path);
  const kept = historyInputs(raw, context.base);
  return {
    source: reached.source,
    knownHosts: reached.knownHosts,
    identity: reached.identity,
    acceptNewHostKey: reached.acceptNewHostKey,
    stamp: reached.stamps[0] ?? null,
    connectTimeoutMs: reached.connectTimeoutMs,
    runtime: service.runtime,
    image: service.image,
    command: service.command,
    backupCli: service.backupCli,
    faults: service.faults,
    workDir: service.workDir,
    timeoutMs: service.timeoutMs,
    timeoutName: service.timeoutName,
    sourcesRoot: sourcesRootOf(raw.sourcesRoot),
    ...reportPaths(raw, historyOutputs(kept)),
    failOn: failOn(raw.failOn),
    ...kept,
    ...budgetInputs(raw),
  };
}

/**
 * Every rule of a rehearsal's inputs, in one place for the CLI and the action: the typed
 * inputs the rehearse job takes, or a FieldError worded by `names`.
 */
export function rehearseInputs(raw: RawRehearseInputs, names: FieldNames, context: ValidateRuleContext = { base: process.cwd(), env: process.env }): RehearseInputs {
  return namedForSync(names, () => rules(raw, context, names));
}
