import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DrillReport } from '../src/report/model.js';
import { RunnerJob, commands } from './support/action-runner.js';
import { PROJECT_ROOT } from './support/cli.js';

/**
 * The action's run history carried by the cache service, end to end: the action's main step
 * run as the runner runs it (INPUT_* variables, a fresh workspace per job), against a
 * loopback cache server speaking the protocol of the toolkit's cache client (`_apis/artifactcache`,
 * as Gitea's act_runner serves it). The main step is the compiled source (lib/), not dist/:
 * the bundle is rebuilt at release.
 */

const work = mkdtempSync(join(tmpdir(), 'atocore-drill-history-action-'));
const jobs: RunnerJob[] = [];
afterAll(() => {
  for (const job of jobs) rmSync(job.dir, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
});

/** action.yml with runs.main pointing at lib/action/main.js. */
function actionFromLib(): string {
  const dir = join(work, 'action');
  mkdirSync(dir, { recursive: true });
  const yml = readFileSync(join(PROJECT_ROOT, 'action.yml'), 'utf8').replace(/^(\s+main:\s*).*$/m, '$1main.mjs').replace(/^\s+post(-if)?:.*$/gm, '');
  writeFileSync(join(dir, 'action.yml'), yml);
  writeFileSync(join(dir, 'main.mjs'), `await import(${JSON.stringify(pathToFileURL(join(PROJECT_ROOT, 'lib/action/main.js')).href)});\n`);
  copyFileSync(join(PROJECT_ROOT, 'package.json'), join(dir, 'package.json'));
  return dir;
}

interface CacheEntry {
  readonly id: number;
  readonly key: string;
  readonly version: string;
  chunks: Buffer[];
  committed: boolean;
}

/** A cache service of the v1 protocol: look up by keys (exact, then prefix, newest first), reserve, upload in ranges, commit, download. */
class LoopbackCache {
  readonly entries: CacheEntry[] = [];
  readonly #server: Server;
  url = '';

  constructor() {
    this.#server = createServer((request, response) => void this.#handle(request, response));
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    const address = this.#server.address() as { port: number };
    this.url = `http://127.0.0.1:${address.port}/`;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }

  async #handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const body: Buffer[] = [];
    for await (const chunk of request) body.push(chunk as Buffer);
    const data = Buffer.concat(body);
    const url = new URL(request.url ?? '/', this.url);
    const json = (status: number, value?: unknown): void => {
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(value === undefined ? '' : JSON.stringify(value));
    };
    const path = url.pathname.replace(/^\/_apis\/artifactcache\//, '');
    if (request.method === 'GET' && path === 'cache') {
      const keys = (url.searchParams.get('keys') ?? '').split(',');
      const version = url.searchParams.get('version');
      const committed = this.entries.filter((e) => e.committed && e.version === version).reverse();
      for (const [index, key] of keys.entries()) {
        const hit = committed.find((e) => (index === 0 ? e.key === key : e.key.startsWith(key)));
        if (hit) return json(200, { cacheKey: hit.key, scope: 'refs/heads/main', archiveLocation: `${this.url}download/${hit.id}` });
      }
      return json(204);
    }
    if (request.method === 'POST' && path === 'caches') {
      const asked = JSON.parse(data.toString()) as { key: string; version: string };
      if (this.entries.some((e) => e.key === asked.key && e.version === asked.version)) return json(409, { message: 'already exists' });
      const entry: CacheEntry = { id: this.entries.length + 1, key: asked.key, version: asked.version, chunks: [], committed: false };
      this.entries.push(entry);
      return json(201, { cacheId: entry.id });
    }
    const id = /^caches\/(\d+)$/.exec(path)?.[1];
    const entry = id ? this.entries.find((e) => e.id === Number(id)) : undefined;
    if (entry && request.method === 'PATCH') {
      entry.chunks.push(data);
      return json(204);
    }
    if (entry && request.method === 'POST') {
      entry.committed = true;
      return json(204);
    }
    const download = /^\/download\/(\d+)$/.exec(url.pathname)?.[1];
    const stored = download ? this.entries.find((e) => e.id === Number(download)) : undefined;
    if (stored) {
      const archive = Buffer.concat(stored.chunks);
      response.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': archive.length });
      return void response.end(archive);
    }
    json(404, { message: `no ${request.method} ${url.pathname}` });
  }
}

let action = '';
const cache = new LoopbackCache();
beforeAll(async () => {
  action = actionFromLib();
  await cache.start();
});
afterAll(() => cache.close());

function newJob(runId: string, inputs: Record<string, string>, withCache = true): RunnerJob {
  const job = new RunnerJob(action, {
    inputs: { 'github-token': '', ...inputs },
    env: { GITHUB_RUN_ID: runId, GITHUB_JOB: 'drill', ...(withCache ? { ACTIONS_CACHE_URL: cache.url, ACTIONS_RUNTIME_TOKEN: 'loopback-runtime-token' } : {}) },
  });
  jobs.push(job);
  return job;
}

const circlesIn = (svg: string, panel: string): number => (svg.split(`<g id="${panel}"`)[1]?.split('</g>')[0]?.match(/<circle/g) ?? []).length;

describe('input history in the action, carried by the cache service', () => {
  it('two jobs on fresh workspaces: the second restores the first one\'s history, records itself, draws two points and saves under its own key', async () => {
    const inputs = { history: '.atocore-drill/history.sqlite', 'rto-budget': '10m' };
    const first = newJob('1001', inputs);
    const one = await first.run('main');
    expect(one.code, one.stdout + one.stderr).toBe(0);
    expect(one.outputs.verdict).toBe('pass');
    expect(one.stdout).toContain('history: none in the cache yet');
    expect(cache.entries.filter((e) => e.committed).map((e) => e.key)).toEqual([expect.stringMatching(/^atocore-drill-history-v1-drill-[0-9a-f]{16}-1001-1-drill-[0-9a-z]+$/)]);
    const firstReport = JSON.parse(readFileSync(join(first.workspace, 'atocore-drill-report', 'report.json'), 'utf8')) as DrillReport;
    expect(firstReport.checks.find((c) => c.id === 'rto.budget')?.status).toBe('pass');

    const second = newJob('1002', inputs);
    const two = await second.run('main');
    expect(two.code, two.stdout + two.stderr).toBe(0);
    expect(two.stdout).toMatch(/history: restored from the cache \(atocore-drill-history-v1-drill-[0-9a-f]{16}-1001-1-drill-[0-9a-z]+\)/);
    const svg = readFileSync(join(second.workspace, 'atocore-drill-report', 'history.svg'), 'utf8');
    expect(circlesIn(svg, 'rto')).toBe(2);
    expect(second.summary).toContain('```mermaid\nxychart-beta');
    expect(second.summary).toMatch(/title "RTO over the last 2 runs/);
    expect(second.summary).toContain('```mermaid\ngantt');
    expect(cache.entries.filter((e) => e.committed).map((e) => /-(\d+-1-drill)-[0-9a-z]+$/.exec(e.key)?.[1])).toEqual(['1001-1-drill', '1002-1-drill']);
  }, 240_000);

  it('without a cache service the run still records its history (one point) and says the history is not carried', async () => {
    const job = newJob('2001', { history: 'history.sqlite' }, false);
    const run = await job.run('main');
    expect(run.code, run.stdout).toBe(0);
    expect(run.stdout).toContain('history: no cache service on this runner');
    expect(existsSync(join(job.workspace, 'history.sqlite'))).toBe(true);
    expect(circlesIn(readFileSync(join(job.workspace, 'atocore-drill-report', 'history.svg'), 'utf8'), 'rto')).toBe(1);
  }, 120_000);

  it('a hostile history in the workspace (not SQLite) fails the step before the run, naming the input, and is left as it was', async () => {
    const job = newJob('3001', { history: 'notes.txt' }, false);
    writeFileSync(join(job.workspace, 'notes.txt'), 'keep me\n');
    const run = await job.run('main');
    expect(run.code).not.toBe(0);
    expect(commands(run.stdout, 'error').join('\n')).toMatch(/input history: .*notes\.txt is not an SQLite file/);
    expect(run.stdout).not.toContain('Start AtoCore');
    expect(readFileSync(join(job.workspace, 'notes.txt'), 'utf8')).toBe('keep me\n');
  }, 60_000);

  it('rto-budget is refused in mode validate, naming the input', async () => {
    const job = newJob('4001', { mode: 'validate', 'ssh-host': 'dalidou', 'ssh-key': '-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n', 'ssh-known-hosts': 'dalidou ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE', 'rto-budget': '5m' }, false);
    const run = await job.run('main');
    expect(run.code).not.toBe(0);
    expect(commands(run.stdout, 'error').join('\n')).toContain('input rto-budget is for modes drill and rehearse');
  }, 60_000);
});
