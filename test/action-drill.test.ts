import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { processesUnder } from '../src/action/leftovers.js';
import type { DrillReport } from '../src/report/model.js';
import { RunnerJob, TEST_SHA, actionCheckout, commands, parseFileCommands, type JobOptions } from './support/action-runner.js';
import { PROJECT_ROOT } from './support/cli.js';
import { LoopbackGitHubApi, type ApiBehaviour } from './support/github-api.js';
import { allRequestProblems } from './support/github-api-schema.js';
import { describeNeeding, dockerStatus } from './support/infra.js';

const work = mkdtempSync(join(tmpdir(), 'atocore-drill-action-'));
// the action as the runner downloads it: action.yml, dist/, fixtures/, no node_modules
const action = actionCheckout(work);
const HEAD = 'f00dfeed0123456789abcdef0123456789abcdef';
const STAMP = /^\d{8}T\d{6}Z$/;
const KEY = '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n';
const HOSTS = 'dalidou ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE';

let api: LoopbackGitHubApi | undefined;
const jobs: RunnerJob[] = [];
afterEach(async () => {
  await api?.close();
  api = undefined;
});
afterAll(() => {
  for (const job of jobs) rmSync(job.dir, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
});

async function job(behaviour: ApiBehaviour | null, options: JobOptions = {}): Promise<RunnerJob> {
  if (behaviour) api = await LoopbackGitHubApi.start(behaviour);
  const created = new RunnerJob(action, { ...(api ? { apiUrl: api.url, token: api.token } : {}), ...options });
  jobs.push(created);
  return created;
}

function report(path: string): DrillReport {
  return JSON.parse(readFileSync(path, 'utf8')) as DrillReport;
}

function bodies(): Array<Record<string, any>> {
  return api!.requests.map((r) => r.body as Record<string, any>);
}

/** Waits until `ready()` holds, polling; fails after `timeoutMs`. */
async function until(what: string, ready: () => boolean, timeoutMs = 60_000): Promise<void> {
  const started = Date.now();
  while (!ready()) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('mode drill, the embedded default, run as the runner runs it (node dist/main, then dist/post)', () => {
  it('writes the outputs, the job summary and the report files, and sends a schema-valid check run on the pull request head', async () => {
    const runner = await job('github', { pullRequestHead: HEAD });
    const main = await runner.run('main');
    expect(main.code, main.stdout + main.stderr).toBe(0);
    expect(commands(main.stdout, 'error')).toEqual([]);
    expect(commands(main.stdout, 'warning')).toEqual([]);

    // outputs
    const reportDir = join(runner.workspace, 'atocore-drill-report');
    expect(main.outputs).toMatchObject({ verdict: 'pass', report: join(reportDir, 'report.json'), junit: join(reportDir, 'junit.xml') });
    expect(Number(main.outputs['rto-ms'])).toBeGreaterThan(0);
    expect(main.outputs['rpo-s']).toMatch(/^\d+$/);
    expect(main.outputs['backup-stamp']).toMatch(STAMP);
    expect(main.outputs['check-run-url']).toBe(`${api!.url}/atocore/atocore/runs/4000001`);

    // the report files
    const json = report(main.outputs.report!);
    expect(json).toMatchObject({ schema: 'atocore-drill/report@1', kind: 'drill', verdict: 'pass' });
    expect(json.target.backup_stamp).toBe(main.outputs['backup-stamp']);
    expect(json.checks.find((c) => c.id === 'chroma.restored')?.status).toBe('pass');
    const junit = readFileSync(main.outputs.junit!, 'utf8');
    expect(junit).toContain('<testcase classname="atocore-drill.drill" name="marker.post_backup_gone"');
    expect(readFileSync(join(reportDir, 'summary.md'), 'utf8')).toContain('AtoCore restore drill: ✅ PASS');

    // the job summary: banner, timeline, checks, RTO/RPO, where the check run is
    const summary = runner.summary;
    expect(summary).toMatch(/^## AtoCore restore drill: ✅ PASS/);
    for (const part of ['| RTO | restore | RPO |', '### Steps', 'Restore with --confirm-service-stopped', '### Checks', '`backup.independent_integrity`']) expect(summary).toContain(part);
    expect(summary).toContain(`Check run: [AtoCore restore drill](${api!.url}/atocore/atocore/runs/4000001)`);
    expect(summary).toContain('Report files: `atocore-drill-report/report.json`');
    expect(summary).toContain('What each check means and what to do when it fails: https://github.example/atocore/atocore-drill/blob/v1/docs/checks.md');

    // the check run: created in progress on the PR head, completed with success; every request valid
    const requests = api!.requests.map((r) => `${r.method} ${r.path}`);
    expect(requests).toEqual(['POST /repos/atocore/atocore/check-runs', 'PATCH /repos/atocore/atocore/check-runs/4000001']);
    expect(allRequestProblems(api!.requests)).toEqual([]);
    const [start, finish] = bodies();
    expect(start).toMatchObject({ name: 'AtoCore restore drill', head_sha: HEAD, status: 'in_progress', details_url: 'https://github.example/atocore/atocore/actions/runs/987654321', external_id: '987654321' });
    expect(finish).toMatchObject({ status: 'completed', conclusion: 'success', output: { title: expect.stringMatching(/^PASS: 16\/16 checks, RTO /) } });
    expect(finish!.output.summary).toContain('https://github.example/atocore/atocore-drill/blob/v1/docs/checks.md');
    expect(finish!.output.text).toContain('### Checks');
    expect(finish!.output.annotations).toBeUndefined();
    for (const request of api!.requests) {
      expect(request.headers).toMatchObject({ authorization: `Bearer ${api!.token}`, accept: 'application/vnd.github+json', 'x-github-api-version': '2022-11-28', 'user-agent': 'atocore-drill-action' });
    }

    // the token is masked in the log; state recorded; main removed its work dir itself
    expect(commands(main.stdout, 'add-mask')).toContain(api!.token);
    expect(main.state).toMatchObject({ runtime: 'process', finished: 'true', repository: 'atocore/atocore' });
    expect(JSON.parse(main.state.published!)).toMatchObject({ kind: 'check-run', id: 4000001 });
    expect(main.state['work-dir']!.startsWith(runner.runnerTemp)).toBe(true);
    expect(existsSync(main.state['work-dir']!)).toBe(false);

    // post: nothing left, no API call, no warning
    const post = await runner.run('post');
    expect(post.code).toBe(0);
    expect(commands(post.stdout, 'warning')).toEqual([]);
    expect(post.stdout).toContain('nothing left behind');
    expect(api!.requests).toHaveLength(2);
  });

  it('a failing drill fails the step naming the check, and the check run fails with an annotation on the workflow file', async () => {
    const runner = await job('github', { inputs: { faults: 'restore-skips-registry', 'check-name': 'Drill with a fault' } });
    const main = await runner.run('main');
    expect(main.code).toBe(1);
    // the failing check as a workflow-command annotation (what fork PRs and Gitea show), then setFailed's line
    expect(commands(main.stdout, 'error')).toEqual(['the registry entry written after the backup (marker B) is still there: the registry was not restored', 'Drill with a fault: FAIL: 1 problem: registry.restored']);
    expect(main.stdout).toContain('::error title=registry.restored::');
    // each step a log group, its checks inside
    expect(main.stdout.match(/^::group::/gm)?.length).toBe(main.stdout.match(/^::endgroup::/gm)?.length);
    expect(main.stdout).toMatch(/::group::Restore with --confirm-service-stopped and check the files\n(?:(?!::endgroup::)[\s\S])*registry\.restored/);
    expect(main.outputs.verdict).toBe('fail');
    expect(allRequestProblems(api!.requests)).toEqual([]);
    const finish = bodies().at(-1)!;
    expect(finish).toMatchObject({ status: 'completed', conclusion: 'failure', output: { title: 'FAIL: 1 problem: registry.restored' } });
    expect(finish.output.annotations).toEqual([
      expect.objectContaining({ path: '.github/workflows/drill-monthly.yml', start_line: 1, end_line: 1, annotation_level: 'failure', title: 'registry.restored' }),
    ]);
    expect(finish.output.annotations[0].raw_details).toContain('sha256');
    expect(bodies()[0]!.head_sha).toBe(TEST_SHA);
    expect(runner.summary).toContain('## AtoCore restore drill: ❌ FAIL');
    expect(runner.summary).toContain('### Evidence');
    expect(readFileSync(main.outputs.junit!, 'utf8')).toMatch(/<failure message="[^"]*" type="registry.restored"/);
    expect((await runner.run('post')).code).toBe(0);
  });

  it('fail-on: warn makes a warning fail the step and the check run (a warn verdict with the seed\'s context probes removed)', async () => {
    const seed = join(work, 'seed-without-probes');
    mkdirSync(seed, { recursive: true });
    for (const name of ['project-registry.json', 'documents.json', 'memories.json']) writeFileSync(join(seed, name), readFileSync(join(PROJECT_ROOT, 'fixtures/seed', name)));
    const runner = await job('github', { inputs: { seed, 'fail-on': 'warn', 'include-chroma': 'false' } });
    const main = await runner.run('main');
    expect(main.outputs.verdict).toBe('warn');
    expect(main.code).toBe(1);
    // with fail-on warn the warning is what fails the run, and every output says so at failure level
    expect(bodies().at(-1)).toMatchObject({ conclusion: 'failure', output: { annotations: [expect.objectContaining({ annotation_level: 'failure', title: 'service.context' })] } });
  });
});

describe('the bundled SQLite addon', () => {
  it('a runner the action ships no addon for: the step fails saying so, and the check run says it could not run', async () => {
    const other = actionCheckout(mkdtempSync(join(work, 'no-addon-')));
    rmSync(join(other, 'dist/native', `${process.platform}-${process.arch}.node`));
    api = await LoopbackGitHubApi.start('github');
    const runner = new RunnerJob(other, { apiUrl: api.url, token: api.token });
    jobs.push(runner);
    const main = await runner.run('main');
    expect(main.code).toBe(1);
    expect(commands(main.stdout, 'error').at(-1)).toMatch(new RegExp(`could not run: this runner is ${process.platform}-${process.arch}( \\(glibc\\))?; the action ships SQLite for linux-`));
    expect(main.outputs.verdict).toBe('error');
    expect(bodies().at(-1)).toMatchObject({ conclusion: 'failure', output: { title: expect.stringMatching(/^could not run: this runner is/) } });
    expect(allRequestProblems(api.requests)).toEqual([]);
  });
});

describe('where the verdict goes when check runs are not there', () => {
  it('Gitea (GITEA_ACTIONS=true): commit statuses, pending then success, no Checks API call', async () => {
    const runner = await job('gitea', { env: { GITEA_ACTIONS: 'true' } });
    const main = await runner.run('main');
    expect(main.code, main.stdout).toBe(0);
    expect(api!.requests.map((r) => `${r.method} ${r.path}`)).toEqual([`POST /repos/atocore/atocore/statuses/${TEST_SHA}`, `POST /repos/atocore/atocore/statuses/${TEST_SHA}`]);
    expect(allRequestProblems(api!.requests)).toEqual([]);
    expect(bodies().map((b) => b.state)).toEqual(['pending', 'success']);
    expect(bodies()[1]).toMatchObject({ context: 'AtoCore restore drill', description: expect.stringMatching(/^PASS: 16\/16 checks/), target_url: 'https://github.example/atocore/atocore/actions/runs/987654321' });
    expect(runner.summary).toContain(`Commit status: \`AtoCore restore drill\` on \`${TEST_SHA.slice(0, 12)}\``);
    expect(main.outputs['check-run-url']).toBe('');
  });

  it('publish: none (as on a fork pull request): no check run, and the failing check is still an annotation on the run', async () => {
    const runner = await job('github', { inputs: { faults: 'restore-skips-registry', publish: 'none' } });
    const main = await runner.run('main');
    expect(main.code).toBe(1);
    expect(api!.requests.filter((r) => r.method !== 'GET')).toEqual([]);
    expect(main.stdout).toMatch(/^::error title=registry\.restored::the registry entry written after the backup \(marker B\) is still there/m);
  });

  it('a token without checks: write: a commit status instead, and the verdict is untouched', async () => {
    const runner = await job('no-checks-permission', { inputs: { faults: 'restore-skips-db' } });
    const main = await runner.run('main');
    expect(main.code).toBe(1);
    expect(main.outputs.verdict).toBe('fail');
    expect(main.stdout).toMatch(/check runs are not available \(POST .* answered 403: Resource not accessible by integration\); reporting a commit status/);
    expect(api!.statusRequests().map((r) => (r.body as { state: string }).state)).toEqual(['pending', 'failure']);
    expect(allRequestProblems(api!.requests)).toEqual([]);
  });

  it('the API host failing: warnings; the verdict, the outputs, the summary and the files are all still there', async () => {
    const runner = await job('failing');
    const main = await runner.run('main');
    expect(main.code).toBe(0);
    expect(main.outputs.verdict).toBe('pass');
    expect(commands(main.stdout, 'warning').join('\n')).toMatch(/could not create the check run "AtoCore restore drill" \(POST .*check-runs answered 500[\s\S]*could not publish the verdict as check run/);
    expect(runner.summary).toContain('## AtoCore restore drill: ✅ PASS');
    expect(runner.summary).toContain('Not published on the commit (see the warnings).');
    expect(existsSync(main.outputs.report!)).toBe(true);
    expect((await runner.run('post')).code).toBe(0);
  });

  it('no token: the job summary and the files only, no API call', async () => {
    const runner = await job('github', { inputs: { 'github-token': '' } });
    const main = await runner.run('main');
    expect(main.code).toBe(0);
    expect(main.stdout).toContain('input github-token is empty');
    expect(api!.requests).toEqual([]);
    expect(runner.summary).toContain('✅ PASS');
  });
});

describe('bad input fails the step with a message naming the input, before anything starts', () => {
  it.each([
    [{ mode: 'restore' }, 'input mode: "restore" is not one of drill, validate'],
    [{ timeout: 'soon' }, 'input timeout: "soon" is not a duration'],
    [{ timeout: '10' }, 'input timeout: "10" is not a duration'],
    [{ 'fail-on': 'sometimes' }, 'input fail-on: "sometimes" is not one of fail, warn'],
    [{ 'include-chroma': 'yes' }, 'input include-chroma: "yes" is not true or false'],
    [{ faults: 'restore-eats-cat' }, 'input faults: "restore-eats-cat" is not a stand-in fault'],
    [{ 'from-image': 'atocore:1' }, 'input from-image needs input image'],
    [{ command: 'python3 -m atocore' }, 'inputs command and backup-cli go together'],
    [{ command: 'python3 -m atocore > log', 'backup-cli': 'x' }, 'input command: "python3 -m atocore > log" uses shell syntax'],
    [{ seed: 'no/such/seed' }, 'input seed: '],
    [{ publish: 'email' }, 'input publish: "email" is not one of auto, check-run, commit-status, none'],
    [{ publish: 'check-run', 'github-token': '' }, 'input publish: check-run needs input github-token'],
    [{ 'ssh-host': 'dalidou' }, 'input ssh-host is for mode validate'],
    [{ mode: 'validate' }, 'input ssh-host is required in mode validate'],
    [{ mode: 'validate', 'ssh-host': 'dalidou', 'ssh-port': '0', 'ssh-known-hosts': HOSTS }, 'input ssh-port: "0" is not a port number'],
    [{ mode: 'validate', 'ssh-host': 'atocore@dalidou', 'ssh-known-hosts': 'x y z' }, 'input ssh-host: "atocore@dalidou" is not a host name'],
    [{ mode: 'validate', 'ssh-host': 'dalidou' }, 'input ssh-key is required in mode validate'],
    [{ mode: 'validate', 'ssh-host': 'dalidou', 'ssh-key': KEY }, 'input ssh-known-hosts is required in mode validate'],
    [{ mode: 'validate', 'ssh-host': 'dalidou', 'ssh-known-hosts': HOSTS, 'ssh-key': 'hunter2-not-a-key' }, 'input ssh-key: not a private key'],
    [{ mode: 'validate', 'ssh-host': 'dalidou', 'ssh-known-hosts': 'no/such/known_hosts', 'ssh-key': KEY }, 'input ssh-known-hosts: '],
    [{ mode: 'validate', 'ssh-host': 'dalidou', 'ssh-known-hosts': HOSTS, 'ssh-key': KEY, rpo: 'daily' }, 'input rpo: "daily" is not a duration'],
    [{ mode: 'validate', 'ssh-host': 'dalidou', 'ssh-known-hosts': HOSTS, 'ssh-key': KEY, root: 'srv/atocore' }, 'input root: "srv/atocore" is not an absolute path'],
    [{ mode: 'validate', 'ssh-host': 'dalidou', 'ssh-known-hosts': HOSTS, 'ssh-key': KEY, root: '/srv/$(reboot)' }, 'input root: "/srv/$(reboot)" must be an absolute path made of'],
    [{ mode: 'validate', 'ssh-host': 'dalidou', 'ssh-known-hosts': HOSTS, 'ssh-key': KEY, deep: 'yes' }, 'input deep: "yes" is not true or false'],
    [{ mode: 'validate', 'ssh-host': 'dalidou', 'ssh-known-hosts': HOSTS, 'ssh-key': KEY, offhost: 'nas:relative/path' }, 'input offhost: "nas:relative/path" is not [USER@]HOST[:PORT]:PATH'],
    [{ mode: 'validate', 'ssh-host': 'dalidou', 'ssh-known-hosts': HOSTS, 'ssh-key': KEY, image: 'atocore:2' }, 'input image is for mode drill'],
    [{ mode: 'validate', 'ssh-host': 'dalidou', 'ssh-known-hosts': HOSTS, 'known-hosts': HOSTS, 'ssh-key': KEY }, 'inputs ssh-known-hosts and known-hosts are both given'],
    [{ 'ssh-known-hosts': HOSTS }, 'input ssh-known-hosts is for mode validate'],
    [{ reports: 'reports/*.json' }, 'input reports is for mode merge; this run is mode drill'],
    [{ mode: 'merge' }, 'input reports is required in mode merge'],
    [{ mode: 'merge', reports: 'r.json', image: 'atocore:2' }, 'input image is not for mode merge'],
    [{ mode: 'merge', reports: 'r.json', 'ssh-host': 'dalidou' }, 'input ssh-host is not for mode merge'],
    [{ mode: 'merge', reports: 'r.json', 'work-dir': '.' }, 'input work-dir is not for mode merge'],
    [{ mode: 'merge', reports: '../elsewhere/report.json' }, 'input reports: "../elsewhere/report.json" is outside the workspace'],
    [{ mode: 'merge', reports: '/etc/passwd' }, 'input reports: "/etc/passwd" is outside the workspace'],
    [{ mode: 'merge', reports: 'reports/**/report.json' }, 'input reports: "reports/**/report.json" matches no file in the workspace'],
    [{ mode: 'merge', reports: 'missing.json' }, 'input reports: missing.json does not exist in the workspace'],
    [{ offhost: 'nas:/backups' }, 'input offhost is for mode validate'],
  ])('%j', async (inputs, message) => {
    const runner = await job('github', { inputs });
    const main = await runner.run('main', 30_000);
    expect(main.code).toBe(1);
    const errors = commands(main.stdout, 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain(message);
    // no report, but the verdict output says the run could not tell
    expect(main.outputs.verdict).toBe('error');
    expect(main.state).toEqual({});
    expect(api!.requests).toEqual([]);
    const post = await runner.run('post', 30_000);
    expect(post.code).toBe(0);
    expect(post.stdout).toContain('nothing to clean up');
  });

  it('profile: jellycore with profile-vars: the JellyCore plan drilled on the runner, the check run naming the service and each store not restored', async () => {
    const runner = await job('github', { inputs: { profile: 'jellycore', drills: 'restore' } });
    const main = await runner.run('main', 180_000);
    expect(main.code, main.stdout + main.stderr).toBe(1);
    expect(main.outputs.verdict).toBe('fail');
    const finish = bodies().at(-1)!;
    expect(finish.output.title).toMatch(/^FAIL: 7 problems: store\.messages_db\.restored, /);
    expect(runner.summary).toContain('## jellycore restore drill: ❌ FAIL');
    expect(bodies()[0]).toMatchObject({ name: 'jellycore restore drill' });
    expect(allRequestProblems(api!.requests)).toEqual([]);
    const corrected = await job(null, { inputs: { profile: 'jellycore', drills: 'restore', 'profile-vars': `scripts=${join(PROJECT_ROOT, 'fixtures/jellycore/corrected')}` } });
    const passed = await corrected.run('main', 180_000);
    expect(passed.code, passed.stdout + passed.stderr).toBe(0);
    expect(report(passed.outputs.report!).target).toMatchObject({ profile: 'jellycore', drills: ['restore'] });
  });

  it('a report-dir that is a file', async () => {
    const runner = await job(null, { inputs: { 'report-dir': 'reports' } });
    writeFileSync(join(runner.workspace, 'reports'), '');
    const main = await runner.run('main', 30_000);
    expect(commands(main.stdout, 'error')[0]).toMatch(/^input report-dir: .*reports is a file, not a directory/);
  });
});

describe('post cleans up what main created', () => {
  it('after main was killed (SIGKILL) mid-drill: stops AtoCore, removes the work dir, cancels the check run', async () => {
    const runner = await job('github');
    const started = runner.start('main');
    let workDir = '';
    await until('main to start AtoCore', () => {
      const state = parseFileCommands(readFileSync(started.stateFile, 'utf8'));
      workDir = state['work-dir'] ?? '';
      return workDir !== '' && state.published !== undefined && processesUnder(workDir).length > 0;
    });
    started.child.kill('SIGKILL');
    const main = await started.done;
    expect(main.signal).toBe('SIGKILL');
    expect(main.state.finished).toBeUndefined();
    // what main left: the service, still running, and its data
    expect(processesUnder(workDir).length).toBeGreaterThan(0);
    expect(existsSync(workDir)).toBe(true);

    const post = await runner.run('post');
    expect(post.code).toBe(0);
    expect(commands(post.stdout, 'warning')).toEqual([]);
    // the orphaned service may also die by itself on its broken pipes: what matters is that nothing is left
    expect(post.stdout).toContain(`post: removed what the run left behind: `);
    expect(processesUnder(workDir)).toEqual([]);
    expect(existsSync(workDir)).toBe(false);
    const last = api!.requests.at(-1)!;
    expect(`${last.method} ${last.path}`).toBe('PATCH /repos/atocore/atocore/check-runs/4000001');
    expect(last.body).toMatchObject({ status: 'completed', conclusion: 'cancelled', output: { title: 'Did not finish' } });
    expect(allRequestProblems(api!.requests)).toEqual([]);
  });

  it('post kills an AtoCore process main left running (one that would not stop by itself) and removes the dir', async () => {
    const runner = await job(null);
    const workDir = mkdtempSync(join(runner.runnerTemp, 'atocore-drill-'));
    const dataDir = join(workDir, 'atocore-drill-x', 'data');
    mkdirSync(dataDir, { recursive: true });
    // what a killed main leaves: a detached service process (its own group) on a data root under the work dir
    const leftover = spawn('sleep', ['300'], { detached: true, stdio: 'ignore', env: { ...process.env, ATOCORE_DATA_DIR: dataDir } });
    leftover.unref();
    const exited = new Promise<NodeJS.Signals | null>((resolve) => leftover.on('exit', (_code, signal) => resolve(signal)));
    await until('the leftover process', () => processesUnder(workDir).includes(leftover.pid!));
    runner.setMainState({ 'work-dir': workDir, runtime: 'process' });
    const post = await runner.run('post');
    expect(post.code).toBe(0);
    expect(commands(post.stdout, 'warning')).toEqual([]);
    expect(post.stdout).toContain(`post: removed what the run left behind: process ${leftover.pid}, ${workDir}`);
    expect(await exited).toBe('SIGKILL');
    expect(existsSync(workDir)).toBe(false);
  });

  it('after SIGTERM (a cancelled job): main tears down and reports "could not run"; post finds nothing', async () => {
    const runner = await job('github');
    const started = runner.start('main');
    let workDir = '';
    await until('main to start AtoCore', () => {
      workDir = parseFileCommands(readFileSync(started.stateFile, 'utf8'))['work-dir'] ?? '';
      return workDir !== '' && processesUnder(workDir).length > 0;
    });
    started.child.kill('SIGTERM');
    const main = await started.done;
    expect(main.code).toBe(1);
    expect(main.outputs.verdict).toBe('error');
    expect(commands(main.stdout, 'error').at(-1)).toMatch(/could not run: .*interrupted by SIGTERM/);
    expect(bodies().at(-1)).toMatchObject({ conclusion: 'failure', output: { title: expect.stringMatching(/^could not run: .*SIGTERM/) } });
    expect(processesUnder(workDir)).toEqual([]);
    expect(existsSync(workDir)).toBe(false);
    const post = await runner.run('post');
    expect(post.stdout).toContain('nothing left behind');
  });

  it('a Gitea commit status left pending is set to error', async () => {
    const runner = await job('gitea', { env: { GITEA_ACTIONS: 'true' } });
    const started = runner.start('main');
    await until('the pending status', () => parseFileCommands(readFileSync(started.stateFile, 'utf8')).published !== undefined);
    started.child.kill('SIGKILL');
    await started.done;
    const post = await runner.run('post');
    expect(post.code).toBe(0);
    expect(api!.statusRequests().map((r) => (r.body as { state: string }).state)).toEqual(['pending', 'error']);
    expect(allRequestProblems(api!.requests)).toEqual([]);
  });
});

describe('secrets', () => {
  it('a secret that shows up in what the drill reports is masked in the check run, the summary and the files', async () => {
    api = await LoopbackGitHubApi.start('github');
    // the token turns up in every path under RUNNER_TEMP, so in the steps' details
    const temp = join(work, `temp-${api.token}`);
    mkdirSync(temp);
    const masked = new RunnerJob(action, { apiUrl: api.url, token: api.token, env: { RUNNER_TEMP: temp } });
    jobs.push(masked);
    const main = await masked.run('main');
    expect(main.code, main.stdout).toBe(0);
    const everything = [JSON.stringify(api.requests.map((r) => r.body)), masked.summary, readFileSync(main.outputs.report!, 'utf8'), readFileSync(main.outputs.junit!, 'utf8')].join('\n');
    expect(everything).toContain(`temp-***`);
    expect(everything).not.toContain(api.token);
  });
});

describeNeeding('Docker', dockerStatus())('the action with containers', () => {
  describe('mode drill with an image (containers)', () => {
    let image = '';
    beforeAll(() => {
      image = execFileSync(join(PROJECT_ROOT, 'fixtures/atocore/build-image'), ['--schema-level', '1'], { encoding: 'utf8', timeout: 600_000 }).trim().split('\n').at(-1)!;
    }, 660_000);

    function containersOf(workDir: string): string[] {
      const ids = execFileSync('docker', ['ps', '-aq', '--no-trunc'], { encoding: 'utf8' }).split('\n').filter(Boolean);
      if (ids.length === 0) return [];
      return execFileSync('docker', ['inspect', '--format', '{{.Id}}{{range .Mounts}} {{.Source}}{{end}}', ...ids], { encoding: 'utf8' })
        .split('\n')
        .filter((line) => line.includes(`${workDir}/`))
        .map((line) => line.split(' ')[0]!);
    }

    it('main killed while AtoCore runs in its container: post removes the container and the work dir', async () => {
      const runner = await job('github', { inputs: { image } });
      const started = runner.start('main', 300_000);
      let workDir = '';
      await until(
        'the AtoCore container',
        () => {
          workDir = parseFileCommands(readFileSync(started.stateFile, 'utf8'))['work-dir'] ?? '';
          return workDir !== '' && containersOf(workDir).length > 0;
        },
        120_000,
      );
      started.child.kill('SIGKILL');
      await started.done;
      expect(containersOf(workDir).length).toBeGreaterThan(0);
      const post = await runner.run('post', 120_000);
      expect(post.code).toBe(0);
      expect(commands(post.stdout, 'warning')).toEqual([]);
      expect(post.stdout).toMatch(/container [0-9a-f]{12}/);
      expect(containersOf(workDir)).toEqual([]);
      expect(existsSync(workDir)).toBe(false);
      expect(api!.requests.at(-1)!.body).toMatchObject({ conclusion: 'cancelled' });
    }, 300_000);
  });
});
