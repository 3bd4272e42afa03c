import { formatDuration } from '../common/duration.js';
import { cutText, printable } from './text.js';

/**
 * The history as a picture (SVG, written by hand: four small panels need no chart library).
 * One panel per figure — RTO, restore time, snapshot age (RPO), run duration — each on its own
 * scale, one point per run (left: oldest), the budgets as dashed lines, failed runs marked red
 * in every panel. Pure: runs in, a string out; every text from the history is escaped.
 */

/** What the chart reads of a run (a StoredRun has it). */
export interface ChartRun {
  readonly id?: number;
  readonly verdict: string;
  readonly started_at: string;
  readonly rto_ms: number | null;
  readonly restore_ms: number | null;
  readonly rpo_s: number | null;
  readonly duration_ms: number;
}

export interface ChartOptions {
  readonly title: string;
  readonly rtoBudgetMs: number | null;
  readonly rpoBudgetMs: number | null;
}

interface Panel {
  readonly id: string;
  readonly title: string;
  readonly value: (run: ChartRun) => number | null;
  readonly budgetMs: number | null;
}

const WIDTH = 960;
const LEFT = 80;
const RIGHT = 24;
const TOP = 56;
const PANEL_HEIGHT = 130;
const PANEL_GAP = 44;
const BOTTOM = 40;
const PLOT_WIDTH = WIDTH - LEFT - RIGHT;
const COLOURS = { line: '#1f6feb', point: '#1f6feb', failed: '#cf222e', budget: '#9a6700', grid: '#d0d7de', text: '#24292f', muted: '#57606a' } as const;

/** Text for XML: the characters XML forbids replaced, the five special ones escaped, bounded. */
export function xmlText(text: string, max = 200): string {
  return printable(cutText(String(text), max))
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

function finite(value: number | null): number | null {
  return value !== null && Number.isFinite(value) && value >= 0 ? value : null;
}

function isFailed(run: ChartRun): boolean {
  return run.verdict === 'fail' || run.verdict === 'error';
}

const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/** Tops a time axis reads well at (its middle line is half of it): round milliseconds, seconds, minutes, hours, days. */
const NICE_TOPS_MS: readonly number[] = [
  ...[1, 2, 5, 10, 20, 50, 100, 200, 500],
  ...[1, 2, 4, 10, 20, 30].map((n) => n * SECOND),
  ...[1, 2, 4, 10, 20, 30].map((n) => n * MINUTE),
  ...[1, 2, 4, 6, 12, 24, 48].map((n) => n * HOUR),
  ...[4, 8, 14, 30, 60, 120, 240, 480].map((n) => n * DAY),
];

/** The axis top: the first round duration at or above the largest value (beyond them, a power of ten). */
export function axisTop(max: number): number {
  if (!(max > 0)) return 1;
  const nice = NICE_TOPS_MS.find((top) => top >= max);
  if (nice !== undefined) return nice;
  const power = 10 ** Math.floor(Math.log10(max));
  for (const step of [1, 2, 5, 10]) if (step * power >= max) return step * power;
  return 10 * power;
}

function fixed(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(1);
}

function panelSvg(panel: Panel, runs: readonly ChartRun[], index: number): string {
  const top = TOP + index * (PANEL_HEIGHT + PANEL_GAP);
  const bottom = top + PANEL_HEIGHT;
  const values = runs.map((run) => finite(panel.value(run)));
  const budget = finite(panel.budgetMs);
  const maxValue = Math.max(0, ...values.filter((v): v is number => v !== null), budget ?? 0);
  const yMax = axisTop(maxValue * 1.05);
  const x = (i: number): number => LEFT + ((i + 0.5) * PLOT_WIDTH) / Math.max(1, runs.length);
  const y = (v: number): number => bottom - (v / yMax) * PANEL_HEIGHT;
  const parts: string[] = [`<g id="${panel.id}" class="panel">`];
  parts.push(`<text x="${LEFT}" y="${top - 10}" font-size="13" font-weight="600" fill="${COLOURS.text}">${xmlText(panel.title)}</text>`);
  // failed runs: a band across the panel, so a gap (no figure measured) is still marked
  runs.forEach((run, i) => {
    if (!isFailed(run)) return;
    const band = Math.max(2, PLOT_WIDTH / Math.max(1, runs.length));
    parts.push(`<rect class="failed-run" x="${fixed(x(i) - band / 2)}" y="${top}" width="${fixed(band)}" height="${PANEL_HEIGHT}" fill="${COLOURS.failed}" fill-opacity="0.12"/>`);
  });
  for (const fraction of [0, 0.5, 1]) {
    const v = yMax * fraction;
    parts.push(`<line x1="${LEFT}" x2="${WIDTH - RIGHT}" y1="${fixed(y(v))}" y2="${fixed(y(v))}" stroke="${COLOURS.grid}" stroke-width="1"/>`);
    parts.push(`<text x="${LEFT - 6}" y="${fixed(y(v) + 4)}" font-size="11" text-anchor="end" fill="${COLOURS.muted}">${xmlText(formatDuration(v))}</text>`);
  }
  if (budget !== null) {
    parts.push(`<line class="budget" x1="${LEFT}" x2="${WIDTH - RIGHT}" y1="${fixed(y(budget))}" y2="${fixed(y(budget))}" stroke="${COLOURS.budget}" stroke-width="1.5" stroke-dasharray="6 4"/>`);
    parts.push(`<text x="${WIDTH - RIGHT}" y="${fixed(y(budget) - 4)}" font-size="11" text-anchor="end" fill="${COLOURS.budget}">${xmlText(`budget ${formatDuration(budget)}`)}</text>`);
  }
  // the line breaks where a run measured nothing: a missing figure is not a zero
  let segment: string[] = [];
  const flush = (): void => {
    if (segment.length > 1) parts.push(`<polyline fill="none" stroke="${COLOURS.line}" stroke-width="1.5" points="${segment.join(' ')}"/>`);
    segment = [];
  };
  values.forEach((v, i) => {
    if (v === null) return flush();
    segment.push(`${fixed(x(i))},${fixed(y(v))}`);
  });
  flush();
  values.forEach((v, i) => {
    if (v === null) return;
    const run = runs[i]!;
    const failed = isFailed(run);
    const label = `${run.id !== undefined ? `run ${run.id}, ` : ''}${run.started_at}, ${run.verdict}: ${formatDuration(v)}`;
    parts.push(
      `<circle class="point${failed ? ' failed' : ''}" cx="${fixed(x(i))}" cy="${fixed(y(v))}" r="${failed ? 4.5 : 3.5}" fill="${failed ? COLOURS.failed : COLOURS.point}"><title>${xmlText(label, 400)}</title></circle>`,
    );
  });
  if (values.every((v) => v === null)) parts.push(`<text x="${LEFT + PLOT_WIDTH / 2}" y="${top + PANEL_HEIGHT / 2}" font-size="12" text-anchor="middle" fill="${COLOURS.muted}">not measured in these runs</text>`);
  parts.push('</g>');
  return parts.join('\n');
}

/** A few dates under the last panel: the first and last run and some between. */
function xLabels(runs: readonly ChartRun[], y: number): string {
  if (runs.length === 0) return '';
  const every = Math.max(1, Math.ceil(runs.length / 8));
  const parts: string[] = [];
  runs.forEach((run, i) => {
    if (i % every !== 0 && i !== runs.length - 1) return;
    const x = LEFT + ((i + 0.5) * PLOT_WIDTH) / runs.length;
    parts.push(`<text x="${fixed(x)}" y="${y}" font-size="10" text-anchor="middle" fill="${COLOURS.muted}">${xmlText(run.started_at.slice(0, 16).replace('T', ' '), 40)}</text>`);
  });
  return parts.join('\n');
}

/** The chart of `runs` (oldest first) as a standalone SVG document. */
export function renderHistoryChart(runs: readonly ChartRun[], options: ChartOptions): string {
  const panels: Panel[] = [
    { id: 'rto', title: 'RTO (stop → healthy on the restored data)', value: (run) => run.rto_ms, budgetMs: options.rtoBudgetMs },
    { id: 'restore', title: 'Restore time', value: (run) => run.restore_ms, budgetMs: null },
    { id: 'rpo', title: 'Snapshot age (RPO)', value: (run) => (run.rpo_s === null ? null : run.rpo_s * 1000), budgetMs: options.rpoBudgetMs },
    { id: 'duration', title: 'Run duration', value: (run) => run.duration_ms, budgetMs: null },
  ];
  const height = TOP + panels.length * (PANEL_HEIGHT + PANEL_GAP) - PANEL_GAP + BOTTOM;
  const failed = runs.filter(isFailed).length;
  const subtitle = `${runs.length} run${runs.length === 1 ? '' : 's'}${failed ? `, ${failed} failed (red)` : ''}${runs.length ? `, ${runs[0]!.started_at.slice(0, 10)} → ${runs.at(-1)!.started_at.slice(0, 10)}` : ''}`;
  const body =
    runs.length === 0
      ? `<text x="${WIDTH / 2}" y="${TOP + 40}" font-size="14" text-anchor="middle" fill="${COLOURS.muted}">no runs recorded yet</text>`
      : [...panels.map((panel, index) => panelSvg(panel, runs, index)), xLabels(runs, height - BOTTOM + 24)].join('\n');
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="-apple-system, Segoe UI, Helvetica, Arial, sans-serif" role="img">`,
    `<title>${xmlText(`atocore-drill history: ${options.title}`, 400)}</title>`,
    `<rect width="${WIDTH}" height="${height}" fill="#ffffff"/>`,
    `<text x="${LEFT}" y="22" font-size="16" font-weight="600" fill="${COLOURS.text}">${xmlText(options.title, 300)}</text>`,
    `<text x="${LEFT}" y="40" font-size="12" fill="${COLOURS.muted}">${xmlText(subtitle)}</text>`,
    body,
    '</svg>',
    '',
  ].join('\n');
}
