import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { isAbsolute, relative } from 'node:path';
import * as core from '@actions/core';
import { errorMessage } from '../common/errors.js';
import { exitCodeAfterHistory, keepRunHistory, historySummaryExtras, type RunHistoryOptions } from '../history/keep.js';
import { targetLabel } from '../history/run.js';
import type { SummaryExtras } from '../render/markdown.js';
import type { DrillReport } from '../report/model.js';
import { formatSshAddress } from '../remote/address.js';
import type { ActionInputs } from './inputs.js';
import { Input } from './constants.js';

/**
 * The run history in the action (input `history`): the file is carried from run to run by the
 * toolkit's cache service (the one actions/cache uses; Gitea's act_runner serves the same
 * protocol), restored before the run and saved after it under a new key, so nobody has to wire
 * a cache step. docs/history.md says where it lives and how to start it afresh.
 */

/** Bump to start every history afresh (a new layout of the key, or a reset for everyone). */
const KEY_VERSION = 'v1';

/** What main needs to keep the history of this run; null: no history asked for. */
export interface ActionHistory extends RunHistoryOptions {
  readonly history: string;
  /** the cache key's prefix (restore-keys) and the key this run saves under */
  readonly keyPrefix: string;
  readonly key: string;
  /** the path handed to the cache, as it must be the same at restore and save */
  readonly cachePath: string;
}

/** The label of what the run is about, known before it runs (the report's own target says the same). */
function targetOfInputs(inputs: ActionInputs): string {
  if (inputs.drill) return targetLabel({ runtime: inputs.drill.runtime, image: inputs.drill.image, from_image: inputs.drill.fromImage });
  const source = inputs.validate?.source ?? inputs.rehearse?.source;
  if (source) return source.kind === 'dir' ? source.path : `${formatSshAddress(source.address)}:${source.root}`;
  return inputs.mode;
}

/** The history and chart of a mode's inputs, for any mode whose rules took them (src/inputs/history.ts). */
function historyOf(inputs: object | null): { history: string; chart: string | null } | null {
  if (!inputs || !('history' in inputs) || typeof inputs.history !== 'string') return null;
  return { history: inputs.history, chart: 'chart' in inputs && typeof inputs.chart === 'string' ? inputs.chart : null };
}

/** The history this run keeps, from its inputs; null when input history is empty (or the mode keeps none). */
export function actionHistory(inputs: ActionInputs, env: NodeJS.ProcessEnv = process.env): ActionHistory | null {
  const own = historyOf(inputs.drill ?? inputs.validate ?? inputs.rehearse);
  if (!own) return null;
  const workspace = env.GITHUB_WORKSPACE ?? process.cwd();
  const inside = relative(workspace, own.history);
  const cachePath = inside !== '' && !inside.startsWith('..') && !isAbsolute(inside) ? inside : own.history;
  // one lineage per mode, target and file: a matrix of targets keeps one history each
  const lineage = createHash('sha256').update(`${inputs.mode}\n${targetOfInputs(inputs)}\n${cachePath}`).digest('hex').slice(0, 16);
  const keyPrefix = `atocore-drill-history-${KEY_VERSION}-${inputs.mode}-${lineage}-`;
  // unique per save (a cache key is written once): two matrix jobs of one target in one run both save
  const run = `${env.GITHUB_RUN_ID ?? 'local'}-${env.GITHUB_RUN_ATTEMPT ?? '1'}-${env.GITHUB_JOB ?? 'job'}-${Date.now().toString(36)}`;
  return {
    history: own.history,
    chart: own.chart,
    rtoBudgetMs: inputs.drill?.rtoBudgetMs ?? null,
    // a drill's rpo.budget; a validation's RPO is drawn as the budget line
    rpoBudgetMs: inputs.drill?.rpoBudgetMs ?? inputs.validate?.rpoMs ?? null,
    keyPrefix,
    key: `${keyPrefix}${run}`.slice(0, 512),
    cachePath,
  };
}

/** The cache client, loaded only by runs that keep a history (it is a large part of the bundle). */
async function cacheClient(): Promise<typeof import('@actions/cache') | null> {
  const cache = await import('@actions/cache');
  return cache.isFeatureAvailable() ? cache : null;
}

/**
 * Before the run: the newest saved history of this lineage, if any, into place. A history
 * already there (a self-hosted runner's workspace, a file the workflow brought) is kept as it is.
 * Never fails the step: without the cache the history starts here.
 */
export async function restoreHistory(history: ActionHistory): Promise<void> {
  if (existsSync(history.history)) {
    core.info(`history: ${history.history} is already there; using it as it is`);
    return;
  }
  try {
    const cache = await cacheClient();
    if (!cache) {
      core.info('history: no cache service on this runner (ACTIONS_CACHE_URL / ACTIONS_RESULTS_URL unset): the history starts with this run and is not carried to the next');
      return;
    }
    const hit = await cache.restoreCache([history.cachePath], history.key, [history.keyPrefix]);
    core.info(hit ? `history: restored from the cache (${hit})` : `history: none in the cache yet (${history.keyPrefix}*): this run starts it`);
  } catch (error) {
    core.warning(`history: could not restore it from the cache (${errorMessage(error)}); this run starts a new one`);
  }
}

/** After the run is recorded: the history saved under this run's key, for the next run to restore. */
async function saveHistory(history: ActionHistory): Promise<void> {
  if (!existsSync(history.history)) return;
  try {
    const cache = await cacheClient();
    if (!cache) return;
    await cache.saveCache([history.cachePath], history.key);
    core.info(`history: saved to the cache as ${history.key}`);
  } catch (error) {
    // as actions/cache does: a cache that cannot be saved is a warning, the next run restores an older one
    core.warning(`history: could not save it to the cache (${errorMessage(error)}); the next run will not see this one`);
  }
}

/** What keeping the history gave main: the summary's trend, and why the step fails because of it, if it does. */
export interface KeptActionHistory {
  readonly summaryExtras: SummaryExtras | undefined;
  readonly problems: readonly string[];
}

/** After the run: record it, draw the chart into the report folder, save the history to the cache. */
export async function keepActionHistory(report: DrillReport, history: ActionHistory | null): Promise<KeptActionHistory> {
  if (history === null) return { summaryExtras: undefined, problems: [] };
  const names = { history: `input ${Input.History}`, chart: `input ${Input.History} (chart)` };
  const kept = await keepRunHistory(report, history, names);
  for (const problem of kept.problems) core.error(problem);
  await saveHistory(history);
  return { summaryExtras: historySummaryExtras(report.kind, kept, history), problems: kept.problems };
}

/** Whether the step fails because the history could not be kept (the CLI's rule: exitCodeAfterHistory). */
export function historyFailsStep(verdictFailsStep: boolean, problems: readonly string[]): boolean {
  return exitCodeAfterHistory(verdictFailsStep ? 1 : 0, problems) !== 0;
}
