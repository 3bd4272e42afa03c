/**
 * Fail only on evidence about AtoCore, error for everything else: the classification as pure
 * functions, and the real drill interrupted and budget-cut at every step.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer as createHttpServer } from 'node:http';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { AtoCoreClient } from '../src/atocore/client.js';
import type { BackupCliCall } from '../src/atocore/backup-cli.js';
import type { ProcessResult } from '../src/common/child-process.js';
import { Deadline } from '../src/common/deadline.js';
import { InfrastructureError, InterruptedError, ServiceNotHealthyError } from '../src/common/errors.js';
import * as checks from '../src/atocore/drill/checks.js';
import { isServiceStartFinding, stepStatusFor, StepFinding, whyNotEvidence } from '../src/engine/classification.js';
import { planDrill, type DrillStepId } from '../src/atocore/drill/plan.js';
import { runDrill } from '../src/atocore/drill/drill.js';
import { loadSeed } from '../src/atocore/drill/seed.js';
import type { DrillReport } from '../src/report/model.js';
import type { SnapshotStamp } from '../src/atocore/stamp.js';
import { portOwner } from '../src/runtimes/port-owner.js';
import { ProcessRuntime } from '../src/runtimes/process.js';
import { CLI, PROJECT_ROOT, readReport, runCli, startCli } from './support/cli.js';

function result(overrides: Partial<ProcessResult>): ProcessResult {
  return { argv: ['python3', '-m', 'atocore.ops.backup'], exitCode: 2, signal: null, stdout: '', stderr: '', durationMs: 40, timedOut: false, aborted: false, ...overrides };
}
function call(overrides: Partial<ProcessResult>): BackupCliCall {
  return { args: ['restore', '20260101T000000Z'], result: result(overrides), json: undefined };
}

describe('classification (pure)', () => {
  it('a call is evidence only when it ended by itself', () => {
    expect(whyNotEvidence(result({}), 'restore')).toBeNull();
    expect(whyNotEvidence(result({ exitCode: 0 }), 'restore')).toBeNull();
    // a crash is the tool's own doing
    expect(whyNotEvidence(result({ exitCode: null, signal: 'SIGSEGV' }), 'restore')).toBeNull();
    expect(whyNotEvidence(result({ aborted: true, exitCode: null, signal: 'SIGTERM' }), 'restore')).toMatch(/interrupted/);
    expect(whyNotEvidence(result({ timedOut: true, exitCode: null, signal: 'SIGTERM' }), 'restore', 'what was left of --timeout 1m')).toMatch(/cut at what was left of --timeout 1m/);
    expect(whyNotEvidence(result({ exitCode: null, signal: 'SIGKILL' }), 'restore')).toMatch(/killed by SIGKILL/);
    expect(whyNotEvidence(result({ exitCode: null, signal: 'SIGHUP' }), 'restore')).toMatch(/killed by SIGHUP/);
    expect(whyNotEvidence(result({ spawnError: 'ENOENT' }), 'restore')).toMatch(/could not start python3: ENOENT/);
    expect(whyNotEvidence(result({ exitCode: null, signal: null }), 'restore')).toMatch(/without an exit status/);
    // a wrapper script or `docker compose run` relays its killed child as 128+N
    expect(whyNotEvidence(result({ exitCode: 137 }), 'restore')).toMatch(/exit 137, as a wrapper reports a command killed by SIGKILL/);
    expect(whyNotEvidence(result({ exitCode: 143 }), 'restore')).toMatch(/killed by SIGTERM/);
    expect(whyNotEvidence(result({ exitCode: 139 }), 'restore')).toBeNull();
    expect(whyNotEvidence(result({ exitCode: 1 }), 'restore')).toBeNull();
  });

  it('an interrupted or killed unconfirmed restore is never a refusal', () => {
    const nothing = { added: [], removed: [], changed: [] };
    expect(checks.refusalCheck(call({}), nothing).status).toBe('pass');
    expect(checks.refusalCheck(call({ aborted: true, exitCode: null, signal: 'SIGTERM' }), nothing).status).toBe('skip');
    expect(checks.refusalCheck(call({ timedOut: true, exitCode: null, signal: 'SIGKILL' }), nothing).status).toBe('skip');
    // a container killed from outside: docker reports 137, the runtime reports SIGKILL
    expect(checks.refusalCheck(call({ exitCode: null, signal: 'SIGKILL' }), nothing).status).toBe('skip');
    expect(checks.refusalCheck(call({ exitCode: 137 }), nothing).status).toBe('skip');
    expect(checks.refusalCheck(call({ exitCode: 0 }), nothing).status).toBe('fail');
    expect(checks.refusalCheck(call({ exitCode: null, signal: 'SIGSEGV' }), nothing).status).toBe('fail');
    expect(checks.refusalCheck(call({}), { added: ['data/db/atocore.db'], removed: [], changed: [] }).status).toBe('fail');
  });

  it('an interrupted validator decides nothing about the snapshot', () => {
    expect(checks.backupValidCheck(call({ aborted: true, exitCode: null }), 'S').status).toBe('skip');
    expect(checks.backupValidCheck(call({ exitCode: 0 }), 'S').status).toBe('fail');
    expect(checks.backupValidCheck({ ...call({ exitCode: 0 }), json: { valid: true } }, 'S').status).toBe('pass');
  });

  it('a start that did not end healthy is a finding only when the service had its whole chance', () => {
    const exited = new ServiceNotHealthyError('exited', 'AtoCore exited');
    const unhealthy = new ServiceNotHealthyError('unhealthy', 'no 200');
    expect(isServiceStartFinding(exited, { budgetLimited: false, interrupted: false })).toBe(true);
    expect(isServiceStartFinding(exited, { budgetLimited: true, interrupted: false })).toBe(true);
    expect(isServiceStartFinding(unhealthy, { budgetLimited: false, interrupted: false })).toBe(true);
    expect(isServiceStartFinding(unhealthy, { budgetLimited: true, interrupted: false })).toBe(false);
    expect(isServiceStartFinding(exited, { budgetLimited: false, interrupted: true })).toBe(false);
    expect(isServiceStartFinding(new InfrastructureError('docker is gone'), { budgetLimited: false, interrupted: false })).toBe(false);
    expect(isServiceStartFinding(new InterruptedError('SIGINT'), { budgetLimited: false, interrupted: true })).toBe(false);
  });

  it('a step fails only on a finding, and never once the run was interrupted', () => {
    expect(stepStatusFor(new StepFinding('marker B missing'), false)).toBe('fail');
    expect(stepStatusFor(new StepFinding('marker B missing'), true)).toBe('error');
    expect(stepStatusFor(new InfrastructureError('ENOSPC'), false)).toBe('error');
    expect(stepStatusFor(new Error('bug'), false)).toBe('error');
  });
});

describe('/context/build answers, as real AtoCore and older builds give them', () => {
  const owners = checks.sourceOwnersOf(
    [
      { file_path: 'incoming/projects/p04-gigabit/phy.md', project: 'p04-gigabit' },
      { file_path: 'incoming/projects/p06-polisher/pads.md', project: 'p06-polisher' },
    ],
    [
      { id: 'p04-gigabit', ingest_roots: [{ source: 'vault', subpath: 'incoming/projects/p04-gigabit' }] },
      { id: 'p06-polisher', ingest_roots: [{ source: 'vault', subpath: 'incoming/projects/p06-polisher' }, { source: 'drive', subpath: 'p06-polisher' }] },
    ],
  );
  const probe = { prompt: 'link training', project: 'p04-gigabit' };
  const pack = (sources: string[], extra: Record<string, unknown> = {}) => ({
    status: 200,
    body: { chunks_used: sources.map((source_file) => ({ content: 'x', source_file, heading_path: 'h', score: 0.5, char_count: 1, unknown_field: [1] })), total_chars: 1, budget: 3000, ...extra },
  });

  it('a ContextPack (chunks_used a list, projects from source_file, host paths, extra fields) passes', () => {
    const answers = [
      pack(['incoming/projects/p04-gigabit/phy.md']),
      pack(['/srv/storage/atocore/sources/vault/incoming/projects/p04-gigabit/phy.md', 'C:\\vault\\incoming\\projects\\p04-gigabit\\other.md'], { formatted_context: '…', project_hint: 'p04-gigabit' }),
    ];
    for (const answer of answers) {
      const read = checks.readContextAnswer(probe, answer, owners);
      expect(read).toMatchObject({ chunksUsed: answer.body.chunks_used.length, ownChunks: answer.body.chunks_used.length, foreignChunks: 0, unattributedChunks: 0, error: null });
      expect(checks.serviceContextCheck([read]).status).toBe('pass');
    }
  });

  it('the older count-shaped answer (chunks_used a number, chunks with project) still passes', () => {
    const read = checks.readContextAnswer(probe, { status: 200, body: { chunks_used: 2, chunks: [{ project: 'p04-gigabit' }, { project: 'p04-gigabit', file_path: 'incoming/projects/p04-gigabit/phy.md' }] } }, owners);
    expect(read).toMatchObject({ chunksUsed: 2, ownChunks: 2 });
    expect(checks.serviceContextCheck([read]).status).toBe('pass');
  });

  it('fails on a chunk of another project, a source nobody holds, no chunks, or a bare count', () => {
    const cases = [
      [pack(['incoming/projects/p04-gigabit/phy.md', 'incoming/projects/p06-polisher/pads.md']), /chunks from other projects/],
      [pack(['drive/p06-polisher/notes.md']), /other projects/],
      [pack(['/tmp/elsewhere/p04-gigabit.md']), /no seeded project holds/],
      // a path segment that only starts like the root is not inside it
      [pack(['incoming/projects/p04-gigabit-old/phy2.md']), /no seeded project holds/],
      [pack([]), /no chunks/],
      [{ status: 200, body: { chunks_used: 3 } }, /none is shown to be the project's/],
      [{ status: 500, body: undefined }, /HTTP 500/],
      [{ status: 200, body: ['not', 'an', 'object'] }, /no chunks_used/],
    ] as const;
    for (const [answer, why] of cases) {
      const verdict = checks.serviceContextCheck([checks.readContextAnswer(probe, answer, owners)]);
      expect(verdict.status, JSON.stringify(answer)).toBe('fail');
      expect(verdict.message).toMatch(why);
    }
  });
});

describe('when the backup was made: the harness\'s own clock bounds what the answer claims', () => {
  const stamp = '20261129T120000Z' as SnapshotStamp;
  const asked = Date.parse('2026-11-29T12:00:00.200Z');
  const answered = asked + 800;

  it('backupMoment: a created_at inside the request window is taken; a zone-less, misdated or missing one falls back to the request, never later', () => {
    expect(checks.backupMoment({ created_at: '2026-11-29T12:00:00.500+00:00' }, stamp, asked, answered)).toEqual({ ms: asked + 300, problem: null });
    // one-second stamps: a created_at truncated to the second still counts, clamped into the window
    expect(checks.backupMoment({ created_at: '2026-11-29T12:00:00Z' }, stamp, asked, answered)).toEqual({ ms: asked, problem: null });
    // no created_at: the stamp stands in
    expect(checks.backupMoment({}, stamp, asked, answered).problem).toBeNull();
    const later = checks.backupMoment({ created_at: '2026-11-29T19:00:00+00:00' }, stamp, asked, answered);
    expect(later).toMatchObject({ ms: asked });
    expect(later.problem).toMatch(/its created_at "2026-11-29T19:00:00\+00:00" is 7h00m after AtoCore answered .*; the RPO counts from when the harness asked for the backup/);
    expect(checks.backupMoment({ created_at: '2020-01-01T00:00:00Z' }, stamp, asked, answered).problem).toMatch(/before the harness asked for the backup/);
    expect(checks.backupMoment({ created_at: '2026-11-29T12:00:00.500' }, stamp, asked, answered).problem).toMatch(/is not an ISO-8601 time with a zone/);
    expect(checks.backupMoment({ created_at: 'not-a-date' }, stamp, asked, answered)).toMatchObject({ ms: asked });
  });

  it.each([
    ['seven hours ahead (local time labelled UTC)', () => new Date(Date.now() + 7 * 3_600_000).toISOString().replace('Z', '+00:00')],
    ['years behind', () => '2020-01-01T00:00:00+00:00'],
  ])('a backup whose created_at is %s: backup.created warns, the RPO is the harness\'s own and never negative, rpo.budget judged on it', async (_what, createdAt) => {
    const dir = mkdtempSync(join(tmpdir(), 'atocore-drill-clock-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const wrapper = join(dir, 'clock.py');
    writeFileSync(
      wrapper,
      [
        'import os',
        'from atocore import server',
        'made = server.AtoCoreService.create_backup',
        'def create_backup(self, request):',
        '    answer = dict(made(self, request))',
        '    answer["created_at"] = os.environ["CLAIMED_CREATED_AT"]',
        '    return answer',
        'server.AtoCoreService.create_backup = create_backup',
        'raise SystemExit(server.main())',
        '',
      ].join('\n'),
    );
    const json = join(dir, 'report.json');
    const run = await runCli(['drill', '--command', `python3 ${wrapper}`, '--backup-cli', 'python3 -m atocore.ops.backup', '--rpo', '1m', '--report-json', json], {
      env: { PYTHONPATH: join(PROJECT_ROOT, 'fixtures/atocore'), CLAIMED_CREATED_AT: createdAt(), TMPDIR: dir },
      timeoutMs: 90_000,
    });
    const report = readReport(json);
    const status = Object.fromEntries(report.checks.map((c) => [c.id, c.status]));
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(report.verdict).toBe('warn');
    expect(status['backup.created']).toBe('warn');
    expect(report.checks.find((c) => c.id === 'backup.created')!.message).toMatch(/but its created_at .* the RPO counts from when the harness asked for the backup/);
    expect(report.metrics.rpo_s).toBeGreaterThanOrEqual(0);
    expect(report.metrics.rpo_s).toBeLessThan(60);
    expect(status['rpo.budget']).toBe('pass');
    expect(Object.values(status).filter((s) => s === 'fail')).toEqual([]);
  });
});

describe('a service that dies on the restored data says why on the console', () => {
  it('its last words are under the failed restart, and the evidence line shows the end of its log', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'atocore-drill-dies-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const wrapper = join(dir, 'dies.py');
    // the first start is the stand-in; the start on the restored data dies with a traceback
    writeFileSync(
      wrapper,
      [
        'import os, sys',
        'from atocore import server',
        'count = os.path.join(os.environ["ATOCORE_DATA_DIR"], "..", "starts")',
        'n = len(open(count).read()) if os.path.exists(count) else 0',
        'open(count, "a").write("x")',
        'if n >= 1:',
        '    print("loading the restored database", flush=True)',
        '    raise RuntimeError("boom: schema version 7 not supported")',
        'raise SystemExit(server.main())',
        '',
      ].join('\n'),
    );
    const run = await runCli(['drill', '--command', `python3 ${wrapper}`, '--backup-cli', 'python3 -m atocore.ops.backup', '--timeout', '60s'], {
      env: { PYTHONPATH: join(PROJECT_ROOT, 'fixtures/atocore'), TMPDIR: dir },
      timeoutMs: 90_000,
    });
    expect(run.code, run.stdout + run.stderr).toBe(1);
    const restart = run.stdout.slice(run.stdout.indexOf('✗ Start AtoCore on the restored data'));
    expect(restart, run.stdout).toMatch(/^✗ Start AtoCore on the restored data[^\n]*\n(?: {4}.*\n)*? {4}AtoCore's output[^\n]*\n(?: {4}.*\n)*? {4}\| RuntimeError: boom: schema version 7 not supported/);
    expect(run.stdout).toMatch(/evidence: \{.*"logs_tail":"….*boom: schema version 7 not supported/);
  });
});

describe('hostile answers never crash or bloat a report', () => {
  it('a /health answer nested a million deep, huge strings and arrays: the check serializes, bounded', () => {
    const deep = JSON.parse(`${'['.repeat(1_000_000)}${']'.repeat(1_000_000)}`) as unknown;
    const health = checks.serviceHealthCheck({ status: 200, body: { version: 'x'.repeat(100_000), nested: deep, list: Array.from({ length: 100_000 }, (_, i) => i) } }, null, '');
    const text = JSON.stringify(health);
    expect(text.length).toBeLessThan(64 * 1024);
    expect(text).toContain('nested deeper than the report keeps');
    expect(text).toContain('more items');
    expect(health.message.length).toBeLessThan(2_100);
  });
});

describe('HTTP answers are cut while they stream', () => {
  it('a huge /health body is not read past the bound and the connection is dropped', async () => {
    let sent = 0;
    let closedEarly = false;
    const chunk = Buffer.alloc(1024 * 1024, 'x');
    const server = createHttpServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.on('close', () => {
        closedEarly = !response.writableFinished;
      });
      const pump = (): void => {
        while (sent < 1024 * 1024 * 1024) {
          sent += chunk.length;
          if (!response.write(chunk)) {
            response.once('drain', pump);
            return;
          }
        }
        response.end();
      };
      pump();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const port = (server.address() as { port: number }).port;
      const answer = await new AtoCoreClient(`http://127.0.0.1:${port}`, { maxBodyBytes: 4 * 1024 * 1024 }).call('GET', '/health');
      expect(answer.truncated).toBe(true);
      expect(answer.body).toBeUndefined();
      expect(answer.text.length).toBe(4 * 1024 * 1024);
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(closedEarly).toBe(true);
      expect(sent).toBeLessThan(256 * 1024 * 1024);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
});

describe('HTTP calls are bounded by what is left of the run', () => {
  it('a service that never answers is given up at the end of the budget, not at the call\'s own 15 s, and the message says so', async () => {
    const server = createHttpServer(() => {
      // never answers
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const port = (server.address() as { port: number }).port;
      const client = new AtoCoreClient(`http://127.0.0.1:${port}`, { budget: new Deadline(400) });
      const began = Date.now();
      await expect(client.call('GET', '/stats')).rejects.toThrow(/did not answer within \d+ms \(what was left of --timeout 400ms\)/);
      expect(Date.now() - began).toBeLessThan(3_000);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
});

describe('who holds the drill port', () => {
  it('tells the started process group from another one and from a free port', async () => {
    const holder = spawn('python3', ['-c', 'import socket,time\ns=socket.socket(); s.bind(("127.0.0.1",0)); s.listen(); print(s.getsockname()[1], flush=True); time.sleep(60)'], { detached: true, stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      const port = Number(await new Promise<string>((resolve) => holder.stdout!.once('data', (d: Buffer) => resolve(d.toString().trim()))));
      expect(await portOwner(port, holder.pid)).toEqual({ kind: 'ours' });
      expect(await portOwner(port, process.pid)).toEqual({ kind: 'foreign', pids: [holder.pid] });
      const free = createServer();
      await new Promise<void>((resolve) => free.listen(0, '127.0.0.1', resolve));
      const freePort = (free.address() as { port: number }).port;
      await new Promise((resolve) => free.close(resolve));
      expect(await portOwner(freePort, holder.pid)).toEqual({ kind: 'free' });
    } finally {
      holder.kill('SIGKILL');
    }
  });

  it('a service answering from outside the started process group is an error, never verified as AtoCore; the drill kills it as its own', async () => {
    // the command hands the port to a stand-in in a session of its own and idles: what answers
    // /health is not the process the drill started. It carries the drill's ATOCORE_DATA_DIR:
    // the command daemonized its service, and the drill says so and stops it
    const script = 'import os,subprocess,sys,time\np=subprocess.Popen(["setsid","python3","-m","atocore"])\nprint("outsider", p.pid, flush=True)\ntime.sleep(120)';
    const runtime = new ProcessRuntime({ command: ['python3', '-c', script], env: { PYTHONPATH: join(PROJECT_ROOT, 'fixtures/atocore') } });
    const report = await runDrill({ runtime, seed: await loadSeed(), includeChroma: false, keep: false, timeoutMs: 60_000 });
    const outsider = /outsider (\d+)/.exec(runtime.recentLogs());
    const alive = (pid: number): boolean => {
      try {
        // a zombie (killed, not yet reaped by its parent) is gone for good
        return !/^\S+ \(.*\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'latin1'));
      } catch {
        return false;
      }
    };
    try {
      expect(report.verdict).toBe('error');
      expect(report.steps[0]).toMatchObject({ id: 'start', status: 'error' });
      expect(report.error).toMatch(/held by process \d+, which carries this drill's ATOCORE_DATA_DIR but left the process group the drill started: the service command daemonizes .*run it in the foreground/);
      expect(report.error).not.toMatch(/another program/);
      expect(report.checks.every((c) => c.status === 'skip')).toBe(true);
      expect(outsider, runtime.recentLogs()).not.toBeNull();
      expect(alive(Number(outsider![1])), 'the daemonized service is gone after the drill').toBe(false);
    } finally {
      if (outsider && alive(Number(outsider[1]))) process.kill(Number(outsider[1]), 'SIGKILL');
    }
  });

  interface Theft {
    /** at which starts the port is taken */
    readonly at: 'first start' | 'every start' | 'restart';
    /** the other program answers HTTP 200 on it (else it only listens) */
    readonly answers: boolean;
    /** how long the command waits, with the port taken, before it runs the stand-in */
    readonly delayS: number;
    /** how long the try after the theft waits before it runs the stand-in (what the spoiled try does late lands in it) */
    readonly nextDelayS?: number;
  }

  /** A service command that, before it runs the stand-in, lets another program (no ATOCORE_* marks, a session of its own, holding the command's output pipes) listen on the drill's port. */
  function portThief(dir: string, theft: Theft): { command: string[]; thieves: () => number[] } {
    const listener = theft.answers
      ? 'import http.server,sys\nclass H(http.server.BaseHTTPRequestHandler):\n  def do_GET(self):\n    self.send_response(200); self.end_headers(); self.wfile.write(b"{}")\nhttp.server.HTTPServer(("127.0.0.1",int(sys.argv[1])),H).serve_forever()'
      : 'import socket,sys,time\ns=socket.socket(); s.bind(("127.0.0.1",int(sys.argv[1]))); s.listen(); time.sleep(120)';
    const takes = { 'first start': 'n == 0', 'every start': 'True', restart: 'n == 1' }[theft.at];
    const script = [
      'import os,runpy,socket,subprocess,sys,time',
      `starts = os.path.join(${JSON.stringify(dir)}, "starts")`,
      'n = len(open(starts).read()) if os.path.exists(starts) else 0',
      'open(starts, "a").write("x")',
      `if ${takes}:`,
      '    env = {k: v for k, v in os.environ.items() if not k.startswith("ATOCORE_")}',
      `    p = subprocess.Popen(["setsid", "python3", "-c", ${JSON.stringify(listener)}, os.environ["ATOCORE_PORT"]], env=env)`,
      `    open(os.path.join(${JSON.stringify(dir)}, "thieves"), "a").write(f"{p.pid}\\n")`,
      '    for _ in range(200):',
      '        try:',
      '            socket.create_connection(("127.0.0.1", int(os.environ["ATOCORE_PORT"])), 1).close(); break',
      '        except OSError: time.sleep(0.02)',
      `    time.sleep(${theft.delayS})`,
      `elif n == ${theft.at === 'restart' ? 2 : 1}:`,
      `    time.sleep(${theft.nextDelayS ?? 0})`,
      "runpy.run_module('atocore', run_name='__main__')",
    ].join('\n');
    const thieves = (): number[] => {
      try {
        return readFileSync(join(dir, 'thieves'), 'utf8').split('\n').filter(Boolean).map(Number);
      } catch {
        return [];
      }
    };
    return { command: ['python3', '-c', script], thieves };
  }

  async function drillWithThief(theft: Theft): Promise<{ report: DrillReport; text: string; thieves: number[] }> {
    const dir = mkdtempSync(join(tmpdir(), 'atocore-drill-thief-'));
    const thief = portThief(dir, theft);
    onTestFinished(() => {
      for (const pid of thief.thieves()) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // gone already
        }
      }
      rmSync(dir, { recursive: true, force: true });
    });
    const runtime = new ProcessRuntime({ command: thief.command, env: { PYTHONPATH: join(PROJECT_ROOT, 'fixtures/atocore') } });
    const report = await runDrill({ runtime, seed: await loadSeed(), includeChroma: false, keep: false, timeoutMs: 60_000 });
    return { report, text: JSON.stringify(report), thieves: thief.thieves() };
  }

  it('another program takes the port before AtoCore binds it: AtoCore starts again on a new port and the drill says so', async () => {
    const { report, text, thieves } = await drillWithThief({ at: 'first start', answers: false, delayS: 0 });
    expect(report.verdict, text).toBe('pass');
    expect(thieves).toHaveLength(1);
    expect(text).toMatch(/port \d+ was taken by another program before AtoCore bound it; started again on \d+/);
  }, 120_000);

  it('taken at every try: an error naming it after three ports', async () => {
    const { report, thieves } = await drillWithThief({ at: 'every start', answers: false, delayS: 0 });
    expect(report.verdict).toBe('error');
    expect(report.steps[0]).toMatchObject({ id: 'start', status: 'error' });
    expect(report.error).toMatch(/held by process \d+, not by the AtoCore this drill started: another program took the drill's port/);
    expect(thieves, 'three ports tried, then the error').toHaveLength(3);
    expect(report.checks.every((c) => c.status === 'skip')).toBe(true);
  }, 120_000);

  it('at the restart, by a program that answers 200 and keeps the first try\'s pipes: the first try\'s late end is not the second\'s, the drill passes', async () => {
    const { report, text } = await drillWithThief({ at: 'restart', answers: true, delayS: 3, nextDelayS: 1 });
    expect(report.verdict, text).toBe('pass');
    expect(report.steps.find((s) => s.id === 'restart')!.detail).toMatch(/was taken by another program before AtoCore bound it; started again on/);
  }, 120_000);

  it('at the restart, slowly: the spoiled try is the machine\'s time, left out of the RTO', async () => {
    const { report, text } = await drillWithThief({ at: 'restart', answers: false, delayS: 4 });
    expect(report.verdict, text).toBe('pass');
    expect(report.steps.find((s) => s.id === 'restart')!.duration_ms).toBeGreaterThan(4_000);
    expect(report.metrics.rto_ms, text).toBeLessThan(4_000);
  }, 120_000);
});

/** A budget that a test can cut short at a chosen moment, as a long run ending would. */
class CuttableDeadline extends Deadline {
  #cutAt: number | null = null;
  cut(inMs: number): void {
    this.#cutAt = Date.now() + inMs;
  }
  override remainingMs(): number {
    const left = super.remainingMs();
    return this.#cutAt === null ? left : Math.max(0, Math.min(left, this.#cutAt - Date.now()));
  }
}

type Trigger = { readonly kind: 'interrupt' | 'budget'; readonly step: DrillStepId; readonly afterMs: number; readonly faults: readonly string[] };

async function drillWith(trigger: Trigger): Promise<{ report: DrillReport; root: string | null; firedDuring: string | null }> {
  const controller = new AbortController();
  const deadline = new CuttableDeadline(120_000);
  const runtime = new ProcessRuntime({ faults: trigger.faults, signal: controller.signal });
  let running: string | null = null;
  let firedDuring: string | null = null;
  const fire = (): void => {
    firedDuring = running;
    if (trigger.kind === 'interrupt') controller.abort(new InterruptedError('SIGTERM'));
    else deadline.cut(0);
  };
  const report = await runDrill({
    runtime,
    seed: await loadSeed(),
    includeChroma: true,
    keep: false,
    timeoutMs: 120_000,
    deadline,
    signal: controller.signal,
    faults: trigger.faults,
    observer: {
      stepStarted(step) {
        running = step.id;
        if (step.id !== trigger.step) return;
        if (trigger.kind === 'budget') deadline.cut(trigger.afterMs);
        else if (trigger.afterMs === 0) fire();
        else setTimeout(fire, trigger.afterMs);
      },
      stepFinished() {
        running = null;
      },
    },
  });
  // an interrupt before prepare() leaves no root at all
  let root: string | null = null;
  try {
    root = runtime.layout.root;
  } catch {
    root = null;
  }
  return { report, root, firedDuring };
}

const PLAN = planDrill({ includeChroma: true });
const stepOf = new Map(PLAN.flatMap((step) => step.checks.map((id) => [id, step.id] as const)));

/** Nothing passes or fails without evidence: the invariants of a run cut at `step`. */
function expectCutAt(report: DrillReport, step: DrillStepId, root: string | null, strict: boolean): void {
  expect(report.verdict, JSON.stringify(report.steps, null, 1)).toBe('error');
  expect(report.checks.filter((c) => c.status === 'fail')).toEqual([]);
  const index = PLAN.findIndex((s) => s.id === step);
  const errored = report.steps.find((s) => s.status === 'error')!;
  expect(PLAN.findIndex((s) => s.id === errored.id)).toBeGreaterThanOrEqual(index);
  for (const later of report.steps.slice(PLAN.findIndex((s) => s.id === errored.id) + 1, -1)) expect(later.status).toBe('skip');
  for (const c of report.checks) {
    const decidedBy = PLAN.findIndex((s) => s.id === stepOf.get(c.id));
    // checks of steps after the cut were never observed
    if (decidedBy > PLAN.findIndex((s) => s.id === errored.id)) expect(c.status, c.id).toBe('skip');
    // with the call in flight, nothing of the cut step was observed either
    if (strict && stepOf.get(c.id) === step) expect(c.status, c.id).toBe('skip');
    if (c.status === 'skip') expect(c.message).toMatch(/not evaluated: step \w+ could not run: /);
  }
  expect(report.steps.at(-1)).toMatchObject({ id: 'teardown', status: 'pass' });
  if (root !== null) expect(existsSync(root)).toBe(false);
}

const EVERY_STEP = PLAN.map((s) => s.id).filter((id) => id !== 'teardown');

describe.concurrent('interrupting the drill at every step: error, nothing passed or failed without evidence', () => {
  it.each(EVERY_STEP)('at the start of %s', async (step) => {
    const { report, root } = await drillWith({ kind: 'interrupt', step, afterMs: 0, faults: [] });
    expectCutAt(report, step, root, true);
    expect(report.error).toBe('interrupted by SIGTERM');
  });

  it.each(EVERY_STEP)('shortly into %s', async (step) => {
    const { report, root, firedDuring } = await drillWith({ kind: 'interrupt', step, afterMs: 30, faults: [] });
    if (firedDuring === null) {
      // the work was done before the signal came: the verdict stands on its evidence
      expect(report.verdict).toBe('pass');
      return;
    }
    if (firedDuring === 'teardown') {
      // the checks stand on their evidence; the teardown the signal hurried is an error
      expect(report.checks.every((c) => c.status === 'pass')).toBe(true);
      expect(report.steps.at(-1)).toMatchObject({ id: 'teardown', status: 'error' });
      expect(report.verdict).toBe('error');
      return;
    }
    expectCutAt(report, firedDuring as DrillStepId, root, false);
  });
});

/** Each slow stand-in operation, and the step that waits on it. */
const IN_FLIGHT: ReadonlyArray<{ step: DrillStepId; fault: string }> = [
  { step: 'start', fault: 'slow-start' },
  { step: 'backup', fault: 'slow-backup' },
  { step: 'backup', fault: 'slow-validate' },
  { step: 'restore_unconfirmed', fault: 'slow-refuse' },
  { step: 'restore', fault: 'slow-restore' },
  { step: 'restart', fault: 'slow-restart' },
];

describe.concurrent('a call in flight when the drill is interrupted or its budget runs out', () => {
  it.each(IN_FLIGHT)('interrupted during $step ($fault)', async ({ step, fault }) => {
    const { report, root } = await drillWith({ kind: 'interrupt', step, afterMs: 700, faults: [fault] });
    expectCutAt(report, step, root, true);
    expect(report.steps.find((s) => s.id === step)).toMatchObject({ status: 'error' });
    expect(report.error).toMatch(/interrupted/);
  });

  it.each(IN_FLIGHT)('budget cut during $step ($fault)', async ({ step, fault }) => {
    const { report, root } = await drillWith({ kind: 'budget', step, afterMs: 700, faults: [fault] });
    expectCutAt(report, step, root, true);
    expect(report.steps.find((s) => s.id === step)).toMatchObject({ status: 'error' });
    expect(report.error).toMatch(/--timeout|within 7\d\dms|did not answer within/);
  });
});

describe('the drill through the CLI', () => {
  it('SIGTERM while the unconfirmed restore runs: exit 3, the refusal is not counted, the JUnit has the error', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'atocore-drill-sigterm-'));
    try {
      const json = join(dir, 'report.json');
      const junit = join(dir, 'junit.xml');
      let sent = false;
      const { code, output } = await startCli(['drill', '--fault', 'slow-refuse', '--report-json', json, '--junit', junit], (so_far, child) => {
        // the step line appears as it starts; the stand-in then sleeps in its refusal
        if (sent || !so_far.includes('without --confirm-service-stopped')) return;
        sent = true;
        setTimeout(() => child.kill('SIGTERM'), 700);
      });
      expect(code, output).toBe(3);
      const report = readReport(json);
      expect(report.verdict).toBe('error');
      expect(report.checks.find((c) => c.id === 'restore.refuses_without_confirm')).toMatchObject({ status: 'skip' });
      expect(report.checks.filter((c) => c.status === 'fail')).toEqual([]);
      expect(report.steps.find((s) => s.id === 'restore_unconfirmed')).toMatchObject({ status: 'error' });
      const xml = readFileSync(junit, 'utf8');
      expect(xml).toMatch(/<error /);
      expect(xml).not.toMatch(/errors="0"/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 90_000);

  it('a reader that goes away (| head -1) does not end the drill half-way: it finishes, reports and exits with its verdict', () => {
    const dir = mkdtempSync(join(tmpdir(), 'atocore-drill-pipe-'));
    try {
      const json = join(dir, 'report.json');
      const status = execFileSync('bash', ['-c', 'set -o pipefail; "$0" "$1" drill --report-json "$2" | head -1 >/dev/null; echo "${PIPESTATUS[0]}"', process.execPath, CLI, json], { cwd: PROJECT_ROOT, encoding: 'utf8', timeout: 120_000 });
      expect(status.trim()).toBe('0');
      expect(readReport(json).verdict).toBe('pass');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it('a backup-CLI wrapper that relays its killed child as exit 137 (the OOM killer): error, never a refusal', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'atocore-drill-wrapper-'));
    try {
      const wrapper = join(dir, 'backup-cli.sh');
      // no exec: the shell waits for its child and reports 128+N when the child is killed
      // a sleep no other run on the machine has: this test kills it by its command line
      const nap = `31.${process.pid}`;
      writeFileSync(wrapper, `#!/bin/sh\nif [ "$1" = restore ] && [ "$#" -eq 2 ]; then sleep ${nap} || exit $?; fi\nexec python3 -m atocore.ops.backup "$@"\n`, { mode: 0o755 });
      const json = join(dir, 'report.json');
      let killed = false;
      const poll = setInterval(() => {
        try {
          execFileSync('pkill', ['-KILL', '-f', `^sleep ${nap.replace('.', '\\.')}$`]);
          killed = true;
          clearInterval(poll);
        } catch {
          // the refusal has not started yet
        }
      }, 200);
      const { code, output } = await startCli(['drill', '--command', 'python3 -m atocore', '--backup-cli', wrapper, '--report-json', json], () => {}, { PYTHONPATH: join(PROJECT_ROOT, 'fixtures/atocore') });
      clearInterval(poll);
      expect(code, output).toBe(3);
      const report = readReport(json);
      expect(report.checks.find((c) => c.id === 'restore.refuses_without_confirm')).toMatchObject({ status: 'skip' });
      // the report's own words prove the kill landed in the refusal
      expect(report.error).toMatch(/exit 137, as a wrapper reports a command killed by SIGKILL/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 90_000);

  it('a service answering /context/build with a list of chunk objects (real AtoCore) passes service.context', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'atocore-drill-pack-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const json = join(dir, 'report.json');
    const run = await runCli(['drill', '--command', 'python3 -m atocore', '--backup-cli', 'python3 -m atocore.ops.backup', '--report-json', json], {
      env: { PYTHONPATH: join(PROJECT_ROOT, 'fixtures/atocore'), ATOCORE_STANDIN_CONTEXT_SHAPE: 'pack' },
    });
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const context = readReport(json).checks.find((c) => c.id === 'service.context')!;
    expect(context.status).toBe('pass');
    expect(JSON.stringify(context.evidence)).toContain('"ownChunks"');
  });

  it('the older count-shaped answer passes as well', async () => {
    const runtime = new ProcessRuntime({ env: { ATOCORE_STANDIN_CONTEXT_SHAPE: 'count' } });
    const report = await runDrill({ runtime, seed: await loadSeed(), includeChroma: false, keep: false, timeoutMs: 60_000 });
    expect(report.verdict).toBe('pass');
    expect(report.checks.find((c) => c.id === 'service.context')?.status).toBe('pass');
  });
});

describe('the harness\'s own scratch space full', () => {
  it('ENOSPC while copying the snapshot for inspection: error, never "the snapshot database is damaged"', async (context) => {
    if (process.getuid?.() !== 0) context.skip('mounting a small tmpfs needs root');
    const scratch = mkdtempSync(join(tmpdir(), 'atocore-drill-fullscratch-'));
    const roots = mkdtempSync(join(tmpdir(), 'atocore-drill-roots-'));
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', scratch]);
    const previous = process.env.TMPDIR;
    try {
      // fill it: the next copy into it fails with ENOSPC
      execFileSync('sh', ['-c', `dd if=/dev/zero of=${scratch}/filler bs=4k 2>/dev/null || true`]);
      process.env.TMPDIR = scratch;
      // the service and its backup CLI keep a temp dir with room: only the harness's scratch is full
      const runtime = new ProcessRuntime({ tmpDir: roots, env: { TMPDIR: roots } });
      const report = await runDrill({ runtime, seed: await loadSeed(), includeChroma: false, keep: false, timeoutMs: 60_000 });
      expect(report.verdict).toBe('error');
      expect(report.checks.filter((c) => c.status === 'fail')).toEqual([]);
      expect(report.steps.find((s) => s.id === 'backup')).toMatchObject({ status: 'error' });
      expect(report.error).toMatch(/ENOSPC|no space/i);
      expect(report.checks.find((c) => c.id === 'backup.independent_integrity')).toMatchObject({ status: 'skip' });
    } finally {
      if (previous === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = previous;
      execFileSync('umount', [scratch]);
      rmSync(scratch, { recursive: true, force: true });
      rmSync(roots, { recursive: true, force: true });
    }
  });
});

describe('a full disk under the drill root', () => {
  // mounting a small tmpfs needs root
  it.skipIf(process.getuid?.() !== 0).each(['460k', '500k', '540k', '600k', '660k'])('tmpfs of %s: whatever AtoCore answers, never a failing check', async (size) => {
    const mount = mkdtempSync(join(tmpdir(), 'atocore-drill-fullroot-'));
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', mount]);
    try {
      const runtime = new ProcessRuntime({ tmpDir: mount, env: { TMPDIR: mount } });
      const report = await runDrill({ runtime, seed: await loadSeed(), includeChroma: true, keep: false, timeoutMs: 60_000 });
      expect(report.checks.filter((c) => c.status === 'fail'), JSON.stringify(report.steps.map((s) => [s.id, s.status, s.detail.slice(0, 200)]))).toEqual([]);
      // where the space ran out decides how far the drill got: the verdict is error, or a pass with room to spare
      if (report.verdict !== 'pass') {
        expect(report.verdict).toBe('error');
        expect(report.error).toMatch(/free of|ENOSPC|disk is full|No space left|SQLITE_FULL|database or disk is full/i);
      }
    } finally {
      execFileSync('umount', ['-l', mount]);
      rmSync(mount, { recursive: true, force: true });
    }
  }, 90_000);
});
