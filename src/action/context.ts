import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';

/** What the runner tells every step about the run (GITHUB_* variables), read once. */
export interface RunContext {
  /** GITHUB_API_URL; null: nothing can be published */
  readonly apiUrl: string | null;
  /** owner/name */
  readonly repository: string | null;
  /** the commit the verdict belongs to: a pull request's head, else GITHUB_SHA */
  readonly headSha: string | null;
  /** the workflow run */
  readonly detailsUrl: string | null;
  readonly externalId: string | null;
  /** the workflow file that ran the action, for annotations */
  readonly annotationPath: string;
  /** Gitea or Forgejo Actions: no Checks API, commit statuses only */
  readonly statusesOnly: boolean;
  /** docs/checks.md of the action's own repository at the version used */
  readonly checksDocUrl: string | null;
  /** where main puts its work directory (RUNNER_TEMP: the runner empties it after the job) */
  readonly tempBase: string;
}

function env(name: string, source: NodeJS.ProcessEnv): string | null {
  const value = source[name]?.trim();
  return value ? value : null;
}

/**
 * On pull_request events GITHUB_SHA is the merge commit GitHub made; the commit people
 * look at (and where the checks of the pull request live) is the head.
 */
function pullRequestHead(source: NodeJS.ProcessEnv): string | null {
  const path = env('GITHUB_EVENT_PATH', source);
  if (!path) return null;
  try {
    const event = JSON.parse(readFileSync(path, 'utf8')) as { pull_request?: { head?: { sha?: unknown } } };
    const sha = event.pull_request?.head?.sha;
    return typeof sha === 'string' && /^[0-9a-f]{40,64}$/.test(sha) ? sha : null;
  } catch {
    return null;
  }
}

/** `owner/repo/.github/workflows/drill.yml@refs/heads/main` → `.github/workflows/drill.yml` */
function workflowFile(source: NodeJS.ProcessEnv): string | null {
  const ref = env('GITHUB_WORKFLOW_REF', source);
  const repository = env('GITHUB_REPOSITORY', source);
  if (!ref) return null;
  let path = ref.replace(/@[^@]*$/, '');
  if (repository && path.startsWith(`${repository}/`)) path = path.slice(repository.length + 1);
  return path.startsWith('.github/') || path.startsWith('.gitea/') || path.startsWith('.forgejo/') ? path : null;
}

export function readRunContext(source: NodeJS.ProcessEnv = process.env): RunContext {
  const server = env('GITHUB_SERVER_URL', source)?.replace(/\/+$/, '') ?? null;
  const repository = env('GITHUB_REPOSITORY', source);
  const runId = env('GITHUB_RUN_ID', source);
  const actionRepository = env('GITHUB_ACTION_REPOSITORY', source);
  const actionRef = env('GITHUB_ACTION_REF', source);
  const statusesOnly = env('GITEA_ACTIONS', source) === 'true' || env('FORGEJO_ACTIONS', source) === 'true';
  return {
    apiUrl: env('GITHUB_API_URL', source)?.replace(/\/+$/, '') ?? null,
    repository,
    headSha: pullRequestHead(source) ?? env('GITHUB_SHA', source),
    detailsUrl: server && repository && runId ? `${server}/${repository}/actions/runs/${runId}` : null,
    externalId: runId,
    annotationPath: workflowFile(source) ?? '.github',
    statusesOnly,
    checksDocUrl: server && actionRepository && actionRef ? `${server}/${actionRepository}/blob/${actionRef}/docs/checks.md` : null,
    tempBase: env('RUNNER_TEMP', source) ?? tmpdir(),
  };
}
