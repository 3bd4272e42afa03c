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

/** The points of an RTO trend: one per run that measured one, oldest first. */
export interface RtoPoint {
  readonly label: string;
  readonly rto_ms: number;
}

/** An `xychart-beta` of RTO in seconds over the given runs, with the budget as a second line; null without a point. */
export function rtoTrendChart(points: readonly RtoPoint[], budgetMs: number | null): string | null {
  if (points.length === 0) return null;
  const seconds = points.map((p) => p.rto_ms / 1000);
  const top = Math.max(...seconds, budgetMs === null ? 0 : budgetMs / 1000) * 1.1 || 1;
  const lines = [
    '```mermaid',
    'xychart-beta',
    `    title "RTO over the last ${points.length} run${points.length === 1 ? '' : 's'} (seconds)"`,
    `    x-axis [${points.map((p) => `"${mermaidLabel(p.label, 24, true)}"`).join(', ')}]`,
    `    y-axis "RTO (s)" 0 --> ${number(top)}`,
    `    line [${seconds.map(number).join(', ')}]`,
  ];
  if (budgetMs !== null) lines.push(`    line [${points.map(() => number(budgetMs / 1000)).join(', ')}]`);
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
