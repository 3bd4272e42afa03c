import * as core from '@actions/core';
import { errorMessage } from '../common/errors.js';
import { GitHubApi } from '../github/api.js';
import { closeAbandoned, type PublishedResource } from '../github/publish.js';
import { readRunContext } from './context.js';
import { readPostInputs } from './inputs.js';
import { removeLeftovers } from './leftovers.js';
import { State } from './constants.js';

function publishedResource(text: string): PublishedResource | null {
  if (!text) return null;
  try {
    const value = JSON.parse(text) as PublishedResource;
    if (value.kind === 'check-run' && typeof value.id === 'number') return value;
    if (value.kind === 'commit-status' && typeof value.sha === 'string' && typeof value.context === 'string') return value;
  } catch {
    // not ours
  }
  return null;
}

async function post(): Promise<void> {
  const workDir = core.getState(State.WorkDir);
  if (!workDir) {
    core.info('nothing to clean up: main created nothing');
    return;
  }
  const finished = core.getState(State.Finished) === 'true';
  const runtime = core.getState(State.Runtime);

  const { removed, problems } = await removeLeftovers(workDir, { containers: runtime === 'container' });
  for (const problem of problems) core.warning(`post: ${problem}`);
  if (removed.length > 0) core.info(`post: removed what the run left behind: ${removed.join(', ')}`);
  else core.info('post: nothing left behind');

  if (finished) return;
  const resource = publishedResource(core.getState(State.Published));
  if (!resource) return;
  const repository = core.getState(State.Repository);
  const { githubToken } = readPostInputs();
  const apiUrl = readRunContext().apiUrl;
  if (!githubToken || !apiUrl || !repository) {
    core.warning(`post: the ${resource.kind} main opened stays open: no token or API URL to finish it with`);
    return;
  }
  const api = new GitHubApi({ baseUrl: apiUrl, token: githubToken, userAgent: 'atocore-drill-action' });
  try {
    await closeAbandoned(api, repository, resource, 'the main step was stopped before it reported (cancelled, timed out or killed)', {
      detailsUrl: core.getState(State.DetailsUrl) || null,
    });
    core.info(`post: main did not finish; marked the ${resource.kind === 'check-run' ? `check run ${resource.id} cancelled` : `commit status "${resource.context}" as an error`}`);
  } catch (error) {
    core.warning(`post: could not finish the ${resource.kind} main opened: ${errorMessage(error)}`);
  } finally {
    await api.close();
  }
}

/** The post step: removes what main left and finishes what it opened. It only ever warns. */
export async function runPost(): Promise<void> {
  try {
    await post();
  } catch (error) {
    core.warning(`post: ${errorMessage(error)}`);
  }
}
