import { globSync, realpathSync, statSync } from 'node:fs';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import type { ReportPaths } from '../output/report-files.js';
import type { FailOn } from '../report/verdict.js';
import { REPORT_FILE_LIMITS } from '../merge/limits.js';
import { FieldError, namedForSync, type FieldNames } from './fields.js';
import { failOn, reportPaths } from './rules.js';

/** One report to merge: where it is, and how the summary names its file. */
export interface ReportInput {
  /** absolute */
  readonly path: string;
  /** as the user gave it (CLI) or relative to the workspace (action) */
  readonly shown: string;
}

/** What `merge-reports` (and the action's mode merge) runs on. */
export interface MergeInputs extends ReportPaths {
  readonly reports: readonly ReportInput[];
  readonly failOn: FailOn;
}

export interface RawMergeInputs {
  readonly reports: readonly ReportInput[];
  readonly reportJson?: string | undefined;
  readonly junit?: string | undefined;
  readonly summary?: string | undefined;
  readonly failOn?: string | undefined;
}

/** The same file named twice is merged once (patterns overlap); at least one, at most a matrix's worth. */
function distinctReports(reports: readonly ReportInput[]): ReportInput[] {
  const seen = new Set<string>();
  const distinct: ReportInput[] = [];
  for (const report of reports) {
    let key = report.path;
    try {
      key = realpathSync(report.path);
    } catch {
      // reading it says what is wrong
    }
    if (seen.has(key)) continue;
    seen.add(key);
    distinct.push(report);
  }
  if (distinct.length === 0) throw new FieldError('reports', (n) => `${n.one('reports')}: no report given: name the atocore-drill report files to merge`);
  if (distinct.length > REPORT_FILE_LIMITS.files) throw new FieldError('reports', `${distinct.length} reports, more than the ${REPORT_FILE_LIMITS.files} a merge takes`);
  return distinct;
}

/** Every rule of a merge's inputs, for the CLI and the action, worded by `names`. */
export function mergeInputs(raw: RawMergeInputs, names: FieldNames): MergeInputs {
  return namedForSync(names, () => {
    const reports = distinctReports(raw.reports);
    return {
      reports,
      // the merged report written over one of the reports it merges would lose that target
      ...reportPaths(raw, reports.map((report) => ['reports', report.path] as const)),
      failOn: failOn(raw.failOn),
    };
  });
}

/** The CLI's FILE arguments: relative to the working directory, shown as given. */
export function reportFileArguments(files: readonly string[], base: string = process.cwd()): ReportInput[] {
  return files.map((file) => ({ path: resolve(base, file), shown: file }));
}

const GLOB_CHARS = /[*?[\]{}]/;

function inside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}

/** A match's real place (symbolic links followed) must be in the workspace too. */
function confined(root: string, realRoot: string, path: string, pattern: string): string {
  let real: string;
  try {
    real = realpathSync(path);
  } catch {
    return path; // reading it says what is wrong
  }
  if (!inside(realRoot, real)) throw new FieldError('reports', `"${pattern}": ${relative(root, path)} leads outside the workspace (to ${real}); reports are read from the workspace only`);
  return path;
}

/**
 * The action's `reports`: one path or glob a line, relative to the
 * workspace and never outside it, symbolic links included. A glob that matches nothing or a
 * path that does not exist is an error: a fleet whose reports went missing must not pass
 * on the ones that are left. Directories a glob matches are passed over.
 */
export function reportPatterns(patterns: readonly string[], workspace: string): ReportInput[] {
  const root = resolve(workspace);
  let realRoot = root;
  try {
    realRoot = realpathSync(root);
  } catch {
    // no workspace: every pattern then fails to match, naming itself
  }
  const found: ReportInput[] = [];
  for (const pattern of patterns) {
    const absolute = resolve(root, pattern);
    if (!inside(root, absolute)) throw new FieldError('reports', `"${pattern}" is outside the workspace (${root}); reports are read from the workspace only`);
    const relativePattern = relative(root, absolute).split(sep).join('/');
    if (!GLOB_CHARS.test(pattern)) {
      let isDirectory = false;
      try {
        isDirectory = statSync(absolute).isDirectory();
      } catch {
        throw new FieldError('reports', `${relativePattern} does not exist in the workspace`);
      }
      if (isDirectory) throw new FieldError('reports', `${relativePattern} is a directory; name the report files (e.g. ${relativePattern}/**/report.json)`);
      found.push({ path: confined(root, realRoot, absolute, pattern), shown: relativePattern });
      continue;
    }
    const matches = globSync(relativePattern, { cwd: root, withFileTypes: true })
      .filter((entry) => !entry.isDirectory())
      .map((entry) => resolve(entry.parentPath, entry.name))
      .sort();
    if (matches.length === 0) throw new FieldError('reports', `"${pattern}" matches no file in the workspace`);
    if (found.length + matches.length > REPORT_FILE_LIMITS.files) throw new FieldError('reports', `"${pattern}" matches more than the ${REPORT_FILE_LIMITS.files} reports a merge takes`);
    for (const path of matches) found.push({ path: confined(root, realRoot, path, pattern), shown: relative(root, path).split(sep).join('/') });
  }
  return found;
}
