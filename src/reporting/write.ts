import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { errorMessage, UsageError } from '../common/errors.js';
import type { DrillReport } from '../engine/types.js';
import { renderJsonReport } from './json.js';
import { renderJunit } from './junit.js';
import { renderMarkdownSummary } from './markdown.js';

/** Writes a report file whole or not at all (temp file + rename), creating its folder. */
export async function writeReportFile(path: string, content: string, flag: string): Promise<void> {
  try {
    await mkdir(dirname(path), { recursive: true });
    const temp = `${path}.${process.pid}.tmp`;
    await writeFile(temp, content);
    await rename(temp, path);
  } catch (error) {
    throw new UsageError(`${flag}: cannot write ${path}: ${errorMessage(error)}`);
  }
}

/** The report files a run was asked for; `flag` names in errors are the CLI's (the action maps its own). */
export async function writeReportFiles(report: DrillReport, paths: { reportJson: string | null; junit: string | null; summary: string | null }): Promise<void> {
  if (paths.reportJson) await writeReportFile(paths.reportJson, renderJsonReport(report), '--report-json');
  if (paths.junit) await writeReportFile(paths.junit, renderJunit(report), '--junit');
  if (paths.summary) await writeReportFile(paths.summary, renderMarkdownSummary(report), '--summary');
}
