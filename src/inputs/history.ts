import { basename, dirname, extname, join, resolve } from 'node:path';
import { checkHistoryFile } from '../history/store.js';
import { checkOutputPlace } from '../output/output-file.js';
import { STDOUT_PATH } from '../output/report-files.js';
import { FieldError, forField, type FieldId } from './fields.js';
import { duration } from './rules.js';

/** The run history and its chart, as an entry collected them. */
/** What every run's entry collects for its verdict, before any rule: the report files, fail-on, the history. */
export interface RawRunOutputs extends RawHistoryInputs {
  readonly junit?: string | undefined;
  readonly summary?: string | undefined;
  readonly failOn?: string | undefined;
}

/** The budgets a drill or a rehearsal is held to, before any rule. */
export interface RawBudgets {
  readonly rtoBudget?: string | undefined;
  readonly rpo?: string | undefined;
}

export interface RawHistoryInputs {
  readonly history?: string | undefined;
  readonly chart?: string | undefined;
  /** the JSON report's path: the chart goes beside it unless `chart` says where */
  readonly reportJson?: string | undefined;
}

export interface HistoryInputs {
  /** absolute; null: no history kept */
  readonly history: string | null;
  /** absolute; null: no chart written */
  readonly chart: string | null;
}

/** report.json → report.history.svg, in the same folder. */
export function chartBeside(reportJson: string): string {
  const name = basename(reportJson, extname(reportJson)) || 'report';
  return join(dirname(reportJson), `${name}.history.svg`);
}

/**
 * `history` and `chart`: the history a file this harness can append to (checked now, read only:
 * a refused file is left as it was, exit 2), the chart a place a report could be written.
 * Without `chart` it goes beside the JSON report when there is one in a file.
 */
export function historyInputs(raw: RawHistoryInputs, base: string): HistoryInputs {
  if (raw.history === undefined || raw.history.trim() === '') {
    if (raw.chart !== undefined) throw new FieldError('chart', (n) => `${n.one('chart')} draws the run history: it needs ${n.one('history')} FILE`);
    return { history: null, chart: null };
  }
  if (raw.history === STDOUT_PATH) throw new FieldError('history', 'the history is a file (SQLite) the run appends to: name one');
  const history = resolve(base, raw.history);
  forField('history', (name) => checkHistoryFile(history, name));
  const asked = raw.chart ?? (raw.reportJson !== undefined && raw.reportJson !== STDOUT_PATH && raw.reportJson.trim() !== '' ? chartBeside(resolve(base, raw.reportJson)) : undefined);
  if (asked === undefined) return { history, chart: null };
  if (asked === STDOUT_PATH || asked.trim() === '') throw new FieldError('chart', 'the chart is written to a file: name one (an SVG image)');
  const chart = resolve(base, asked);
  forField(raw.chart !== undefined ? 'chart' : 'reportJson', (name) => checkOutputPlace(chart, name, { writeThrough: true }));
  return { history, chart };
}

/** The outputs a run writes besides its reports, for the rule that no two outputs are one file. */
export function historyOutputs(inputs: HistoryInputs): Array<readonly [FieldId, string | null]> {
  return [
    ['history', inputs.history],
    ['chart', inputs.chart],
  ];
}

/** The budgets a drill is held to: `rtoBudget` (rto.budget) and `rpo` (rpo.budget); absent: none. */
export function budgetInputs(raw: { readonly rtoBudget?: string | undefined; readonly rpo?: string | undefined }): { rtoBudgetMs: number | null; rpoBudgetMs: number | null } {
  return {
    rtoBudgetMs: raw.rtoBudget === undefined ? null : duration('rtoBudget', raw.rtoBudget),
    rpoBudgetMs: raw.rpo === undefined ? null : duration('rpo', raw.rpo),
  };
}
