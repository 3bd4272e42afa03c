import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as core from '@actions/core';
import { splitCommandLine } from '../common/child-process.js';
import { parseDuration } from '../common/duration.js';
import { UsageError } from '../common/errors.js';
import type { FailOn } from '../report/verdict.js';
import type { DrillInputs } from '../jobs/drill-job.js';
import type { PublishMode } from '../github/publish.js';
import { checkReportPath } from '../output/report-files.js';
import { checkRemotePath, parseOffhostTarget, parseSshAddress, type OffhostTarget, type SshAddress } from '../remote/address.js';
import { DEFAULT_VALIDATOR_COMMAND } from '../remote/commands.js';
import { isStandinFault, STANDIN_FAULTS } from '../atocore/standin.js';
import { DEFAULT_CHECK_NAME, Input, ReportFile } from './constants.js';

/** Validate mode's inputs: a backup root over SSH, read-only. */
export interface ValidateActionInputs {
  readonly address: SshAddress;
  /** the private key's text (a secret); it stays in memory, never written to disk */
  readonly privateKey: string;
  /** known_hosts lines (a secret's or variable's text) or the path of a known_hosts file */
  readonly knownHosts: { readonly text: string } | { readonly path: string };
  readonly root: string;
  readonly rpoMs: number;
  readonly timeoutMs: number;
  /** stream every snapshot database and run the harness's own integrity check on it */
  readonly deep: boolean;
  /** the off-host copy, checked against the newest snapshot */
  readonly offhost: OffhostTarget | null;
  /** AtoCore's validator as argv with {stamp}; null: not run */
  readonly validator: readonly string[] | null;
}

/** Every input of the action, read once and validated: nothing else calls getInput. */
export interface ActionInputs {
  readonly mode: 'drill' | 'validate';
  /** mode drill: exactly what the CLI's flags make (report files under reportDir) */
  readonly drill: DrillInputs | null;
  /** mode validate */
  readonly validate: ValidateActionInputs | null;
  readonly failOn: FailOn;
  /** where the verdict goes on the commit; none without a token */
  readonly publish: PublishMode | 'none';
  readonly githubToken: string | null;
  readonly checkName: string;
  /** absolute; holds report.json, junit.xml and summary.md */
  readonly reportDir: string;
  /** values to hide in everything the action writes or sends */
  readonly secrets: readonly string[];
}

export const DEFAULTS = {
  timeout: { drill: '15m', validate: '30m' },
  reportDir: 'atocore-drill-report',
  sshUser: 'atocore',
  sshPort: 22,
  root: '/srv/storage/atocore',
  rpo: '24h',
} as const;

function text(name: string): string {
  return core.getInput(name, { trimWhitespace: true });
}

function optional(name: string): string | null {
  const value = text(name);
  return value === '' ? null : value;
}

function bool(name: string): boolean {
  const value = text(name);
  if (value === '' || /^(false|False|FALSE)$/.test(value)) return false;
  if (/^(true|True|TRUE)$/.test(value)) return true;
  throw new UsageError(`input ${name}: "${value}" is not true or false`);
}

function oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
  const value = text(name) || fallback;
  if (!(allowed as readonly string[]).includes(value)) throw new UsageError(`input ${name}: "${value}" is not one of ${allowed.join(', ')}`);
  return value as T;
}

/** A list input: one item a line or comma-separated. */
function list(name: string): string[] {
  return text(name)
    .split(/[\n,]/)
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

/** Paths in inputs are relative to the workspace, as in any step (the runner starts actions there). */
function workspacePath(value: string): string {
  return resolve(process.env.GITHUB_WORKSPACE ?? process.cwd(), value);
}

/**
 * The report folder, checked before the run: a directory (or one that can be created), and
 * each report file in it a place the run can write by the report rules (output/report-files.ts).
 */
function reportDirectory(): string {
  const value = text(Input.ReportDir) || DEFAULTS.reportDir;
  const dir = workspacePath(value);
  if (existsSync(dir) && !statSync(dir).isDirectory()) throw new UsageError(`input ${Input.ReportDir}: ${dir} is a file, not a directory`);
  for (const name of [ReportFile.Json, ReportFile.Junit, ReportFile.Summary]) checkReportPath(join(dir, name), `input ${Input.ReportDir}`);
  return dir;
}

function drillInputs(reportDir: string, failOn: FailOn): DrillInputs {
  const image = optional(Input.Image);
  const fromImage = optional(Input.FromImage);
  const command = optional(Input.Command);
  const backupCli = optional(Input.BackupCli);
  if (fromImage && !image) throw new UsageError(`input ${Input.FromImage} needs input ${Input.Image}: the rollback drill goes from ${Input.FromImage} to ${Input.Image} and back`);
  if ((command === null) !== (backupCli === null)) {
    throw new UsageError(`inputs ${Input.Command} and ${Input.BackupCli} go together: how to start your AtoCore and how to invoke its backup module`);
  }
  if (image && command) throw new UsageError(`input ${Input.Command} runs AtoCore as a local process; it cannot go with input ${Input.Image}, which runs the image`);
  const faults = list(Input.Faults);
  for (const fault of faults) {
    if (!isStandinFault(fault)) throw new UsageError(`input ${Input.Faults}: "${fault}" is not a stand-in fault (known: ${STANDIN_FAULTS.join(', ')})`);
  }
  if (faults.length > 0 && command) throw new UsageError(`input ${Input.Faults} switches faults of the AtoCore stand-in; your AtoCore (input ${Input.Command}) has none`);
  let seedDir: string | null = null;
  const seed = optional(Input.Seed);
  if (seed !== null) {
    seedDir = workspacePath(seed);
    if (!existsSync(seedDir) || !statSync(seedDir).isDirectory()) throw new UsageError(`input ${Input.Seed}: ${seedDir} is not a directory`);
  }
  return {
    runtime: image ? 'container' : 'process',
    image,
    fromImage,
    command: command === null ? null : splitCommandLine(command, `input ${Input.Command}`),
    backupCli: backupCli === null ? null : splitCommandLine(backupCli, `input ${Input.BackupCli}`),
    includeChroma: bool(Input.IncludeChroma),
    seedDir,
    faults,
    keep: false,
    timeoutMs: parseDuration(text(Input.Timeout) || DEFAULTS.timeout.drill, `input ${Input.Timeout}`),
    reportJson: join(reportDir, ReportFile.Json),
    junit: join(reportDir, ReportFile.Junit),
    summary: join(reportDir, ReportFile.Summary),
    failOn,
  };
}

function validateInputs(): ValidateActionInputs {
  const host = optional(Input.SshHost);
  if (host === null) throw new UsageError(`input ${Input.SshHost} is required in mode validate: the host that holds the backups (e.g. Dalidou)`);
  if (/[\s@]/.test(host)) throw new UsageError(`input ${Input.SshHost}: "${host}" is not a host name (give the user in ${Input.SshUser}, the port in ${Input.SshPort})`);
  const portText = text(Input.SshPort) || String(DEFAULTS.sshPort);
  if (!/^\d+$/.test(portText) || Number(portText) < 1 || Number(portText) > 65_535) throw new UsageError(`input ${Input.SshPort}: "${portText}" is not a port number (1-65535)`);
  const user = text(Input.SshUser) || DEFAULTS.sshUser;
  if (/[\s@:]/.test(user)) throw new UsageError(`input ${Input.SshUser}: "${user}" is not a user name`);
  const bracketed = host.includes(':') ? `[${host}]` : host;
  const address = parseSshAddress(`${user}@${bracketed}:${portText}`, `inputs ${Input.SshUser}/${Input.SshHost}/${Input.SshPort}`);

  const key = core.getInput(Input.SshKey, { trimWhitespace: false });
  if (key.trim() === '') throw new UsageError(`input ${Input.SshKey} is required in mode validate: the private key's text, from a secret (e.g. \${{ secrets.DALIDOU_SSH_KEY }})`);
  const privateKey = `${key.replace(/\r\n/g, '\n').trim()}\n`;
  if (!/^-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/.test(privateKey)) {
    throw new UsageError(`input ${Input.SshKey}: not a private key (expected a "-----BEGIN … PRIVATE KEY-----" block; pass the secret that holds the key file's text)`);
  }
  const knownHostsValue = core.getInput(Input.KnownHosts, { trimWhitespace: false }).trim();
  if (knownHostsValue === '') {
    throw new UsageError(`input ${Input.KnownHosts} is required in mode validate: the host's key lines (ssh-keyscan output, checked once), so the action never trusts an unknown host`);
  }
  // known_hosts lines always hold spaces; a path does not
  let knownHosts: ValidateActionInputs['knownHosts'];
  if (/\s/.test(knownHostsValue)) knownHosts = { text: `${knownHostsValue.replace(/\r\n/g, '\n')}\n` };
  else {
    const path = workspacePath(knownHostsValue);
    if (!existsSync(path) || !statSync(path).isFile()) throw new UsageError(`input ${Input.KnownHosts}: ${path} is not a file (give the known_hosts lines or the path of a known_hosts file)`);
    knownHosts = { path };
  }
  const root = text(Input.Root) || DEFAULTS.root;
  if (!root.startsWith('/')) throw new UsageError(`input ${Input.Root}: "${root}" is not an absolute path on the host`);
  const offhostText = optional(Input.Offhost);
  let offhost: OffhostTarget | null = null;
  if (offhostText !== null) {
    offhost = parseOffhostTarget(offhostText, `input ${Input.Offhost}`);
    if (offhost.kind === 'dir') {
      const path = workspacePath(offhost.path);
      if (!existsSync(path) || !statSync(path).isDirectory()) throw new UsageError(`input ${Input.Offhost}: ${path} is not a directory on the runner`);
      offhost = { kind: 'dir', path };
    }
  }
  const validatorText = text(Input.AtocoreValidator) || DEFAULT_VALIDATOR_COMMAND;
  return {
    address,
    privateKey,
    knownHosts,
    root: checkRemotePath(root, `input ${Input.Root}`),
    rpoMs: parseDuration(text(Input.Rpo) || DEFAULTS.rpo, `input ${Input.Rpo}`),
    timeoutMs: parseDuration(text(Input.Timeout) || DEFAULTS.timeout.validate, `input ${Input.Timeout}`),
    deep: bool(Input.Deep),
    offhost,
    validator: validatorText === 'none' ? null : splitCommandLine(validatorText, `input ${Input.AtocoreValidator}`),
  };
}

/**
 * Reads and checks every input, once. Bad input is a UsageError naming the input; secrets
 * (the token, the SSH key) are masked in the log before anything else happens.
 */
export function readActionInputs(): ActionInputs {
  const githubToken = optional(Input.GithubToken);
  const sshKey = core.getInput(Input.SshKey, { trimWhitespace: false });
  const secrets = [githubToken ?? '', sshKey].filter((value) => value.trim() !== '');
  for (const secret of secrets) core.setSecret(secret);
  for (const line of sshKey.split(/\r?\n/)) if (line.trim().length >= 6 && !line.includes('-----')) core.setSecret(line.trim());

  const mode = oneOf(Input.Mode, ['drill', 'validate'] as const, 'drill');
  const failOn = oneOf(Input.FailOn, ['fail', 'warn'] as const, 'fail');
  const publish = oneOf(Input.Publish, ['auto', 'check-run', 'commit-status', 'none'] as const, 'auto');
  if (githubToken === null && (publish === 'check-run' || publish === 'commit-status')) {
    throw new UsageError(`input ${Input.Publish}: ${publish} needs input ${Input.GithubToken} (the default is the job's token; was it set to an empty secret?)`);
  }
  const reportDir = reportDirectory();
  const checkName = text(Input.CheckName) || DEFAULT_CHECK_NAME[mode];
  const drill = mode === 'drill' ? drillInputs(reportDir, failOn) : null;
  const validate = mode === 'validate' ? validateInputs() : null;
  if (mode === 'drill') {
    for (const name of [Input.SshHost, Input.SshKey, Input.KnownHosts, Input.Offhost, Input.AtocoreValidator]) {
      if (optional(name) !== null) throw new UsageError(`input ${name} is for mode validate; this run is mode drill`);
    }
  } else {
    for (const name of [Input.Image, Input.FromImage, Input.Command, Input.BackupCli, Input.Seed, Input.Faults]) {
      if (optional(name) !== null) throw new UsageError(`input ${name} is for mode drill; this run is mode validate`);
    }
  }
  return {
    mode,
    drill,
    validate,
    failOn,
    publish: githubToken === null ? 'none' : publish,
    githubToken,
    checkName,
    reportDir,
    secrets,
  };
}

/** The post step reads only what it needs to finish what main opened: the token. */
export function readPostInputs(): { githubToken: string | null } {
  const githubToken = optional(Input.GithubToken);
  if (githubToken) core.setSecret(githubToken);
  return { githubToken };
}
