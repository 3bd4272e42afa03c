/**
 * Names shared by action.yml, main and post. main records what it creates in GITHUB_STATE
 * as it goes (not at the end), so that post can remove or finish it even when main was
 * killed halfway.
 */
export const State = {
  /** the directory main created for everything a run writes (drill roots, key files) */
  WorkDir: 'work-dir',
  /** process | container | ssh: where leftovers may be */
  Runtime: 'runtime',
  /** JSON of a PublishedResource: the check run or commit status main opened */
  Published: 'published',
  /** owner/name the resource lives in */
  Repository: 'repository',
  /** the workflow run's URL (commit status target_url) */
  DetailsUrl: 'details-url',
  /** "true" once main has published its verdict and cleaned up */
  Finished: 'finished',
} as const;

export const Input = {
  Mode: 'mode',
  Image: 'image',
  FromImage: 'from-image',
  Command: 'command',
  BackupCli: 'backup-cli',
  IncludeChroma: 'include-chroma',
  Seed: 'seed',
  WorkDir: 'work-dir',
  Timeout: 'timeout',
  Faults: 'faults',
  Drills: 'drills',
  Profile: 'profile',
  ProfileVars: 'profile-vars',
  StampTimezone: 'stamp-timezone',
  SshHost: 'ssh-host',
  SshUser: 'ssh-user',
  SshPort: 'ssh-port',
  SshKey: 'ssh-key',
  SshKnownHosts: 'ssh-known-hosts',
  /** the old name of ssh-known-hosts, still read with a warning */
  KnownHosts: 'known-hosts',
  Root: 'root',
  Rpo: 'rpo',
  Deep: 'deep',
  Offhost: 'offhost',
  AtocoreValidator: 'atocore-validator',
  Stamp: 'stamp',
  SourcesRoot: 'sources-root',
  Reports: 'reports',
  FailOn: 'fail-on',
  GithubToken: 'github-token',
  CheckName: 'check-name',
  Publish: 'publish',
  ReportDir: 'report-dir',
  /** the run history's file, carried from run to run by the cache service (src/action/history.ts) */
  History: 'history',
  RtoBudget: 'rto-budget',
} as const;

export const Output = {
  Verdict: 'verdict',
  Report: 'report',
  Junit: 'junit',
  RtoMs: 'rto-ms',
  RpoS: 'rpo-s',
  BackupStamp: 'backup-stamp',
  CheckRunUrl: 'check-run-url',
} as const;

/** File names inside report-dir. */
export const ReportFile = {
  Json: 'report.json',
  Junit: 'junit.xml',
  Summary: 'summary.md',
  /** the run history's chart, with input history */
  Chart: 'history.svg',
} as const;

export const DEFAULT_CHECK_NAME = {
  drill: 'AtoCore restore drill',
  validate: 'AtoCore snapshot validation',
  merge: 'AtoCore drill (all targets)',
  rehearse: 'AtoCore snapshot rehearsal',
} as const;
