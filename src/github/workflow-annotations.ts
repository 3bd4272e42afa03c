import * as core from '@actions/core';
import { reportAnnotations } from '../render/check-run.js';
import type { FailOn } from '../report/outcome.js';
import type { DrillReport } from '../report/model.js';

/**
 * The check run's annotations again, as workflow commands (`::error title=…::…`): where the
 * token cannot write check runs (fork pull requests, Gitea, `publish: none`) they are what a
 * reader sees on the run's page. The same list, so both always say the same thing.
 */
export interface WorkflowAnnotation {
  readonly level: 'error' | 'warning' | 'notice';
  readonly title: string;
  readonly message: string;
}

/** GitHub shows at most 10 error and 10 warning annotations of a step; more are dropped unseen. */
export const WORKFLOW_ANNOTATIONS_PER_LEVEL = 10;

const LEVEL = { failure: 'error', warning: 'warning', notice: 'notice' } as const;

/** Deduplicated, at most WORKFLOW_ANNOTATIONS_PER_LEVEL per level, plus a notice of how many were left out. */
export function workflowAnnotations(report: DrillReport, failOn: FailOn): WorkflowAnnotation[] {
  const seen = new Set<string>();
  const kept: WorkflowAnnotation[] = [];
  const left = { error: 0, warning: 0, notice: 0 };
  for (const annotation of reportAnnotations(report, { annotationPath: '', failOn })) {
    const level = LEVEL[annotation.annotation_level];
    const key = `${level}\u0000${annotation.title}\u0000${annotation.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    if (kept.filter((a) => a.level === level).length >= WORKFLOW_ANNOTATIONS_PER_LEVEL) left[level]++;
    else kept.push({ level, title: annotation.title, message: annotation.message });
  }
  const more = Object.entries(left).filter(([, n]) => n > 0);
  if (more.length > 0) {
    kept.push({ level: 'notice', title: 'more in the report', message: `${more.map(([level, n]) => `${n} more ${level === 'error' ? 'errors' : `${level}s`}`).join(', ')}: the job summary and report.json list every one` });
  }
  return kept;
}

/** Writes them through @actions/core, which escapes them and applies the run's masks. */
export function emitWorkflowAnnotations(report: DrillReport, failOn: FailOn): void {
  for (const annotation of workflowAnnotations(report, failOn)) core[annotation.level](annotation.message, { title: annotation.title });
}
