import { errorMessage } from '../common/errors.js';
import type { DrillReport } from '../report/model.js';
import { GitHubApiError, type GitHubApi } from './api.js';
import { checkRunCancelPayload, checkRunFinishPayloads, checkRunStartPayload, type PublishTarget } from '../render/check-run.js';
import { commitStatusCancelPayload, commitStatusFinishPayload, commitStatusStartPayload } from '../render/commit-status.js';

/** Where results go: a check run, a commit status, or (auto) a check run falling back to a commit status. */
export type PublishMode = 'auto' | 'check-run' | 'commit-status';

/** What the publisher created on the API host, recorded as it goes so that the post step can finish it. */
export type PublishedResource =
  | { readonly kind: 'check-run'; readonly id: number; readonly url: string | null }
  | { readonly kind: 'commit-status'; readonly sha: string; readonly context: string };

export interface PublishOutcome {
  /** what carries the verdict now; null when nothing could be published */
  readonly resource: PublishedResource | null;
  /** every call that failed, as warnings */
  readonly problems: readonly string[];
}

export interface GitHubPublisherOptions {
  readonly api: GitHubApi;
  /** owner/name */
  readonly repository: string;
  readonly target: PublishTarget;
  readonly mode: PublishMode;
  /** the host has no Checks API (Gitea, Forgejo): auto goes straight to commit statuses */
  readonly statusesOnly: boolean;
  /** called as soon as a resource exists (the action saves it in GITHUB_STATE) */
  readonly created: (resource: PublishedResource) => void;
  /** a call failed or a fallback was taken; the verdict is unaffected */
  readonly warn: (message: string) => void;
  readonly info: (message: string) => void;
}

/** Answers that mean "no check runs here": no permission (a token without checks: write), no endpoint (Gitea). */
function checksUnavailable(error: unknown): boolean {
  return error instanceof GitHubApiError && (error.status === 403 || error.status === 404);
}

function repoPath(repository: string): string {
  const [owner, name] = repository.split('/');
  return `/repos/${encodeURIComponent(owner ?? '')}/${encodeURIComponent(name ?? '')}`;
}

function numberField(body: unknown, key: string): number | null {
  const value = body && typeof body === 'object' ? (body as Record<string, unknown>)[key] : undefined;
  return typeof value === 'number' && Number.isInteger(value) ? value : null;
}

function stringField(body: unknown, key: string): string | null {
  const value = body && typeof body === 'object' ? (body as Record<string, unknown>)[key] : undefined;
  return typeof value === 'string' ? value : null;
}

/**
 * Publishes one run's result on the commit: a check run (in progress at the start,
 * completed with annotations at the end) or, where check runs are not available, a
 * commit status. A failing call becomes a warning; it never changes or hides the verdict.
 */
export class GitHubPublisher {
  readonly #options: GitHubPublisherOptions;
  readonly #problems: string[] = [];
  #resource: PublishedResource | null = null;
  #useStatus: boolean;

  constructor(options: GitHubPublisherOptions) {
    this.#options = options;
    this.#useStatus = options.mode === 'commit-status' || (options.mode === 'auto' && options.statusesOnly);
  }

  get resource(): PublishedResource | null {
    return this.#resource;
  }

  #problem(message: string): void {
    this.#problems.push(message);
    this.#options.warn(message);
  }

  #fallBackToStatus(error: unknown): boolean {
    if (this.#options.mode !== 'auto' || !checksUnavailable(error)) return false;
    this.#useStatus = true;
    this.#options.info(`check runs are not available (${errorMessage(error)}); reporting a commit status "${this.#options.target.checkName}" instead`);
    return true;
  }

  #record(resource: PublishedResource): void {
    this.#resource = resource;
    this.#options.created(resource);
  }

  /** Marks the commit as being drilled. Never throws. */
  async start(what: string, startedAt: Date): Promise<void> {
    const { api, repository, target } = this.#options;
    if (!this.#useStatus) {
      try {
        const answer = await api.call('POST', `${repoPath(repository)}/check-runs`, checkRunStartPayload(target, what, startedAt));
        const id = numberField(answer.body, 'id');
        if (id === null) throw new GitHubApiError(`POST ${api.baseUrl}${repoPath(repository)}/check-runs answered ${answer.status} without a check run id`, { status: answer.status, method: 'POST', url: `${api.baseUrl}${repoPath(repository)}/check-runs` });
        this.#record({ kind: 'check-run', id, url: stringField(answer.body, 'html_url') });
        return;
      } catch (error) {
        if (!this.#fallBackToStatus(error)) {
          this.#problem(`could not create the check run "${target.checkName}" (${errorMessage(error)}); trying again with the verdict`);
          return;
        }
      }
    }
    try {
      await api.call('POST', `${repoPath(repository)}/statuses/${encodeURIComponent(target.headSha)}`, commitStatusStartPayload(target, what));
      this.#record({ kind: 'commit-status', sha: target.headSha, context: target.checkName });
    } catch (error) {
      this.#problem(`could not set the pending commit status "${target.checkName}" (${errorMessage(error)}); trying again with the verdict`);
    }
  }

  /** Publishes the verdict. Never throws: failures are in the outcome's problems (and warned). */
  async finish(report: DrillReport): Promise<PublishOutcome> {
    const { api, repository, target } = this.#options;
    if (!this.#useStatus) {
      const created = this.#resource?.kind === 'check-run' ? this.#resource : null;
      const payloads = checkRunFinishPayloads(report, target, created !== null);
      let id = created?.id ?? null;
      try {
        for (const payload of payloads) {
          if (id === null) {
            const answer = await api.call('POST', `${repoPath(repository)}/check-runs`, payload);
            id = numberField(answer.body, 'id');
            if (id === null) throw new Error(`the API answered ${answer.status} without a check run id`);
            this.#record({ kind: 'check-run', id, url: stringField(answer.body, 'html_url') });
          } else {
            await api.call('PATCH', `${repoPath(repository)}/check-runs/${id}`, payload);
          }
        }
        return { resource: this.#resource, problems: this.#problems };
      } catch (error) {
        if (id !== null || !this.#fallBackToStatus(error)) {
          this.#problem(`could not publish the verdict as check run "${target.checkName}" (${errorMessage(error)}); the job summary and the report files have it`);
          return { resource: null, problems: this.#problems };
        }
      }
    }
    try {
      await api.call('POST', `${repoPath(repository)}/statuses/${encodeURIComponent(target.headSha)}`, commitStatusFinishPayload(report, target));
      this.#record({ kind: 'commit-status', sha: target.headSha, context: target.checkName });
      return { resource: this.#resource, problems: this.#problems };
    } catch (error) {
      this.#problem(`could not publish the verdict as commit status "${target.checkName}" (${errorMessage(error)}); the job summary and the report files have it`);
      return { resource: null, problems: this.#problems };
    }
  }
}

/** Finishes what a run left open (post step, after main was stopped): the check run cancelled, the status an error. Throws a GitHubApiError. */
export async function closeAbandoned(
  api: GitHubApi,
  repository: string,
  resource: PublishedResource,
  reason: string,
  target: { detailsUrl: string | null },
): Promise<void> {
  if (resource.kind === 'check-run') {
    await api.call('PATCH', `${repoPath(repository)}/check-runs/${resource.id}`, checkRunCancelPayload(reason, new Date()));
  } else {
    await api.call('POST', `${repoPath(repository)}/statuses/${encodeURIComponent(resource.sha)}`, commitStatusCancelPayload({ checkName: resource.context, detailsUrl: target.detailsUrl }, reason));
  }
}
