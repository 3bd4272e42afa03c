import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { SnapshotStamp } from '../src/atocore/stamp.js';
import { runCleanup } from '../src/cleanup/cleanup.js';
import { judgeLeftover } from '../src/cleanup/judge.js';
import { drillRootOfEnvironment, drillRootOfMounts, markDrillRoot, parseRootMark, readRootMark, releaseDrillRoot, ROOT_MARK_FILE } from '../src/cleanup/marks.js';
import { currentProcessIdentity, ownerState } from '../src/cleanup/owner.js';
import { signalTargets } from '../src/cleanup/processes.js';
import { layoutUnder } from '../src/runtimes/types.js';
import { CLI, PROJECT_ROOT, readReport, runCli } from './support/cli.js';
import { describeNeeding, dockerStatus } from './support/infra.js';
import { buildSnapshotTree, FIXTURE_NOW } from './support/snapshot-tree.js';
import { eventually, groupAlive, processesUnder, stubbornScript } from './support/processes.js';

const work = mkdtempSync(join(tmpdir(), 'atocore-drill-cleanup-'));
const started: ChildProcess[] = [];
afterAll(() => {
  for (const child of started) {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // gone
    }
  }
  rmSync(work, { recursive: true, force: true });
});

const HOUR = 3_600_000;
const me = currentProcessIdentity();
/** A process that has finished: its pid is gone, or taken by another with another start time. */
const finished = { ...me, pid: spawnSync('true').pid!, start: '1' };

function markFile(owner: object, createdAt = new Date().toISOString()): string {
  return JSON.stringify({ schema: 'atocore-drill/root@1', owner, created_at: createdAt });
}

/** A drill root as the runtimes lay it out, with a mark naming `owner`. */
function fakeRoot(parent: string, name: string, mark: string | null): string {
  const root = join(parent, name);
  const layout = layoutUnder(root);
  for (const dir of [layout.chromaDir, layout.configDir, layout.snapshotsDir, join(layout.dataDir, 'db')]) mkdirSync(dir, { recursive: true });
  writeFileSync(layout.dbPath, 'not really a database');
  if (mark !== null) writeFileSync(join(root, ROOT_MARK_FILE), mark);
  return root;
}

function scratch(name: string): string {
  const dir = join(work, name);
  mkdirSync(dir);
  return dir;
}

/** A stand-in for a leftover service: a process group of its own with the given environment. */
function leftoverProcess(env: Record<string, string>): ChildProcess {
  const child = spawn('sleep', ['300'], { env: { PATH: process.env.PATH, ...env }, detached: true, stdio: 'ignore' });
  started.push(child);
  return child;
}

function drillEnv(root: string): Record<string, string> {
  const layout = layoutUnder(root);
  return { ATOCORE_DATA_DIR: layout.dataDir, ATOCORE_BACKUP_DIR: layout.backupDir, ATOCORE_PROJECT_REGISTRY_PATH: layout.registryPath };
}

describe('the rule: what runs is never touched, nor what carries no mark, nor what is young', () => {
  const now = Date.parse('2026-05-01T12:00:00Z');
  it.each([
    [{ kind: 'marked', owner: 'alive', ownerPid: 7 }, now - 10 * HOUR, 0, /still running \(pid 7\)/],
    [{ kind: 'unmarked' }, now - 10 * HOUR, 0, /carries no mark/],
    [{ kind: 'marked', owner: 'dead', ownerPid: 7 }, now - 30 * 60_000, HOUR, /younger than 1h00m \(30m00s old\)/],
    [{ kind: 'missing' }, null, 0, /age cannot be told/],
    [{ kind: 'missing' }, now + HOUR, 0, /younger than/],
    [{ kind: 'marked', owner: 'dead', ownerPid: 7 }, now - 2 * HOUR, HOUR, null],
    [{ kind: 'marked', owner: 'unknown', ownerPid: 7 }, now - 2 * HOUR, HOUR, null],
    [{ kind: 'missing' }, now - 2 * HOUR, HOUR, null],
  ] as const)('%j, made at %s, --older-than %s', (standing, createdAt, olderThan, kept) => {
    const decision = judgeLeftover(standing, createdAt, now, olderThan);
    expect(decision).toEqual(kept === null ? { remove: true } : { remove: false, why: expect.stringMatching(kept) });
  });

  it('a root is known by its exact layout, from a process environment or container mounts', () => {
    const root = '/tmp/atocore-drill-Ab12Cd';
    expect(drillRootOfEnvironment(new Map(Object.entries(drillEnv(root))))).toBe(root);
    // a real AtoCore, a root of another name, a layout that does not add up: not the harness's
    expect(drillRootOfEnvironment(new Map(Object.entries(drillEnv('/srv/storage/atocore'))))).toBeNull();
    expect(drillRootOfEnvironment(new Map(Object.entries(drillEnv('/tmp/atocore-drill-Ab12Cd-extra'))))).toBeNull();
    expect(drillRootOfEnvironment(new Map(Object.entries({ ...drillEnv(root), ATOCORE_BACKUP_DIR: '/srv/backups' })))).toBeNull();
    expect(drillRootOfEnvironment(new Map([['ATOCORE_DATA_DIR', `${root}/data`]]))).toBeNull();
    expect(drillRootOfMounts(['/var/lib/x', `${root}/data/chroma`])).toBe(root);
    expect(drillRootOfMounts([`${root}/elsewhere`, '/tmp/atocore-drill-Ab12Cd'])).toBeNull();
  });

  it('a mark is read only when it is one: schema, owner, time', () => {
    expect(parseRootMark(markFile(me))).toMatchObject({ owner: me });
    for (const text of ['', 'null', '[]', '{"schema":"atocore-drill/root@1"}', markFile({ ...me, pid: -1 }), markFile({ ...me, pid: 1.5 }), markFile(me, 'yesterday'), markFile({ pid: 5 }), '{"schema":"other","owner":{},"created_at":""}']) {
      expect(parseRootMark(text), text).toBeNull();
    }
  });

  it('an owner is alive only while the very process runs', () => {
    expect(ownerState(me)).toBe('alive');
    expect(ownerState(finished)).toBe('dead');
    expect(ownerState({ ...me, start: String(Number(me.start) + 1) })).toBe('dead');
    expect(ownerState({ ...me, boot: 'another-boot' })).toBe('dead');
    expect(ownerState({ ...me, host: 'another-host.example' })).toBe('unknown');
  });

  it('a group is signalled as a group only when its leader is a drill process', () => {
    const p = (pid: number, pgid: number) => ({ pid, pgid, root: '/tmp/atocore-drill-Ab12Cd', command: 'x' });
    expect(signalTargets([p(11, 10), p(10, 10), p(20, 5)]).map((t) => [t.group, t.id, t.members.map((m) => m.pid)])).toEqual([
      [true, 10, [10, 11]],
      [false, 20, [20]],
    ]);
  });
});

describe('cleanup on real files and processes (limited to a folder of its own)', () => {
  it('removes a dead run\'s marked root once old enough; leaves a live run\'s, an unmarked one, and hostile look-alikes', async () => {
    const dir = scratch('roots');
    const dead = fakeRoot(dir, 'atocore-drill-Dead01', markFile(finished, new Date(Date.now() - 2 * HOUR).toISOString()));
    const live = fakeRoot(dir, 'atocore-drill-Live01', null);
    await markDrillRoot(live);
    const unmarked = fakeRoot(dir, 'atocore-drill-Kept01', null);
    const otherName = fakeRoot(dir, 'atocore-drill-data', markFile(finished));
    const fifo = fakeRoot(dir, 'atocore-drill-Fifo01', null);
    execFileSync('mkfifo', [join(fifo, ROOT_MARK_FILE)]);
    const linkedMark = fakeRoot(dir, 'atocore-drill-Link01', null);
    const elsewhere = markFile(finished);
    writeFileSync(join(work, 'elsewhere.json'), elsewhere);
    symlinkSync(join(work, 'elsewhere.json'), join(linkedMark, ROOT_MARK_FILE));
    const huge = fakeRoot(dir, 'atocore-drill-Huge01', `${markFile(finished)}${' '.repeat(10_000)}`);
    const target = fakeRoot(work, 'atocore-drill-Targt1', markFile(finished));
    symlinkSync(target, join(dir, 'atocore-drill-Symln1'));

    const young = await runCleanup({ olderThanMs: 3 * HOUR, dryRun: false, under: dir, containers: false });
    expect(young.removed).toEqual([]);
    expect(young.left).toEqual(
      expect.arrayContaining([expect.stringMatching(/^drill root .*atocore-drill-Dead01 .*younger than 3h00m/), expect.stringMatching(/^drill root .*atocore-drill-Live01 .*still running/)]),
    );
    const dry = await runCleanup({ olderThanMs: 0, dryRun: true, under: dir, containers: false });
    expect(dry.removed).toEqual([expect.stringMatching(/^would remove drill root .*atocore-drill-Dead01/)]);
    expect(existsSync(dead)).toBe(true);

    const outcome = await runCleanup({ olderThanMs: 0, dryRun: false, under: dir, containers: false });
    expect(outcome.removed).toEqual([expect.stringMatching(/^removed drill root .*atocore-drill-Dead01 \(made 2h00m ago by pid \d+\)$/)]);
    expect(outcome.problems).toEqual([]);
    expect(existsSync(dead)).toBe(false);
    for (const kept of [live, unmarked, otherName, fifo, linkedMark, huge, target, join(dir, 'atocore-drill-Symln1')]) expect(existsSync(kept), kept).toBe(true);
    expect(readFileSync(join(work, 'elsewhere.json'), 'utf8')).toBe(elsewhere);
  });

  it('a dead run\'s validate scratch dir goes too, by its own name', async () => {
    const dir = scratch('validate-scratch');
    const scratchDir = join(dir, 'atocore-drill-validate-Abc123');
    mkdirSync(join(scratchDir, 'atocore-drill-sqlite-x'), { recursive: true });
    writeFileSync(join(scratchDir, ROOT_MARK_FILE), markFile(finished));
    const outcome = await runCleanup({ olderThanMs: 0, dryRun: false, under: dir, containers: false });
    expect(outcome.removed).toEqual([expect.stringMatching(/^removed validate scratch dir .*atocore-drill-validate-Abc123 \(made .* ago by pid \d+\)$/)]);
    expect(existsSync(scratchDir)).toBe(false);
  });

  it('a kept root (--keep) loses its mark and is the user\'s from then on', async () => {
    const dir = scratch('kept');
    const root = fakeRoot(dir, 'atocore-drill-Kept02', null);
    await markDrillRoot(root);
    expect(readRootMark(root)).toMatchObject({ owner: { pid: process.pid } });
    await releaseDrillRoot(root);
    expect(readRootMark(root)).toBeNull();
    expect((await runCleanup({ olderThanMs: 0, dryRun: false, under: dir, containers: false })).removed).toEqual([]);
    expect(existsSync(root)).toBe(true);
  });

  it('stops a process group running on a gone drill root; leaves processes whose variables are not the harness\'s', async () => {
    const dir = scratch('processes');
    const orphan = leftoverProcess(drillEnv(join(dir, 'atocore-drill-Gone01')));
    const real = leftoverProcess(drillEnv(join(dir, 'srv-atocore')));
    const mixed = leftoverProcess({ ...drillEnv(join(dir, 'atocore-drill-Mixd01')), ATOCORE_BACKUP_DIR: join(dir, 'backups') });
    const onUnmarked = leftoverProcess(drillEnv(fakeRoot(dir, 'atocore-drill-Kept03', null)));
    expect(await eventually(() => processesUnder(dir).length === 4, 5_000)).toBe(true);

    const outcome = await runCleanup({ olderThanMs: 0, dryRun: false, under: dir, containers: false });
    expect(outcome.removed).toEqual([expect.stringMatching(new RegExp(`^removed process group ${orphan.pid} \\(sleep 300, started .* ago\\) on .*atocore-drill-Gone01$`))]);
    expect(outcome.left).toEqual([expect.stringMatching(new RegExp(`^process group ${onUnmarked.pid} .*carries no mark`))]);
    expect(await eventually(() => !groupAlive(orphan.pid!), 5_000)).toBe(true);
    for (const child of [real, mixed, onUnmarked]) expect(groupAlive(child.pid!)).toBe(true);
  });
});

/** A drill CLI started for real, in a temp dir of its own. */
function startDrill(tmp: string, args: readonly string[], env: NodeJS.ProcessEnv = {}): { child: ChildProcess; output(): string } {
  const child = spawn(process.execPath, [CLI, 'drill', ...args], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, TMPDIR: tmp, TESTCONTAINERS_RYUK_DISABLED: 'true', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  return { child, output: () => out };
}

async function sigkill(child: ChildProcess): Promise<void> {
  const closed = new Promise((resolve) => child.on('close', resolve));
  child.kill('SIGKILL');
  await closed;
}

function drillRoots(tmp: string): string[] {
  return readdirSync(tmp).filter((n) => /^atocore-drill-[A-Za-z0-9]{6}$/.test(n));
}

describe('atocore-drill cleanup after a drill was killed (SIGKILL)', () => {
  it('leaves a running drill alone; after the SIGKILL removes what it left (a backup CLI that ignores SIGTERM too, and the root), only once old enough', async () => {
    const tmp = scratch('killed-process');
    const stubborn = stubbornScript(scratch('killed-process-scripts'));
    // the stand-in as "your AtoCore" with a backup CLI that hangs in the backup's validate: the drill is mid-run, the service idle
    const drill = startDrill(tmp, ['--command', 'python3 -m atocore', '--backup-cli', stubborn.argv], { PYTHONPATH: join(PROJECT_ROOT, 'fixtures/atocore') });
    if (!(await eventually(stubborn.ready, 90_000))) throw new Error(drill.output());
    const hung = stubborn.pid();
    started.push({ pid: hung } as ChildProcess);

    const live = await runCli(['cleanup', '--older-than', '0s', '--under', tmp], { timeoutMs: 60_000 });
    expect(live.code, live.stderr).toBe(0);
    expect(live.stdout).toMatch(/^left process group \d+ \(.*python3 -m atocore.*\) on .*: its drill is still running \(pid \d+\)$/m);
    expect(live.stdout).toMatch(new RegExp(`^left process group ${hung} \\(sh .*stubborn.sh.*: its drill is still running`, 'm'));
    expect(live.stdout).toMatch(/^left drill root .*: its drill is still running/m);
    expect(live.stdout).toContain('nothing to remove');

    await sigkill(drill.child);
    expect(groupAlive(hung)).toBe(true);
    expect(drillRoots(tmp)).toHaveLength(1);

    const young = await runCli(['cleanup', '--under', tmp], { timeoutMs: 60_000 });
    expect(young.code).toBe(0);
    expect(young.stdout).toMatch(new RegExp(`^left process group ${hung} .*younger than 1h00m`, 'm'));
    const dry = await runCli(['cleanup', '--older-than', '0s', '--under', tmp, '--dry-run'], { timeoutMs: 60_000 });
    expect(dry.stdout).toMatch(new RegExp(`^would remove process group ${hung} `, 'm'));
    expect(groupAlive(hung)).toBe(true);
    expect(drillRoots(tmp)).toHaveLength(1);

    const cleanup = await runCli(['cleanup', '--older-than', '0s', '--under', tmp], { timeoutMs: 60_000 });
    expect(cleanup.code, cleanup.stderr).toBe(0);
    expect(cleanup.stdout).toMatch(new RegExp(`^removed process group ${hung} \\(sh .*stubborn.sh validate \\d{8}T\\d{6}Z, started .* ago\\) on ${tmp}/atocore-drill-\\w{6}$`, 'm'));
    expect(cleanup.stdout).toMatch(/^removed drill root .*atocore-drill-\w{6} \(made .* ago by pid \d+\)$/m);
    // the orphaned service may also have died by itself on its broken pipes: what matters is that nothing is left
    expect(processesUnder(tmp)).toEqual([]);
    expect(groupAlive(hung)).toBe(false);
    expect(drillRoots(tmp)).toEqual([]);
  });

  it('a validate run killed while its validator runs: its scratch dir goes', async () => {
    const tmp = scratch('killed-validate');
    const tree = join(scratch('killed-validate-tree'), 'atocore');
    buildSnapshotTree(tree, { snapshots: [{ stamp: '20260408T060000Z' as SnapshotStamp, kind: 'good' }] });
    const stubborn = stubbornScript(scratch('killed-validate-scripts'));
    const child = spawn(process.execPath, [CLI, 'validate', '--dir', tree, '--atocore-validator', `${stubborn.argv} {stamp}`, '--now', FIXTURE_NOW], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, TMPDIR: tmp },
      stdio: 'ignore',
    });
    if (!(await eventually(stubborn.ready, 60_000))) throw new Error('the validator never ran');
    started.push({ pid: stubborn.pid() } as ChildProcess);
    await sigkill(child);
    expect(readdirSync(tmp)).toEqual([expect.stringMatching(/^atocore-drill-validate-\w{6}$/)]);
    const cleanup = await runCli(['cleanup', '--older-than', '0s', '--under', tmp], { timeoutMs: 60_000 });
    expect(cleanup.code, cleanup.stderr).toBe(0);
    expect(cleanup.stdout).toMatch(/^removed validate scratch dir .*atocore-drill-validate-\w{6} \(made .* ago by pid \d+\)$/m);
    expect(readdirSync(tmp)).toEqual([]);
  });

  it('a root kept with --keep is never removed', async () => {
    const tmp = scratch('kept-drill');
    const json = join(tmp, 'report.json');
    const run = await runCli(['drill', '--keep', '--report-json', json], { env: { TMPDIR: tmp }, timeoutMs: 180_000 });
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const root = String(readReport(json).target.data_root);
    expect(existsSync(join(root, ROOT_MARK_FILE))).toBe(false);
    const cleanup = await runCli(['cleanup', '--older-than', '0s', '--under', tmp], { timeoutMs: 60_000 });
    expect(cleanup.stdout).toBe('nothing to remove\n');
    expect(existsSync(root)).toBe(true);
  });

  it.each([
    [['cleanup', '--older-than', 'soon'], /--older-than: "soon" is not a duration/],
    [['cleanup', '--older-than', '-1h'], /--older-than/],
    [['cleanup', '--older-than', '0'], /--older-than: "0" is not a duration/],
    [['cleanup', '--older-than', '999999999999d'], /--older-than: "999999999999d" is too long/],
    [['cleanup', '--under', '/nonexistent/dir'], /--under: \/nonexistent\/dir is not a directory/],
    [['cleanup', '--force'], /unknown option '--force'/],
  ])('bad flags: %j → exit 2', async (args, message) => {
    const run = await runCli(args, { timeoutMs: 30_000 });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
  });
});

describeNeeding('Docker', dockerStatus())('atocore-drill cleanup after a container drill was killed', () => {
  it('removes the leftover container and the root', async () => {
    const image = execFileSync(join(PROJECT_ROOT, 'fixtures/atocore/build-image'), ['--schema-level', '1'], { encoding: 'utf8', timeout: 600_000 }).trim().split('\n').at(-1)!;
    const tmp = scratch('killed-container');
    const drill = startDrill(tmp, ['--image', image]);
    const ours = (): string[] => {
      const ids = execFileSync('docker', ['ps', '-aq', '--no-trunc', '--filter', 'label=io.atocore-drill.run'], { encoding: 'utf8' }).split('\n').filter(Boolean);
      if (ids.length === 0) return [];
      const lines = spawnSync('docker', ['inspect', '--format', '{{.Id}}{{range .Mounts}} {{.Source}}{{end}}', ...ids], { encoding: 'utf8' }).stdout;
      return lines.split('\n').filter((l) => l.includes(` ${tmp}/`)).map((l) => l.split(' ')[0]!);
    };
    if (!(await eventually(() => drill.output().includes('Seed the registry') && ours().length > 0, 180_000))) throw new Error(drill.output());
    await sigkill(drill.child);
    const left = ours();
    expect(left.length).toBeGreaterThan(0);
    const cleanup = await runCli(['cleanup', '--older-than', '0s', '--under', tmp], { timeoutMs: 120_000 });
    expect(cleanup.code, cleanup.stderr).toBe(0);
    for (const id of left) expect(cleanup.stdout).toContain(`removed container ${id.slice(0, 12)}`);
    expect(cleanup.stdout).toMatch(/^removed drill root /m);
    expect(ours()).toEqual([]);
    expect(drillRoots(tmp)).toEqual([]);
  }, 600_000);
});
