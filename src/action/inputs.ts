import { existsSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import * as core from '@actions/core';
import { UsageError } from '../common/errors.js';
import type { PublishMode } from '../github/publish.js';
import { drillInputs as sharedDrillInputs, type RawDrillInputs } from '../inputs/drill.js';
import { kebab, namedForSync, type FieldId, type FieldNames } from '../inputs/fields.js';
import { failOn as failOnRule } from '../inputs/rules.js';
import { validateInputs as sharedValidateInputs, type RawValidateInputs } from '../inputs/validate.js';
import { mergeInputs as sharedMergeInputs, reportPatterns, type MergeInputs } from '../inputs/merge.js';
import { rehearseInputs as sharedRehearseInputs } from '../inputs/rehearse.js';
import type { RehearseInputs } from '../jobs/rehearse-job.js';
import type { DrillInputs } from '../jobs/drill-job.js';
import type { ValidateInputs } from '../jobs/validate-job.js';
import type { FailOn } from '../report/verdict.js';
import { DEFAULT_CHECK_NAME, Input, ReportFile } from './constants.js';

/** How the action's user names a field: by its input (`input from-image`). */
const INPUT_OF: Partial<Record<FieldId, string>> = {
  ssh: `${Input.SshUser}/${Input.SshHost}/${Input.SshPort}`,
  identity: Input.SshKey,
  knownHosts: Input.SshKnownHosts,
  reportJson: Input.ReportDir,
  junit: Input.ReportDir,
  summary: Input.ReportDir,
  chart: Input.ReportDir,
};

function inputOf(field: FieldId): string {
  return INPUT_OF[field] ?? kebab(field);
}

export const ACTION_NAMES: FieldNames = {
  one: (field) => (field === 'ssh' ? `inputs ${inputOf(field)}` : `input ${inputOf(field)}`),
  both: (a, b) => `inputs ${inputOf(a)} and ${inputOf(b)}`,
};

/** Every input of the action, read once and validated: nothing else calls getInput. */
export interface ActionInputs {
  readonly mode: 'drill' | 'validate' | 'merge' | 'rehearse';
  /** mode drill: exactly what the CLI's flags make (report files under reportDir) */
  readonly drill: DrillInputs | null;
  /** mode validate: what the CLI's `validate --ssh` flags make, the key and known_hosts as text or files */
  readonly validate: ValidateInputs | null;
  /** mode merge: the report files found by input reports, and the merged report's files */
  readonly merge: MergeInputs | null;
  /** mode rehearse: what the CLI's `rehearse --ssh` flags make, the key and known_hosts as for validate */
  readonly rehearse: RehearseInputs | null;
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

/** The action's own defaults; the rest are the CLI's (src/inputs/). */
export const DEFAULTS = {
  timeout: { drill: '15m' },
  reportDir: 'atocore-drill-report',
  sshUser: 'atocore',
  sshPort: 22,
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
function workspace(): string {
  return process.env.GITHUB_WORKSPACE ?? process.cwd();
}

function workspacePath(value: string): string {
  return resolve(workspace(), value);
}

/** The report folder: a directory, or one that can be created (its files are checked by the shared rules). */
function reportDirectory(): string {
  const value = text(Input.ReportDir) || DEFAULTS.reportDir;
  const dir = workspacePath(value);
  if (existsSync(dir) && !statSync(dir).isDirectory()) throw new UsageError(`input ${Input.ReportDir}: ${dir} is a file, not a directory`);
  return dir;
}

/** The report files in the report folder; the shared rules check each before the run. */
function reportFiles(reportDir: string): { reportJson: string; junit: string; summary: string } {
  return { reportJson: join(reportDir, ReportFile.Json), junit: join(reportDir, ReportFile.Junit), summary: join(reportDir, ReportFile.Summary) };
}

function given(name: string): string | undefined {
  return optional(name) ?? undefined;
}

/** Mode drill: the inputs collected, then the drill rules the CLI's flags go through too. */
function drillInputs(reportDir: string, failOn: string | undefined): DrillInputs {
  const raw: RawDrillInputs = {
    image: given(Input.Image),
    fromImage: given(Input.FromImage),
    command: given(Input.Command),
    backupCli: given(Input.BackupCli),
    // empty: on for the AtoCore drill; a profile file's service declares its own stores
    includeChroma: optional(Input.IncludeChroma) === null ? (isAtoCoreProfile(given(Input.Profile)) ? true : undefined) : bool(Input.IncludeChroma),
    seed: given(Input.Seed),
    workDir: given(Input.WorkDir),
    faults: list(Input.Faults),
    drills: given(Input.Drills),
    profile: given(Input.Profile),
    // one per line: a value may hold commas
    profileVars: text(Input.ProfileVars).split('\n').map((line) => line.trim()).filter((line) => line !== ''),
    timeout: text(Input.Timeout) || DEFAULTS.timeout.drill,
    ...reportFiles(reportDir),
    failOn,
    ...historyFields(reportDir),
    rtoBudget: given(Input.RtoBudget),
    rpo: given(Input.Rpo),
  };
  return sharedDrillInputs(raw, ACTION_NAMES, workspace());
}

/** Input history (a file in the workspace; empty: none) and its chart, always history.svg in the report folder. */
function historyFields(reportDir: string): { history?: string; chart?: string } {
  const history = given(Input.History);
  return history === undefined ? {} : { history, chart: join(reportDir, ReportFile.Chart) };
}

/** The SSH address from its three inputs (the action's shape; the address rules are the CLI's). */
function sshAddress(mode: 'validate' | 'rehearse' = 'validate'): string {
  const host = optional(Input.SshHost);
  if (host === null) throw new UsageError(`input ${Input.SshHost} is required in mode ${mode}: the host that holds the backups (e.g. Dalidou)`);
  if (/[\s@]/.test(host)) throw new UsageError(`input ${Input.SshHost}: "${host}" is not a host name (give the user in ${Input.SshUser}, the port in ${Input.SshPort})`);
  const portText = text(Input.SshPort) || String(DEFAULTS.sshPort);
  if (!/^\d+$/.test(portText) || Number(portText) < 1 || Number(portText) > 65_535) throw new UsageError(`input ${Input.SshPort}: "${portText}" is not a port number (1-65535)`);
  const user = text(Input.SshUser) || DEFAULTS.sshUser;
  if (/[\s@:]/.test(user)) throw new UsageError(`input ${Input.SshUser}: "${user}" is not a user name`);
  return `${user}@${host.includes(':') ? `[${host}]` : host}:${portText}`;
}

/**
 * ssh-known-hosts, or its old name known-hosts with a warning (one of them: two would leave
 * it open which one the host key is checked against).
 */
function knownHostsInput(): string {
  const current = core.getInput(Input.SshKnownHosts, { trimWhitespace: false }).trim();
  const old = core.getInput(Input.KnownHosts, { trimWhitespace: false }).trim();
  if (old === '') return current;
  if (current !== '') throw new UsageError(`inputs ${Input.SshKnownHosts} and ${Input.KnownHosts} are both given: ${Input.KnownHosts} is the old name of ${Input.SshKnownHosts}; give only ${Input.SshKnownHosts}`);
  core.warning(`input ${Input.KnownHosts} is deprecated: name it ${Input.SshKnownHosts} (the old name goes in the next major version)`);
  return old;
}

/** Mode merge: the reports input's paths and globs found in the workspace, then the merge rules the CLI's arguments go through too. */
function mergeInputs(reportDir: string, failOn: string | undefined): MergeInputs {
  // one a line: a glob's braces hold commas (reports/{a,b}/report.json)
  const patterns = text(Input.Reports)
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '');
  if (patterns.length === 0) throw new UsageError(`input ${Input.Reports} is required in mode merge: the report.json files of the runs to merge, e.g. reports/**/report.json`);
  const reports = namedForSync(ACTION_NAMES, () => reportPatterns(patterns, workspace()));
  return sharedMergeInputs({ reports, ...reportFiles(reportDir), failOn }, ACTION_NAMES);
}

/** Mode validate: over SSH only, the key and known_hosts given as a secret's text (known_hosts also as a file). */
function validateInputs(reportDir: string, failOn: string | undefined): ValidateInputs {
  const ssh = sshAddress();
  const key = core.getInput(Input.SshKey, { trimWhitespace: false });
  if (key.trim() === '') throw new UsageError(`input ${Input.SshKey} is required in mode validate: the private key's text, from a secret (e.g. \${{ secrets.DALIDOU_SSH_KEY }})`);
  const knownHosts = knownHostsInput();
  if (knownHosts === '') {
    throw new UsageError(`input ${Input.SshKnownHosts} is required in mode validate: the host's key lines (ssh-keyscan output, checked once), so the action never trusts an unknown host`);
  }
  const raw: RawValidateInputs = {
    ssh,
    identity: { text: key },
    // known_hosts lines always hold spaces; a path does not
    knownHosts: /\s/.test(knownHosts) ? { text: knownHosts } : { path: knownHosts },
    profile: given(Input.Profile),
    stampTimezone: given(Input.StampTimezone),
    root: given(Input.Root),
    rpo: given(Input.Rpo),
    timeout: given(Input.Timeout),
    deep: bool(Input.Deep),
    offhost: given(Input.Offhost),
    atocoreValidator: given(Input.AtocoreValidator),
    ...reportFiles(reportDir),
    failOn,
    ...historyFields(reportDir),
  };
  // the key comes from its input only, never from the runner's environment
  return sharedValidateInputs(raw, ACTION_NAMES, { base: workspace(), env: {} });
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

  const mode = oneOf(Input.Mode, ['drill', 'validate', 'merge', 'rehearse'] as const, 'drill');
  const failOnText = given(Input.FailOn);
  const failOn = namedForSync(ACTION_NAMES, () => failOnRule(failOnText));
  const publish = oneOf(Input.Publish, ['auto', 'check-run', 'commit-status', 'none'] as const, 'auto');
  if (githubToken === null && (publish === 'check-run' || publish === 'commit-status')) {
    throw new UsageError(`input ${Input.Publish}: ${publish} needs input ${Input.GithubToken} (the default is the job's token; was it set to an empty secret?)`);
  }
  const reportDir = reportDirectory();
  if (mode !== 'drill' && mode !== 'rehearse' && optional(Input.RtoBudget) !== null) throw new UsageError(`input ${Input.RtoBudget} is for modes drill and rehearse (only they measure an RTO); this run is mode ${mode}`);
  if (mode === 'merge' && optional(Input.History) !== null) throw new UsageError(`input ${Input.History} is for modes drill, validate and rehearse: a merge runs nothing to record`);
  const checkName = text(Input.CheckName) || defaultCheckName(mode, optional(Input.Profile));
  refuseInputsOfOtherModes(mode);
  const drill = mode === 'drill' ? drillInputs(reportDir, failOnText) : null;
  const validate = mode === 'validate' ? validateInputs(reportDir, failOnText) : null;
  const merge = mode === 'merge' ? mergeInputs(reportDir, failOnText) : null;
  const rehearse = mode === 'rehearse' ? rehearseInputs(reportDir, failOnText) : null;
  refuseInputsOfOtherModesThanRehearse(mode);
  if (mode === 'drill') {
    for (const name of [Input.SshHost, Input.SshKey, Input.SshKnownHosts, Input.KnownHosts, Input.Offhost, Input.AtocoreValidator, Input.StampTimezone]) {
      if (optional(name) !== null) throw new UsageError(`input ${name} is for mode validate; this run is mode drill`);
    }
  } else if (mode === 'validate') {
    for (const name of [Input.Image, Input.FromImage, Input.Command, Input.BackupCli, Input.Seed, Input.WorkDir, Input.Faults, Input.Drills, Input.ProfileVars]) {
      if (optional(name) !== null) throw new UsageError(`input ${name} is for mode drill; this run is mode validate`);
    }
  }
  return {
    mode,
    drill,
    validate,
    merge,
    rehearse,
    failOn,
    publish: githubToken === null ? 'none' : publish,
    githubToken,
    checkName,
    reportDir,
    secrets,
  };
}

/** A merge runs no drill and reaches no host: their inputs would be ignored, so they are refused; reports is merge's own. */
function refuseInputsOfOtherModes(mode: ActionInputs['mode']): void {
  if (mode !== 'merge') {
    if (optional(Input.Reports) !== null) throw new UsageError(`input ${Input.Reports} is for mode merge; this run is mode ${mode}`);
    return;
  }
  const drillOnly = [Input.Image, Input.FromImage, Input.Command, Input.BackupCli, Input.Seed, Input.WorkDir, Input.Faults, Input.Drills, Input.Timeout];
  const validateOnly = [Input.SshHost, Input.SshKey, Input.SshKnownHosts, Input.KnownHosts, Input.Offhost, Input.AtocoreValidator, Input.StampTimezone];
  for (const name of [...drillOnly, ...validateOnly]) {
    if (optional(name) !== null) throw new UsageError(`input ${name} is not for mode merge: a merge only reads the reports of runs that are done`);
  }
}

/**
 * Mode rehearse: over SSH like validate (the key and known_hosts as text), into a throwaway
 * AtoCore like drill (the stand-in, image or command); the rules are the CLI's.
 */
function rehearseInputs(reportDir: string, failOn: string | undefined): RehearseInputs {
  const key = core.getInput(Input.SshKey, { trimWhitespace: false });
  if (key.trim() === '') throw new UsageError(`input ${Input.SshKey} is required in mode rehearse: the private key's text, from a secret (e.g. \${{ secrets.DALIDOU_SSH_KEY }})`);
  const knownHosts = knownHostsInput();
  if (knownHosts === '') throw new UsageError(`input ${Input.SshKnownHosts} is required in mode rehearse: the host's key lines, so the action never trusts an unknown host`);
  return sharedRehearseInputs(
    {
      ssh: sshAddress('rehearse'),
      identity: { text: key },
      knownHosts: /\s/.test(knownHosts) ? { text: knownHosts } : { path: knownHosts },
      root: given(Input.Root),
      stamp: given(Input.Stamp),
      image: given(Input.Image),
      command: given(Input.Command),
      backupCli: given(Input.BackupCli),
      faults: list(Input.Faults),
      workDir: given(Input.WorkDir),
      sourcesRoot: given(Input.SourcesRoot),
      timeout: given(Input.Timeout),
      ...reportFiles(reportDir),
      failOn,
      ...historyFields(reportDir),
      rtoBudget: given(Input.RtoBudget),
      rpo: given(Input.Rpo),
    },
    ACTION_NAMES,
    // the key comes from its input only, never from the runner's environment
    { base: workspace(), env: {} },
  );
}

/** Inputs only a rehearsal reads are refused elsewhere; a rehearsal refuses what it would ignore (inputs with an empty default). */
function refuseInputsOfOtherModesThanRehearse(mode: ActionInputs['mode']): void {
  const rehearseOnly = [Input.Stamp, Input.SourcesRoot];
  const notForRehearse = [Input.FromImage, Input.Seed, Input.Drills, Input.Offhost, Input.AtocoreValidator];
  const refused = mode === 'rehearse' ? notForRehearse : rehearseOnly;
  for (const name of refused) {
    if (optional(name) !== null) throw new UsageError(`input ${name} is ${mode === 'rehearse' ? 'not for mode rehearse' : 'for mode rehearse'}; this run is mode ${mode}`);
  }
}

/** The post step reads only what it needs to finish what main opened: the token. */
export function readPostInputs(): { githubToken: string | null } {
  const githubToken = optional(Input.GithubToken);
  if (githubToken) core.setSecret(githubToken);
  return { githubToken };
}

/** The check run's name unless input check-name says otherwise: what is run, on which service (a profile's file names its own service). */
function defaultCheckName(mode: ActionInputs['mode'], profile: string | null): string {
  const name = DEFAULT_CHECK_NAME[mode];
  if (profile === null || profile === 'atocore' || mode === 'merge') return name;
  // a file's service is named by the profile itself, known once loaded: its file name stands in
  const service = /^[a-z][a-z0-9_-]*$/.test(profile) ? profile : (basename(profile).replace(/\.(ya?ml|json)$/i, '') || profile);
  return name.replace('AtoCore', service);
}

/** Whether input profile names the built-in AtoCore drill (empty: it does). */
function isAtoCoreProfile(profile: string | undefined): boolean {
  return profile === undefined || profile.trim() === '' || profile.trim() === 'atocore';
}
