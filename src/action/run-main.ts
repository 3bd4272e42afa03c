import { mkdtemp, rm } from 'node:fs/promises';
import { basename, join, relative } from 'node:path';
import * as core from '@actions/core';
import { DrillError, errorMessage } from '../common/errors.js';
import { namedFor } from '../inputs/fields.js';
import { interruptOnSignals } from '../common/interrupt.js';
import type { DrillReport } from '../report/model.js';
import { describeDrill, runDrillJob } from '../jobs/drill-job.js';
import { consoleProgress } from '../output/console.js';
import { GitHubApi } from '../github/api.js';
import { reportHeadline } from '../render/check-run.js';
import { maskSecrets, secretPieces } from '../github/mask.js';
import { GitHubPublisher, type PublishOutcome } from '../github/publish.js';
import { renderMarkdownSummary } from '../render/markdown.js';
import { runOutcome, type FailOn } from '../report/outcome.js';
import { writeReportFiles } from '../output/report-files.js';
import { Input, Output, ReportFile, State } from './constants.js';
import { readRunContext, type RunContext } from './context.js';
import { ACTION_NAMES, readActionInputs, type ActionInputs } from './inputs.js';
import { useBundledSqliteAddon } from './native-addon.js';
import { drillInLogGroups } from '../github/log-groups.js';
import { emitWorkflowAnnotations } from '../github/workflow-annotations.js';
import { describeValidation, runValidation } from './validate.js';
import { describeMerge, runMergeJob } from '../merge/job.js';
import { actionHistory, historyFailsStep, keepActionHistory, restoreHistory } from './history.js';
import type { SummaryExtras } from '../render/markdown.js';
import { describeRehearsal, runRehearseJob } from '../jobs/rehearse-job.js';

/** A report for a run that could not even start its job (the check run still gets a verdict). */
function couldNotRunReport(kind: DrillReport['kind'], startedAt: Date, why: string): DrillReport {
  const finishedAt = new Date();
  return {
    schema: 'atocore-drill/report@1',
    kind,
    verdict: 'error',
    started_at: startedAt.toISOString(),
    finished_at: finishedAt.toISOString(),
    duration_ms: finishedAt.getTime() - startedAt.getTime(),
    target: { runtime: null, image: null, backup_stamp: null },
    steps: [],
    checks: [],
    metrics: { rto_ms: null, restore_ms: null, rpo_s: null },
    snapshots: [],
    error: why,
  };
}

function publisherFor(inputs: ActionInputs, context: RunContext): { publisher: GitHubPublisher; api: GitHubApi } | null {
  if (inputs.publish === 'none') {
    if (inputs.githubToken === null) core.info(`input ${Input.GithubToken} is empty: the verdict goes to the job summary and the report files only`);
    return null;
  }
  const missing = (['apiUrl', 'repository', 'headSha'] as const).filter((key) => context[key] === null);
  if (missing.length > 0) {
    core.warning(`cannot publish a check run or commit status: the runner did not set ${missing.map((k) => ({ apiUrl: 'GITHUB_API_URL', repository: 'GITHUB_REPOSITORY', headSha: 'GITHUB_SHA' })[k]).join(', ')}`);
    return null;
  }
  const api = new GitHubApi({ baseUrl: context.apiUrl!, token: inputs.githubToken!, userAgent: 'atocore-drill-action' });
  const publisher = new GitHubPublisher({
    api,
    repository: context.repository!,
    mode: inputs.publish,
    statusesOnly: context.statusesOnly,
    target: {
      checkName: inputs.checkName,
      headSha: context.headSha!,
      detailsUrl: context.detailsUrl,
      externalId: context.externalId,
      annotationPath: context.annotationPath,
      failOn: inputs.failOn,
      checksDocUrl: context.checksDocUrl,
    },
    // recorded the moment it exists: post finishes it if main never gets to
    created: (resource) => core.saveState(State.Published, JSON.stringify(resource)),
    warn: (message) => core.warning(message),
    info: (message) => core.info(message),
  });
  core.saveState(State.Repository, context.repository);
  if (context.detailsUrl) core.saveState(State.DetailsUrl, context.detailsUrl);
  return { publisher, api };
}

function footer(inputs: ActionInputs, context: RunContext, outcome: PublishOutcome | null, files: string[]): string {
  const lines = ['', '---', ''];
  const resource = outcome?.resource;
  if (resource?.kind === 'check-run') lines.push(`Check run: ${resource.url ? `[${inputs.checkName}](${resource.url})` : `"${inputs.checkName}"`}`);
  else if (resource?.kind === 'commit-status') lines.push(`Commit status: \`${inputs.checkName}\` on \`${resource.sha.slice(0, 12)}\``);
  else if (outcome) lines.push('Not published on the commit (see the warnings).');
  if (files.length > 0) lines.push('', `Report files: ${files.map((f) => `\`${f}\``).join(', ')}`);
  if (context.checksDocUrl) lines.push('', `What each check means and what to do when it fails: ${context.checksDocUrl}`);
  return `${lines.join('\n')}\n`;
}

/** Every report file attempted whatever became of the others; each one not written is a warning naming it. */
async function writeReports(report: DrillReport, reportDir: string, failOn: FailOn, summaryExtras?: SummaryExtras): Promise<string[]> {
  const paths = { reportJson: join(reportDir, ReportFile.Json), junit: join(reportDir, ReportFile.Junit), summary: join(reportDir, ReportFile.Summary) };
  const unwritten = await writeReportFiles(report, paths, { failOn, ...(summaryExtras ? { summaryExtras } : {}) });
  for (const file of unwritten) core.warning(`${basename(file.path)} not written (the verdict stands): input ${Input.ReportDir}: ${file.reason}`);
  return Object.values(paths).filter((path) => !unwritten.some((file) => file.path === path));
}

/** The job itself, by mode; the one call that may take long. */
async function runJob(inputs: ActionInputs, workDir: string, signal: AbortSignal): Promise<DrillReport> {
  // bad input found on the way (a root with no snapshots on the host) is named as an input
  return namedFor(ACTION_NAMES, () => startJob(inputs, workDir, signal));
}

async function startJob(inputs: ActionInputs, workDir: string, signal: AbortSignal): Promise<DrillReport> {
  if (inputs.merge) return runMergeJob(inputs.merge);
  if (inputs.rehearse) {
    core.saveState(State.Runtime, inputs.rehearse.runtime);
    const observer = { ...drillInLogGroups(consoleProgress(process.stdout)), progress: (line: string) => core.info(line) };
    // the environment only for an encrypted key's passphrase: the key itself came from its input
    return runRehearseJob(inputs.rehearse, { signal, observer, tmpDir: workDir });
  }
  if (inputs.drill) {
    core.saveState(State.Runtime, inputs.drill.runtime);
    return runDrillJob(inputs.drill, { signal, observer: drillInLogGroups(consoleProgress(process.stdout)), tmpDir: workDir });
  }
  core.saveState(State.Runtime, 'ssh');
  return runValidation(inputs.validate!, { signal, workDir });
}

/** Everything main does; returns why the step fails, or null. */
async function main(): Promise<string | null> {
  const startedAt = new Date();
  const inputs = readActionInputs();
  const context = readRunContext();
  const pieces = inputs.secrets.flatMap(secretPieces);
  const what = inputs.merge ? describeMerge(inputs.merge) : inputs.rehearse ? describeRehearsal(inputs.rehearse) : inputs.drill ? describeDrill(inputs.drill) : describeValidation(inputs.validate!);
  core.info(`atocore-drill: ${what}`);

  // before anything is created: a signal from here on tears down what the run started
  const interrupt = interruptOnSignals({
    exitCode: 1,
    onFirst: (signal) => core.warning(`${signal}: stopping the run, tearing down what it started`),
    onSecond: (signal) => core.warning(`${signal} again: killing everything the run started, then exiting`),
  });
  // under work-dir when given: the drill's bind mounts come from here, and post removes it whole
  const workDir = await mkdtemp(join(inputs.drill?.workDir ?? inputs.rehearse?.workDir ?? context.tempBase, 'atocore-drill-'));
  core.saveState(State.WorkDir, workDir);
  const publishing = publisherFor(inputs, context);
  const history = actionHistory(inputs);
  try {
    await publishing?.publisher.start(what, startedAt);
    let report: DrillReport;
    try {
      // a merge reads JSON only
      if (inputs.mode !== 'merge') useBundledSqliteAddon();
      // before the run: its rto.regression reads the earlier runs
      if (history) await restoreHistory(history);
      report = await runJob(inputs, workDir, interrupt.signal);
    } catch (error) {
      // the job could not start (a bad seed, no Docker, an unsupported runner, …): still a verdict for the commit
      report = couldNotRunReport(inputs.mode === 'merge' ? 'drill' : inputs.mode, startedAt, error instanceof DrillError ? error.message : `unexpected error: ${errorMessage(error)}`);
    }
    report = maskSecrets(report, pieces);

    const kept = await keepActionHistory(report, history);
    const written = await writeReports(report, inputs.reportDir, inputs.failOn, kept.summaryExtras);
    const outcome = publishing ? await publishing.publisher.finish(report) : null;
    const workspace = process.env.GITHUB_WORKSPACE ?? process.cwd();
    try {
      if (process.env.GITHUB_STEP_SUMMARY) {
        await core.summary.addRaw(renderMarkdownSummary(report, inputs.failOn, kept.summaryExtras)).addRaw(footer(inputs, context, outcome, written.map((f) => relative(workspace, f)))).write();
      } else {
        core.info('GITHUB_STEP_SUMMARY is not set (not a GitHub runner?): no job summary; summary.md has it');
      }
    } catch (error) {
      core.warning(`could not write the job summary: ${errorMessage(error)}`);
    }

    const jsonPath = join(inputs.reportDir, ReportFile.Json);
    const junitPath = join(inputs.reportDir, ReportFile.Junit);
    core.setOutput(Output.Verdict, report.verdict);
    core.setOutput(Output.Report, written.includes(jsonPath) ? jsonPath : '');
    core.setOutput(Output.Junit, written.includes(junitPath) ? junitPath : '');
    core.setOutput(Output.RtoMs, report.metrics.rto_ms ?? '');
    core.setOutput(Output.RpoS, report.metrics.rpo_s ?? '');
    core.setOutput(Output.BackupStamp, report.target.backup_stamp ?? '');
    core.setOutput(Output.CheckRunUrl, outcome?.resource?.kind === 'check-run' ? (outcome.resource.url ?? '') : '');

    // where check runs cannot be written (fork pull requests, Gitea, publish: none) these are the annotations a reader sees
    emitWorkflowAnnotations(report, inputs.failOn);
    core.info(`${inputs.checkName}: ${reportHeadline(report)}`);
    const failsJob = runOutcome(report.verdict, inputs.failOn).failsJob;
    if (failsJob) return `${inputs.checkName}: ${reportHeadline(report)}`;
    // a run that passed but left no record fails the step as the CLI's exit 3 does (docs/history.md)
    return historyFailsStep(failsJob, kept.problems) ? `${inputs.checkName}: ${reportHeadline(report)}, but the run history was not kept: ${kept.problems[0]}` : null;
  } finally {
    interrupt.dispose();
    await publishing?.api.close();
    try {
      await rm(workDir, { recursive: true, force: true });
    } catch (error) {
      core.warning(`could not remove ${workDir}: ${errorMessage(error)} (the post step tries again)`);
    }
    core.saveState(State.Finished, 'true');
  }
}

/**
 * The main step. The verdict decides (the outcome table, report/outcome.ts: fail and
 * error fail the step, warn too with fail-on: warn); bad input fails it naming the input.
 * setFailed is called here and nowhere else.
 */
export async function runMain(): Promise<void> {
  let failure: string | null;
  try {
    failure = await main();
  } catch (error) {
    failure = error instanceof DrillError ? error.message : `unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`;
    // no report, but the verdict output still says what a later step must know: nothing was told
    core.setOutput(Output.Verdict, 'error');
  }
  if (failure !== null) core.setFailed(failure);
}
