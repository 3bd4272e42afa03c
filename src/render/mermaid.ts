import type { StepRecord } from '../report/model.js';

/**
 * Pictures for the job summary as Mermaid blocks, which GitHub and Gitea draw from the Markdown
 * itself (nothing hosted). Pure. Mermaid has no escaping inside these diagrams, so every text
 * from a report or the history is reduced to characters that cannot end a label or a line.
 */

/**
 * Letters, digits, spaces and plain punctuation only; bounded; never empty. `colon`: a quoted
 * label (xychart) may hold ':', a gantt task's name may not (it starts the task's data).
 */
export function mermaidLabel(text: string, max = 60, colon = false): string {
  const plain = text
    .normalize('NFKC')
    .replace(colon ? /[^\p{L}\p{N} ._()/+:-]/gu : /[^\p{L}\p{N} ._()/+-]/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, max)
    .trim();
  return plain === '' ? '-' : plain;
}

/** A figure with at most 3 decimals (Mermaid reads plain decimal numbers). */
function number(value: number): string {
  return String(Math.round(value * 1000) / 1000);
}

/** A figure over the last runs, for the summary: RTO for drills and rehearsals, RPO (snapshot age) for validations. */
export interface FigureTrend {
  readonly figure: 'RTO' | 'RPO';
  /** one per run that measured the figure, oldest first */
  readonly points: ReadonlyArray<{ readonly label: string; readonly ms: number }>;
  readonly budgetMs: number | null;
}

/** The unit a trend reads best in, by its largest value. */
function unitFor(maxMs: number): { name: string; ms: number } {
  if (maxMs >= 2 * 3_600_000) return { name: 'hours', ms: 3_600_000 };
  if (maxMs >= 2 * 60_000) return { name: 'minutes', ms: 60_000 };
  return { name: 'seconds', ms: 1_000 };
}

/** An `xychart-beta` of the figure over the runs, with the budget as a second line; null without a point. */
export function trendChart(trend: FigureTrend): string | null {
  const points = trend.points.filter((p) => Number.isFinite(p.ms) && p.ms >= 0);
  if (points.length === 0) return null;
  const budget = trend.budgetMs !== null && Number.isFinite(trend.budgetMs) && trend.budgetMs > 0 ? trend.budgetMs : null;
  const unit = unitFor(Math.max(...points.map((p) => p.ms), budget ?? 0));
  const values = points.map((p) => p.ms / unit.ms);
  const top = Math.max(...values, budget === null ? 0 : budget / unit.ms) * 1.1 || 1;
  const lines = [
    '```mermaid',
    'xychart-beta',
    `    title "${trend.figure} over the last ${points.length} run${points.length === 1 ? '' : 's'} (${unit.name})"`,
    `    x-axis [${points.map((p) => `"${mermaidLabel(p.label, 24, true)}"`).join(', ')}]`,
    `    y-axis "${trend.figure} (${unit.name})" 0 --> ${number(top)}`,
    `    line [${values.map(number).join(', ')}]`,
  ];
  if (budget !== null) lines.push(`    line [${points.map(() => number(budget / unit.ms)).join(', ')}]`);
  lines.push('```');
  return lines.join('\n');
}

const GANTT_MAX_STEPS = 40;

const GANTT_TAG: Readonly<Record<string, string>> = { pass: 'done', fail: 'crit', error: 'crit', skip: '' };

/**
 * A `gantt` of one run's steps, laid end to end from 0 (the report keeps durations, not start
 * times; the steps run one after the other). Failed and errored steps are `crit` (red).
 */
export function stepsGantt(steps: readonly StepRecord[], title: string): string | null {
  // a merged report's hundreds of steps make no readable timeline (the table lists them)
  if (steps.length === 0 || steps.length > GANTT_MAX_STEPS) return null;
  const lines = ['```mermaid', 'gantt', `    title ${mermaidLabel(title, 80)}`, '    dateFormat x', '    axisFormat %M:%S', '    section Steps'];
  let start = 0;
  steps.forEach((step, index) => {
    const duration = Number.isFinite(step.duration_ms) && step.duration_ms > 0 ? Math.round(step.duration_ms) : 0;
    // a bar needs some width to be seen; its label says the step's status
    const end = start + Math.max(duration, 1);
    const tag = GANTT_TAG[step.status] ?? '';
    lines.push(`    ${mermaidLabel(step.title, 60)} (${mermaidLabel(step.status, 10)}) :${tag ? `${tag}, ` : ''}s${index}, ${start}, ${end}`);
    start += duration;
  });
  lines.push('```');
  return lines.join('\n');
}
