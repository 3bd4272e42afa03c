import { afterEach, describe, expect, it } from 'vitest';
import type { CheckResult, DrillReport, Verdict } from '../src/report/model.js';
import { GitHubApi, GitHubApiError } from '../src/github/api.js';
import {
  CHECK_RUN_LIMITS,
  annotationBatches,
  checkRunCancelPayload,
  checkRunConclusion,
  checkRunFinishPayloads,
  checkRunStartPayload,
  truncateText,
  type PublishTarget,
} from '../src/render/check-run.js';
import { MASK, maskSecrets, secretPieces } from '../src/github/mask.js';
import { GitHubPublisher, type PublishedResource } from '../src/github/publish.js';
import { commitStatusCancelPayload, commitStatusFinishPayload, commitStatusStartPayload, commitStatusState } from '../src/render/commit-status.js';
import { LoopbackGitHubApi, type ApiBehaviour } from './support/github-api.js';
import { allRequestProblems, requestProblems } from './support/github-api-schema.js';

const target: PublishTarget = {
  checkName: 'AtoCore restore drill',
  headSha: 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678',
  detailsUrl: 'https://github.example/atocore/atocore/actions/runs/1',
  externalId: '1',
  annotationPath: '.github/workflows/drill-monthly.yml',
  failOn: 'fail',
  checksDocUrl: 'https://github.example/atocore/atocore-drill/blob/v1/docs/checks.md',
};

function report(verdict: Verdict, checks: CheckResult[], extra: Partial<DrillReport> = {}): DrillReport {
  return {
    schema: 'atocore-drill/report@1',
    kind: 'drill',
    verdict,
    started_at: '2026-04-07T06:00:00.000Z',
    finished_at: '2026-04-07T06:01:30.000Z',
    duration_ms: 90_000,
    target: { runtime: 'process', image: null, backup_stamp: '20260407T060000Z' },
    steps: [],
    checks,
    metrics: { rto_ms: 1_500, restore_ms: 150, rpo_s: 2 },
    snapshots: [],
    ...extra,
  };
}

function failing(n: number, evidenceBytes = 200): CheckResult[] {
  return Array.from({ length: n }, (_, i) => ({ id: `check.number_${i}`, status: 'fail' as const, message: `problem ${i}`, evidence: { blob: 'x'.repeat(evidenceBytes), i } }));
}

const path = (p: string): string => `/repos/atocore/atocore${p}`;

describe('verdict → check run conclusion and commit status (one mapping each)', () => {
  it.each([
    ['pass', 'fail', 'success', 'success'],
    ['warn', 'fail', 'neutral', 'success'],
    ['warn', 'warn', 'failure', 'failure'],
    ['fail', 'fail', 'failure', 'failure'],
    ['error', 'fail', 'failure', 'error'],
  ] as const)('%s (fail-on %s) → %s / %s', (verdict, failOn, conclusion, state) => {
    expect(checkRunConclusion(verdict, failOn)).toBe(conclusion);
    expect(commitStatusState(verdict, failOn)).toBe(state);
  });

  it('an error says it could not run, in the title', () => {
    const [payload] = checkRunFinishPayloads(report('error', [], { error: 'AtoCore did not answer /health within 60s' }), target, true);
    expect((payload!.output as { title: string }).title).toBe('could not run: AtoCore did not answer /health within 60s');
    expect(payload!.conclusion).toBe('failure');
  });
});

describe('check run payloads are valid for GitHub (its OpenAPI description) and within its limits', () => {
  it('the start: in progress, on the head commit, linking the run', () => {
    const body = checkRunStartPayload(target, 'restore drill, the embedded AtoCore stand-in', new Date('2026-04-07T06:00:00.123Z'));
    expect(requestProblems({ method: 'POST', path: path('/check-runs'), body })).toEqual([]);
    expect(body).toMatchObject({ status: 'in_progress', head_sha: target.headSha, started_at: '2026-04-07T06:00:00Z', details_url: target.detailsUrl });
  });

  it('120 failing checks: annotations in requests of at most 50, the last request completes the run', () => {
    const payloads = checkRunFinishPayloads(report('fail', failing(120)), target, true);
    expect(payloads).toHaveLength(3);
    expect(payloads.map((p) => ((p.output as { annotations: unknown[] }).annotations ?? []).length)).toEqual([50, 50, 20]);
    expect(payloads.slice(0, 2).every((p) => p.status === undefined && p.conclusion === undefined)).toBe(true);
    expect(payloads[2]).toMatchObject({ status: 'completed', conclusion: 'failure', completed_at: '2026-04-07T06:01:30Z' });
    expect(allRequestProblems(payloads.map((body) => ({ method: 'PATCH', path: path('/check-runs/42'), body })))).toEqual([]);
    const annotation = (payloads[0]!.output as { annotations: Array<Record<string, unknown>> }).annotations[0];
    expect(annotation).toMatchObject({ path: target.annotationPath, start_line: 1, end_line: 1, annotation_level: 'failure', title: 'check.number_0', message: 'problem 0' });
  });

  it('a run that could not be created at the start is created completed, then gets the rest of its annotations', () => {
    const payloads = checkRunFinishPayloads(report('fail', failing(60)), target, false);
    expect(payloads).toHaveLength(2);
    expect(requestProblems({ method: 'POST', path: path('/check-runs'), body: payloads[0] })).toEqual([]);
    expect(requestProblems({ method: 'PATCH', path: path('/check-runs/42'), body: payloads[1] })).toEqual([]);
    expect(payloads[0]).toMatchObject({ name: target.checkName, head_sha: target.headSha, conclusion: 'failure' });
  });

  it('huge evidence: output text and summary stay within 65,535 characters, annotation details within 64 KB', () => {
    const payloads = checkRunFinishPayloads(report('fail', failing(30, 200_000)), target, true);
    for (const payload of payloads) {
      const output = payload.output as { summary: string; text: string };
      expect(output.text.length).toBeLessThanOrEqual(CHECK_RUN_LIMITS.outputChars);
      expect(output.summary.length).toBeLessThanOrEqual(CHECK_RUN_LIMITS.outputChars);
      expect(output.text).toContain('the JSON report has all of it');
    }
    expect(allRequestProblems(payloads.map((body) => ({ method: 'PATCH', path: path('/check-runs/42'), body })))).toEqual([]);
  });

  it('a cut never splits a character in two', () => {
    const cut = truncateText('🛑'.repeat(40_000), CHECK_RUN_LIMITS.outputChars);
    expect(cut.length).toBeLessThanOrEqual(CHECK_RUN_LIMITS.outputChars);
    expect(cut).not.toMatch(/[\ud800-\udbff](?![\udc00-\udfff])/);
  });

  it('per-snapshot checks are annotated with their stamp; warnings are warnings', () => {
    const validation = report('fail', [{ id: 'rpo.fresh', status: 'warn', message: 'the newest snapshot is 30h old', evidence: {} }], {
      kind: 'validate',
      snapshots: [{ stamp: '20260401T060000Z', status: 'fail', checks: [{ id: 'snapshot.integrity', status: 'fail', message: 'integrity_check: page 4 is never used', evidence: {} }] }],
    });
    const [payload] = checkRunFinishPayloads(validation, target, true);
    const annotations = (payload!.output as { annotations: Array<{ title: string; annotation_level: string }> }).annotations;
    expect(annotations.map((a) => [a.title, a.annotation_level])).toEqual([
      ['rpo.fresh', 'warning'],
      ['20260401T060000Z: snapshot.integrity', 'failure'],
    ]);
  });

  it('the cancel payload (post, after main was killed)', () => {
    const body = checkRunCancelPayload('the main step was stopped', new Date());
    expect(requestProblems({ method: 'PATCH', path: path('/check-runs/42'), body })).toEqual([]);
    expect(body.conclusion).toBe('cancelled');
  });

  it('batches: 0 → none, 50 → one, 51 → two', () => {
    expect(annotationBatches([])).toEqual([]);
    expect(annotationBatches(Array.from({ length: 50 }, (_, i) => i))).toHaveLength(1);
    expect(annotationBatches(Array.from({ length: 51 }, (_, i) => i)).map((b) => b.length)).toEqual([50, 1]);
  });
});

describe('commit status payloads (Gitea; tokens without checks: write)', () => {
  it('pending, verdict, cancelled: valid, description within 140 characters', () => {
    const bodies = [
      commitStatusStartPayload(target, 'restore drill, the embedded AtoCore stand-in as a local process, with a long description that goes on'),
      commitStatusFinishPayload(report('fail', failing(40)), target),
      commitStatusCancelPayload(target, 'the main step was stopped'),
    ];
    expect(allRequestProblems(bodies.map((body) => ({ method: 'POST', path: path(`/statuses/${target.headSha}`), body })))).toEqual([]);
    expect(bodies.map((b) => b.state)).toEqual(['pending', 'failure', 'error']);
    expect(bodies.every((b) => b.context === target.checkName && b.target_url === target.detailsUrl)).toBe(true);
  });
});

describe('secret masking', () => {
  const key = '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmU\nAAAAAAAAAAEAAAAzAAAAC3NzaC1lZDI1\n-----END OPENSSH PRIVATE KEY-----\n';

  it('hides the whole secret and each line of a key, not the armour, not short pieces', () => {
    expect(secretPieces(key)).toEqual(expect.arrayContaining(['b3BlbnNzaC1rZXktdjEAAAAABG5vbmU', 'AAAAAAAAAAEAAAAzAAAAC3NzaC1lZDI1']));
    expect(secretPieces(key)).not.toContain('-----BEGIN OPENSSH PRIVATE KEY-----');
    expect(secretPieces('abc')).toEqual([]);
  });

  it('masks every string of a report, keys included, and leaves the rest alone', () => {
    const token = 'ghs_secretTokenValue1234567890';
    const masked = maskSecrets(
      report('fail', [{ id: 'snapshot.paths', status: 'fail', message: `auth with ${token} failed`, evidence: { stderr: `line b3BlbnNzaC1rZXktdjEAAAAABG5vbmU`, [token]: 1, n: 5 } }]),
      [...secretPieces(token), ...secretPieces(key)],
    );
    const text = JSON.stringify(masked);
    expect(text).not.toContain(token);
    expect(text).not.toContain('b3BlbnNzaC1rZXktdjEAAAAABG5vbmU');
    expect(masked.checks[0]!.message).toBe(`auth with ${MASK} failed`);
    expect(masked.checks[0]!.evidence.n).toBe(5);
    expect(masked.metrics.rto_ms).toBe(1_500);
  });
});

describe('GitHubApi (undici): bounded, retried only when it may pass, errors say what and where', () => {
  let server: LoopbackGitHubApi | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });
  const api = (url: string, token: string): GitHubApi => new GitHubApi({ baseUrl: url, token, requestTimeoutMs: 400, attempts: 2 });

  it('no answer: fails after the timeout, naming the call', async () => {
    server = await LoopbackGitHubApi.start('hang');
    const started = Date.now();
    const error = await api(server.url, server.token).call('POST', path('/check-runs'), { name: 'x', head_sha: 'y' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GitHubApiError);
    expect((error as Error).message).toMatch(new RegExp(`POST ${server.url}/repos/atocore/atocore/check-runs: no answer within 400ms`));
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('500: tried twice; 403: once, with GitHub\'s message', async () => {
    server = await LoopbackGitHubApi.start('failing');
    await expect(api(server.url, server.token).call('POST', path('/check-runs'), {})).rejects.toThrow(/answered 500: Server Error/);
    expect(server.requests).toHaveLength(2);
    server.requests.length = 0;
    server.behaviour = 'no-checks-permission';
    const error = (await api(server.url, server.token).call('POST', path('/check-runs'), {}).catch((e: unknown) => e)) as GitHubApiError;
    expect(error.status).toBe(403);
    expect(error.message).toMatch(/Resource not accessible by integration/);
    expect(server.requests).toHaveLength(1);
  });

  it('a cut connection is an error without a status', async () => {
    server = await LoopbackGitHubApi.start('reset');
    const error = (await api(server.url, server.token).call('PATCH', path('/check-runs/1'), {}).catch((e: unknown) => e)) as GitHubApiError;
    expect(error).toBeInstanceOf(GitHubApiError);
    expect(error.status).toBeNull();
  });
});

describe('GitHubPublisher: where the verdict goes', () => {
  let server: LoopbackGitHubApi | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  async function publish(behaviour: ApiBehaviour, options: { mode?: 'auto' | 'check-run' | 'commit-status'; statusesOnly?: boolean } = {}) {
    server = await LoopbackGitHubApi.start(behaviour);
    const created: PublishedResource[] = [];
    const warnings: string[] = [];
    const publisher = new GitHubPublisher({
      api: new GitHubApi({ baseUrl: server.url, token: server.token, requestTimeoutMs: 2_000, attempts: 1 }),
      repository: 'atocore/atocore',
      target,
      mode: options.mode ?? 'auto',
      statusesOnly: options.statusesOnly ?? false,
      created: (r) => created.push(r),
      warn: (m) => warnings.push(m),
      info: () => {},
    });
    await publisher.start('a drill', new Date());
    const outcome = await publisher.finish(report('pass', []));
    return { outcome, created, warnings, requests: server.requests.map((r) => `${r.method} ${r.path.replace(/\/[0-9a-f]{40}$/, '/SHA')}`) };
  }

  it('GitHub: a check run, created then completed', async () => {
    const { outcome, requests, warnings } = await publish('github');
    expect(requests).toEqual([`POST ${path('/check-runs')}`, `PATCH ${path('/check-runs/4000001')}`]);
    expect(outcome.resource).toMatchObject({ kind: 'check-run', id: 4000001 });
    expect(warnings).toEqual([]);
  });

  it('a token without checks: write: commit statuses instead (no warning: a supported setup)', async () => {
    const { outcome, requests, warnings } = await publish('no-checks-permission');
    expect(requests).toEqual([`POST ${path('/check-runs')}`, `POST ${path('/statuses/SHA')}`, `POST ${path('/statuses/SHA')}`]);
    expect(outcome.resource).toMatchObject({ kind: 'commit-status', context: target.checkName });
    expect(warnings).toEqual([]);
  });

  it('Gitea: commit statuses only, the Checks API is not even tried', async () => {
    const { requests } = await publish('gitea', { statusesOnly: true });
    expect(requests).toEqual([`POST ${path('/statuses/SHA')}`, `POST ${path('/statuses/SHA')}`]);
  });

  it('publish: check-run does not fall back; failures are warnings and no resource', async () => {
    const { outcome, warnings } = await publish('no-checks-permission', { mode: 'check-run' });
    expect(outcome.resource).toBeNull();
    expect(warnings.join('\n')).toMatch(/could not create the check run[\s\S]*could not publish the verdict as check run/);
  });
});
