import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readActionInputs } from '../src/action/inputs.js';
import { parseRehearseFlags } from '../src/cli/rehearse.js';
import type { DrillReport } from '../src/report/model.js';
import { planRehearsal, plannedCheckIds } from '../src/rehearsal/plan.js';
import { deploymentCheck, placeOfSourcePath, tallySourcePaths } from '../src/rehearsal/checks.js';
import { CLI, PROJECT_ROOT, readReport, runCli, statusOf } from './support/cli.js';
import { eventually, processesUnder } from './support/processes.js';
import { treeManifest } from './support/snapshot-tree.js';

const work = mkdtempSync(join(tmpdir(), 'atocore-drill-rehearse-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** An AtoCore root with one snapshot (or one more), made by the stand-in's own backup CLI from the seed. */
export function makeSnapshotRoot(root: string, options: { sourcesPrefix?: string; backupFaults?: string } = {}): void {
  execFileSync('python3', [join(PROJECT_ROOT, 'test/support/rehearsal-snapshot.py'), root, join(PROJECT_ROOT, 'fixtures/seed'), ...(options.sourcesPrefix ? [options.sourcesPrefix] : [])], {
    env: { ...process.env, PYTHONPATH: join(PROJECT_ROOT, 'fixtures/atocore'), PYTHONDONTWRITEBYTECODE: '1', REHEARSAL_FIXTURE_FAULTS: options.backupFaults ?? '' },
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 60_000,
  });
}

function snapshotsOf(root: string): string[] {
  return readdirSync(join(root, 'backups', 'snapshots')).sort();
}

/** A private TMPDIR per run: whatever the rehearsal leaves behind is seen there. */
function freshTmp(name: string): string {
  const tmp = join(work, `tmp-${name}-${Math.random().toString(36).slice(2, 8)}`);
  mkdirSync(tmp);
  return tmp;
}

async function rehearse(args: readonly string[], name: string): Promise<{ code: number | null; report: DrillReport | null; output: string; tmp: string }> {
  const tmp = freshTmp(name);
  const reportFile = join(work, `report-${name}-${Math.random().toString(36).slice(2, 8)}.json`);
  const run = await runCli(['rehearse', ...args, '--report-json', reportFile], { env: { TMPDIR: tmp }, timeoutMs: 120_000 });
  return { code: run.code, report: existsSync(reportFile) ? readReport(reportFile) : null, output: run.stdout + run.stderr, tmp };
}

function failing(report: DrillReport): string[] {
  return report.checks.filter((c) => c.status === 'fail').map((c) => c.id).sort();
}

describe('rehearse: the plan and the pure checks', () => {
  it('every check id is decided by exactly one step, teardown always runs', () => {
    const plan = planRehearsal();
    expect(plannedCheckIds(plan)).toEqual(['rehearsal.snapshot', 'rehearsal.deployment', 'rehearsal.integrity', 'rehearsal.health', 'rehearsal.stats', 'rehearsal.projects', 'rehearsal.context']);
    expect(plan.filter((s) => s.always).map((s) => s.id)).toEqual(['teardown']);
  });

  it('source paths: under the root, relative, or another deployment (whole segments only)', () => {
    expect(placeOfSourcePath('/srv/storage/atocore/sources/vault/a.md', '/srv/storage/atocore/sources')).toBe('inside');
    expect(placeOfSourcePath('/srv/storage/atocore/sources-old/vault/a.md', '/srv/storage/atocore/sources')).toBe('outside');
    expect(placeOfSourcePath('/srv/storage/atocore/sources/../../etc/passwd', '/srv/storage/atocore/sources')).toBe('outside');
    expect(placeOfSourcePath('incoming/projects/p04/a.md', '/srv/storage/atocore/sources')).toBe('relative');
    expect(placeOfSourcePath('C:\\Users\\me\\vault\\a.md', '/srv/storage/atocore/sources')).toBe('outside');
    expect(placeOfSourcePath('\\\\nas\\vault\\a.md', '/srv/storage/atocore/sources')).toBe('outside');
    expect(placeOfSourcePath('C:relative.md', '/srv/storage/atocore/sources')).toBe('relative');
    expect(deploymentCheck(tallySourcePaths([], '/s'), '/s').status).toBe('warn');
    expect(deploymentCheck(tallySourcePaths(['/s/a', 'b'], '/s'), '/s').status).toBe('pass');
    expect(deploymentCheck(tallySourcePaths(['/s/a', '/home/x/s/b'], '/s'), '/s')).toMatchObject({ status: 'fail', evidence: { outside: 1, outside_examples: ['/home/x/s/b'] } });
  });
});

describe('rehearse --dir, against the stand-in', () => {
  let good: string;
  let elsewhere: string;
  let twoWithBadNewest: string;

  beforeAll(() => {
    good = join(work, 'good');
    makeSnapshotRoot(good);
    elsewhere = join(work, 'elsewhere');
    makeSnapshotRoot(elsewhere, { sourcesPrefix: '/home/someone-else/atocore/sources' });
    twoWithBadNewest = join(work, 'two');
    makeSnapshotRoot(twoWithBadNewest);
    // one-second stamps: the second snapshot needs a second of its own
    execFileSync('sleep', ['1.1']);
    makeSnapshotRoot(twoWithBadNewest, { backupFaults: 'backup-corrupts-db' });
  }, 120_000);

  it('a good snapshot passes every check; the source is not changed and nothing stays behind', async () => {
    const before = treeManifest(good);
    const { code, report, output, tmp } = await rehearse(['--dir', good], 'good');
    expect(code, output).toBe(0);
    expect(report!.kind).toBe('rehearse');
    expect(report!.verdict).toBe('pass');
    expect(statusOf(report!)).toEqual({
      'rehearsal.snapshot': 'pass',
      'rehearsal.deployment': 'pass',
      'rehearsal.integrity': 'pass',
      'rehearsal.health': 'pass',
      'rehearsal.stats': 'pass',
      'rehearsal.projects': 'pass',
      'rehearsal.context': 'pass',
    });
    // every check names the step that decides it, and that step is in the report
    for (const c of report!.checks) expect(report!.steps.map((s) => s.id)).toContain(c.step);
    expect(report!.steps.map((s) => [s.id, s.status])).toEqual([
      ['select', 'pass'],
      ['inspect', 'pass'],
      ['restore', 'pass'],
      ['start', 'pass'],
      ['verify', 'pass'],
      ['teardown', 'pass'],
    ]);
    expect(report!.target.backup_stamp).toBe(snapshotsOf(good)[0]);
    const stats = report!.checks.find((c) => c.id === 'rehearsal.stats')!;
    expect(stats.evidence.expected).toEqual({ documents: 6, chunks: 14, memories: 12 });
    expect(report!.metrics.restore_ms).toBeGreaterThan(0);
    expect(report!.metrics.snapshot_bytes).toBeGreaterThan(0);
    expect(treeManifest(good)).toEqual(before);
    expect(readdirSync(tmp)).toEqual([]);
  });

  it('--history records each rehearsal and --rto-budget judges its RTO: rto.budget fails when exceeded, passes within it', async () => {
    const history = join(work, 'rehearsals.sqlite');
    const tight = await rehearse(['--dir', good, '--history', history, '--rto-budget', '1ms'], 'budget-tight');
    expect(tight.code, tight.output).toBe(1);
    expect(statusOf(tight.report!)['rto.budget']).toBe('fail');
    const loose = await rehearse(['--dir', good, '--history', history, '--rto-budget', '10m'], 'budget-loose');
    expect(loose.code, loose.output).toBe(0);
    expect(statusOf(loose.report!)['rto.budget']).toBe('pass');
    const printed = await runCli(['history', history, '--json']);
    expect(printed.code, printed.stderr).toBe(0);
    const runs = JSON.parse(printed.stdout) as { runs?: Array<{ kind: string; verdict: string }> } | Array<{ kind: string; verdict: string }>;
    const list = Array.isArray(runs) ? runs : (runs.runs ?? []);
    expect(list.map((r) => [r.kind, r.verdict])).toEqual([
      ['rehearse', 'fail'],
      ['rehearse', 'pass'],
    ]);
  });

  it('/stats that disagree with the snapshot database fail rehearsal.stats, and only that', async () => {
    const { code, report, output, tmp } = await rehearse(['--dir', good, '--fault', 'stats-lie'], 'stats-lie');
    expect(code, output).toBe(1);
    expect(failing(report!)).toEqual(['rehearsal.stats']);
    expect(report!.checks.find((c) => c.id === 'rehearsal.stats')!.message).toMatch(/documents 7 \(the snapshot holds 6\)/);
    expect(readdirSync(tmp)).toEqual([]);
  });

  // each check seen to fail, by the stand-in misbehaving exactly one way: the failing set, in both directions
  const FAULTS: ReadonlyArray<{ fault: string; fails: string[] }> = [
    { fault: 'context-ignores-project', fails: ['rehearsal.context'] },
    { fault: 'restore-skips-registry', fails: ['rehearsal.projects'] },
    // nothing restored: the service serves an empty database
    { fault: 'restore-skips-db', fails: ['rehearsal.context', 'rehearsal.integrity', 'rehearsal.stats'] },
  ];
  for (const { fault, fails } of FAULTS) {
    it(`fault ${fault} fails exactly ${fails.join(', ')}`, async () => {
      const { code, report, output } = await rehearse(['--dir', good, '--fault', fault], fault);
      expect(code, output).toBe(1);
      expect(failing(report!)).toEqual(fails);
    });
  }

  it('a service that exits on the restored data fails rehearsal.health; the checks after it are skipped', async () => {
    const tmp = freshTmp('exits');
    const reportFile = join(work, 'report-exits.json');
    const run = await runCli(['rehearse', '--dir', good, '--command', "python3 -c 'import sys; sys.exit(3)'", '--backup-cli', 'python3 -m atocore.ops.backup', '--report-json', reportFile], {
      env: { TMPDIR: tmp, PYTHONPATH: join(PROJECT_ROOT, 'fixtures/atocore') },
      timeoutMs: 120_000,
    });
    expect(run.code, run.stdout + run.stderr).toBe(1);
    const report = readReport(reportFile);
    expect(statusOf(report)).toMatchObject({ 'rehearsal.integrity': 'pass', 'rehearsal.health': 'fail', 'rehearsal.stats': 'skip', 'rehearsal.projects': 'skip', 'rehearsal.context': 'skip' });
    expect(report.checks.find((c) => c.id === 'rehearsal.health')!.message).toMatch(/exited with code 3/);
    expect(readdirSync(tmp)).toEqual([]);
  });

  it('a snapshot from another deployment fails rehearsal.deployment, and only that; --sources-root naming that deployment passes', async () => {
    const other = await rehearse(['--dir', elsewhere], 'elsewhere');
    expect(other.code, other.output).toBe(1);
    expect(failing(other.report!)).toEqual(['rehearsal.deployment']);
    expect(other.report!.checks.find((c) => c.id === 'rehearsal.deployment')!.message).toMatch(/6 of 6 source paths lie outside --sources-root \/srv\/storage\/atocore\/sources/);
    const theirs = await rehearse(['--dir', elsewhere, '--sources-root', '/home/someone-else/atocore/sources/'], 'elsewhere-root');
    expect(theirs.code, theirs.output).toBe(0);
    expect(theirs.report!.verdict).toBe('pass');
  });

  it('a newest snapshot whose database is damaged is passed over (found on the copy), the one before it rehearsed: a warning', async () => {
    const [older, newer] = snapshotsOf(twoWithBadNewest);
    const { code, report, output } = await rehearse(['--dir', twoWithBadNewest], 'two');
    expect(code, output).toBe(0);
    expect(report!.verdict).toBe('warn');
    expect(report!.target.backup_stamp).toBe(older);
    const selected = report!.checks.find((c) => c.id === 'rehearsal.snapshot')!;
    expect(selected.status).toBe('warn');
    expect(selected.message).toContain(`${newer}: snapshot.integrity`);
    // asked for by --stamp, the damaged one is a failure: it does not validate
    const asked = await rehearse(['--dir', twoWithBadNewest, '--stamp', newer!], 'two-stamp');
    expect(asked.code, asked.output).toBe(1);
    expect(statusOf(asked.report!)['rehearsal.snapshot']).toBe('fail');
    expect(asked.report!.checks.filter((c) => c.id !== 'rehearsal.snapshot').every((c) => c.status === 'skip')).toBe(true);
    expect(readdirSync(asked.tmp)).toEqual([]);
  });

  it('an absent root, a root without snapshots and an unknown stamp are bad input (exit 2), each named', async () => {
    const absent = await rehearse(['--dir', join(work, 'no-such-root')], 'absent');
    expect(absent.code).toBe(2);
    expect(absent.output).toContain(`--dir: ${join(work, 'no-such-root')} is not a directory`);
    const empty = join(work, 'empty-root');
    mkdirSync(empty);
    const noSnapshots = await rehearse(['--dir', empty], 'empty');
    expect(noSnapshots.code).toBe(2);
    expect(noSnapshots.output).toMatch(/--dir: no snapshots directory under/);
    expect(readdirSync(noSnapshots.tmp)).toEqual([]);
    const unknown = await rehearse(['--dir', good, '--stamp', '20200101T000000Z'], 'unknown-stamp');
    expect(unknown.code).toBe(2);
    expect(unknown.output).toMatch(/--stamp: no snapshot 20200101T000000Z/);
    expect(readdirSync(unknown.tmp)).toEqual([]);
    const both = await rehearse(['--dir', good, '--ssh', 'me@host:/srv/atocore'], 'both');
    expect(both.code).toBe(2);
  });

  it('SIGTERM while the throwaway AtoCore starts: exit 3, the checks it prevented skipped, no temp root and no process left', async () => {
    const tmp = freshTmp('sigterm');
    const reportFile = join(work, 'report-sigterm.json');
    const child = spawn(process.execPath, [CLI, 'rehearse', '--dir', good, '--fault', 'slow-start', '--report-json', reportFile], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, TMPDIR: tmp },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
    // the copy is in the temp root by then, and the service is being started on it
    expect(await eventually(() => output.includes('… Start the throwaway AtoCore'), 60_000), output).toBe(true);
    const root = readdirSync(tmp).find((name) => name.startsWith('atocore-drill-'));
    expect(root, output).toBeDefined();
    expect(readdirSync(join(tmp, root!, 'backups', 'snapshots')).length).toBeGreaterThan(0);
    child.kill('SIGTERM');
    const code = await closed;
    expect(code, output).toBe(3);
    const report = readReport(reportFile);
    expect(report.verdict).toBe('error');
    expect(statusOf(report)).toMatchObject({ 'rehearsal.snapshot': 'pass', 'rehearsal.health': 'skip', 'rehearsal.stats': 'skip', 'rehearsal.context': 'skip' });
    expect(report.steps.find((s) => s.id === 'start')!.status).toBe('error');
    expect(readdirSync(tmp)).toEqual([]);
    expect(processesUnder(tmp)).toEqual([]);
  });
});

describe('rehearse: a root this user cannot read', () => {
  it.runIf(process.getuid?.() === 0)('is bad input (exit 2) naming it (run as nobody: root reads everything)', async () => {
    const locked = join(work, 'locked');
    mkdirSync(locked, { mode: 0o700 });
    const tmp = freshTmp('locked');
    chmodSync(tmp, 0o777);
    chmodSync(work, 0o755);
    const run = await runCli(['rehearse', '--dir', locked], { env: { TMPDIR: tmp }, timeoutMs: 60_000, wrap: ['runuser', '-u', 'nobody', '--'] });
    expect(run.code, run.stdout + run.stderr).toBe(2);
    expect(run.stderr).toContain(`--dir: ${locked} is not a directory this user can read`);
    expect(readdirSync(tmp)).toEqual([]);
  });
});

describe('rehearse: the action and the CLI, one set of rules', () => {
  const saved = { ...process.env };
  const KEY = '-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n';
  let knownHosts: string;
  let keyFile: string;
  beforeAll(() => {
    knownHosts = join(work, 'known_hosts');
    keyFile = join(work, 'id_test');
    writeFileSync(knownHosts, '');
    writeFileSync(keyFile, KEY);
  });
  function withInputs<T>(values: Record<string, string>, read: () => T): T {
    for (const name of Object.keys(process.env)) if (name.startsWith('INPUT_')) delete process.env[name];
    process.env.GITHUB_WORKSPACE = work;
    for (const [name, value] of Object.entries(values)) process.env[`INPUT_${name.toUpperCase()}`] = value;
    try {
      return read();
    } finally {
      process.env = { ...saved };
    }
  }

  it('the same rehearsal, asked for by flags and by inputs, is the same typed object but for the key and the report files', () => {
    const action = withInputs(
      { mode: 'rehearse', 'ssh-host': 'dalidou', 'ssh-user': 'backup', 'ssh-port': '2222', 'ssh-key': KEY, 'ssh-known-hosts': 'known_hosts', root: '/srv/atocore', stamp: '20260407T060000Z', image: 'atocore:2', 'sources-root': '/srv/atocore/sources', timeout: '20m' },
      () => readActionInputs(),
    );
    expect(action.mode).toBe('rehearse');
    const cli = parseRehearseFlags({ ssh: 'backup@dalidou:2222:/srv/atocore', knownHosts, identity: keyFile, stamp: '20260407T060000Z', image: 'atocore:2', sourcesRoot: '/srv/atocore/sources/', timeout: '20m' });
    const { identity: actionKey, reportJson, junit, summary, ...fromInputs } = action.rehearse!;
    const { identity: cliKey, reportJson: noJson, ...fromFlags } = cli;
    expect(actionKey?.kind).toBe('text');
    expect(cliKey).toEqual({ kind: 'file', path: keyFile });
    expect(reportJson).toBe(join(work, 'atocore-drill-report', 'report.json'));
    expect([fromInputs.timeoutName, fromFlags.timeoutName]).toEqual(['input timeout', '--timeout']);
    expect({ ...fromInputs, junit: null, summary: null, timeoutName: '' }).toEqual({ ...fromFlags, junit: null, summary: null, timeoutName: '' });
    expect(cli.runtime).toBe('container');
    expect(cli.source).toEqual({ kind: 'ssh', address: { user: 'backup', host: 'dalidou', port: 2222 }, root: '/srv/atocore' });
    expect(noJson).toBeNull();
    expect(junit).toBeTruthy();
    expect(summary).toBeTruthy();
  });

  it('each entry refuses what a rehearsal cannot take, naming it its own way', () => {
    expect(() => parseRehearseFlags({ ssh: 'me@dalidou:/srv/a', root: '/srv/b', knownHosts, identity: keyFile })).toThrow(/the AtoCore root is given twice: in --ssh \(HOST:\/PATH\) and in --root/);
    expect(() => parseRehearseFlags({ dir: work, sourcesRoot: 'relative/sources' })).toThrow(/--sources-root: "relative\/sources" is not an absolute path/);
    expect(() => parseRehearseFlags({ dir: work, stamp: 'yesterday' })).toThrow(/--stamp/);
    expect(() => parseRehearseFlags({ dir: work, fault: ['stats-lie'], command: 'x', backupCli: 'y' })).toThrow(/--fault/);
    expect(() => parseRehearseFlags({ dir: work, knownHosts, sshKnownHosts: knownHosts })).toThrow(/same flag/);
    expect(() => withInputs({ mode: 'rehearse', 'ssh-host': 'dalidou', 'ssh-key': KEY, 'ssh-known-hosts': 'known_hosts', seed: 'x' }, () => readActionInputs())).toThrow(/input seed is not for mode rehearse/);
    expect(() => withInputs({ mode: 'rehearse', 'ssh-key': KEY, 'ssh-known-hosts': 'known_hosts' }, () => readActionInputs())).toThrow(/input ssh-host is required in mode rehearse/);
    expect(() => withInputs({ mode: 'drill', stamp: '20260407T060000Z' }, () => readActionInputs())).toThrow(/input stamp is for mode rehearse; this run is mode drill/);
    expect(() => withInputs({ mode: 'rehearse', 'ssh-host': 'dalidou', 'ssh-key': KEY, 'ssh-known-hosts': 'known_hosts', 'sources-root': 'x' }, () => readActionInputs())).toThrow(/input sources-root: "x" is not an absolute path/);
  });
});
