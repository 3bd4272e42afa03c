import { afterEach, describe, expect, it } from 'vitest';
import type { CheckResult, DrillReport, Verdict } from '../src/report/model.js';
import { GitHubApi } from '../src/github/api.js';
import { GitHubPublisher } from '../src/github/publish.js';
import type { PublishTarget } from '../src/render/check-run.js';
import { commitStatusCancelPayload, commitStatusFinishPayload, commitStatusStartPayload } from '../src/render/commit-status.js';
import { LoopbackGitHubApi } from './support/github-api.js';
import { giteaRequestProblems, giteaStatusStates } from './support/gitea-api-schema.js';

const target: PublishTarget = {
  checkName: 'AtoCore restore drill',
  headSha: 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678',
  detailsUrl: 'https://gitea.example/atocore/atocore/actions/runs/7',
  externalId: '7',
  annotationPath: '.gitea/workflows/drill-monthly.yml',
  failOn: 'fail',
  checksDocUrl: 'https://gitea.example/atocore/atocore-drill/src/branch/main/docs/checks.md',
};

function report(verdict: Verdict, checks: CheckResult[] = []): DrillReport {
  return {
    schema: 'atocore-drill/report@1',
    kind: 'drill',
    verdict,
    started_at: '2026-04-07T06:00:00.000Z',
    finished_at: '2026-04-07T06:01:30.000Z',
    duration_ms: 90_000,
    target: { runtime: 'container', image: 'atocore:2026.04', backup_stamp: '20260407T060000Z' },
    steps: [],
    checks,
    metrics: { rto_ms: 1_500, restore_ms: 150, rpo_s: 2 },
    snapshots: [],
    ...(verdict === 'error' ? { error: 'no Docker engine reachable' } : {}),
  };
}

const statusPath = `/repos/atocore/atocore/statuses/${target.headSha}`;

describe("commit statuses, judged by Gitea's API description (test/support/gitea-commit-status-api.json)", () => {
  it('the vendored description names the states the action may send', () => {
    expect(giteaStatusStates()).toEqual(['pending', 'success', 'error', 'failure', 'warning']);
  });

  it.each(['pass', 'warn', 'fail', 'error'] as const)('pending, then the verdict %s, then a cancel: each a body Gitea takes', (verdict) => {
    const failing = verdict === 'fail' ? [{ id: 'restore.files_match', status: 'fail' as const, message: 'x'.repeat(500), evidence: {} }] : [];
    const bodies = [
      commitStatusStartPayload(target, 'restore drill, atocore:2026.04 in containers'),
      commitStatusFinishPayload(report(verdict, failing), target),
      commitStatusCancelPayload(target, 'the main step was stopped'),
    ];
    expect(bodies.flatMap((body) => giteaRequestProblems({ method: 'POST', path: statusPath, body }))).toEqual([]);
  });

  it('the judge is not blind: a wrong state, a misspelled property, a wrong type, a wrong path', () => {
    const good = commitStatusStartPayload(target, 'a drill');
    expect(giteaRequestProblems({ method: 'POST', path: statusPath, body: { ...good, state: 'neutral' } })).toEqual([expect.stringMatching(/state "neutral" is not one of/)]);
    expect(giteaRequestProblems({ method: 'POST', path: statusPath, body: { ...good, targetUrl: 'https://x' } })).toEqual([expect.stringMatching(/must NOT have additional properties.*targetUrl/)]);
    expect(giteaRequestProblems({ method: 'POST', path: statusPath, body: { ...good, description: 42 } })).toEqual([expect.stringMatching(/\/description must be string/)]);
    expect(giteaRequestProblems({ method: 'POST', path: '/repos/atocore/atocore/check-runs', body: good })).toEqual([expect.stringMatching(/not an operation of Gitea's API/)]);
    expect(giteaRequestProblems({ method: 'POST', path: `/repos/atocore/statuses/${target.headSha}`, body: good })).toHaveLength(1);
  });
});

describe('GitHubPublisher against a Gitea-like API: what it sends', () => {
  let server: LoopbackGitHubApi | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it.each(['auto', 'commit-status'] as const)('publish %s: only commit statuses, each path and body one Gitea takes', async (mode) => {
    server = await LoopbackGitHubApi.start('gitea');
    const warnings: string[] = [];
    const publisher = new GitHubPublisher({
      api: new GitHubApi({ baseUrl: server.url, token: server.token, requestTimeoutMs: 2_000, attempts: 1 }),
      repository: 'atocore/atocore',
      target,
      mode,
      statusesOnly: true,
      created: () => {},
      warn: (m) => warnings.push(m),
      info: () => {},
    });
    await publisher.start('restore drill, atocore:2026.04 in containers', new Date());
    const outcome = await publisher.finish(report('fail', [{ id: 'restore.files_match', status: 'fail', message: 'a file differs', evidence: {} }]));
    expect(warnings).toEqual([]);
    expect(outcome.resource).toMatchObject({ kind: 'commit-status', context: target.checkName });
    expect(server.requests.map((r) => `${r.method} ${r.path}`)).toEqual([`POST ${statusPath}`, `POST ${statusPath}`]);
    expect(server.requests.flatMap((r) => giteaRequestProblems(r))).toEqual([]);
    expect(server.requests.map((r) => (r.body as { state: string }).state)).toEqual(['pending', 'failure']);
  });
});
