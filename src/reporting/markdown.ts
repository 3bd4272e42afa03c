import { formatDuration } from '../common/duration.js';
import type { CheckResult, DrillReport, Verdict } from '../engine/types.js';

const BANNER: Record<Verdict, string> = {
  pass: '✅ PASS',
  warn: '⚠️ WARN',
  fail: '❌ FAIL',
  error: '🛑 ERROR (could not run)',
};
const ICON: Record<string, string> = { pass: '✅', warn: '⚠️', fail: '❌', skip: '⏭️', error: '🛑' };

/** GitHub's job summary is capped at 1 MiB; stay well under it. */
export const SUMMARY_LIMIT_BYTES = 900 * 1024;

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\r?\n/g, '<br>');
}

function metric(value: number | null, render: (n: number) => string): string {
  return value === null ? '—' : render(value);
}

function evidenceBlock(c: CheckResult, budget: number): string {
  let json = JSON.stringify(c.evidence, null, 2);
  if (json.length > budget) json = `${json.slice(0, budget)}\n… (truncated; the JSON report has all of it)`;
  return `<details><summary><code>${c.id}</code>: ${escapeHtml(c.message)}</summary>\n\n\`\`\`json\n${json}\n\`\`\`\n\n</details>\n`;
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** The report as Markdown: verdict banner, step timeline, checks, metrics, evidence of failures. */
export function renderMarkdownSummary(report: DrillReport): string {
  const title = report.kind === 'drill' ? 'AtoCore restore drill' : report.kind === 'validate' ? 'AtoCore snapshot validation' : 'AtoCore restore rehearsal';
  const lines: string[] = [];
  lines.push(`## ${title}: ${BANNER[report.verdict]}`, '');
  const target = report.target;
  lines.push(
    `Runtime \`${target.runtime ?? '—'}\`${target.image ? `, image \`${target.image}\`` : ''}, backup \`${target.backup_stamp ?? '—'}\`, ` +
      `${formatDuration(report.duration_ms)} (${report.started_at} → ${report.finished_at})`,
    '',
  );
  if (report.error) lines.push(`> **Could not run:** ${cell(report.error.split('\n')[0] ?? '')}`, '');
  lines.push('| RTO | restore | RPO |', '|---|---|---|');
  lines.push(
    `| ${metric(report.metrics.rto_ms, formatDuration)} | ${metric(report.metrics.restore_ms, formatDuration)} | ${metric(report.metrics.rpo_s, (s) => formatDuration(s * 1000))} |`,
    '',
  );
  if (report.steps.length > 0) {
    lines.push('### Steps', '', '| | step | time | detail |', '|---|---|---|---|');
    for (const step of report.steps) {
      lines.push(`| ${ICON[step.status] ?? step.status} | ${cell(step.title)} | ${formatDuration(step.duration_ms)} | ${cell((step.detail.split('\n')[0] ?? '').slice(0, 200))} |`);
    }
    lines.push('');
  }
  lines.push('### Checks', '', '| | check | result |', '|---|---|---|');
  for (const c of report.checks) lines.push(`| ${ICON[c.status] ?? c.status} | \`${c.id}\` | ${cell(c.message)} |`);
  lines.push('');
  for (const snapshot of report.snapshots) {
    const bad = snapshot.checks.filter((c) => c.status === 'fail' || c.status === 'warn');
    lines.push(`- ${ICON[snapshot.status] ?? snapshot.status} \`${snapshot.stamp}\`${bad.length ? `: ${bad.map((c) => `\`${c.id}\` ${cell(c.message)}`).join('; ')}` : ''}`);
  }
  if (report.snapshots.length > 0) lines.push('');
  const failures = [...report.checks, ...report.snapshots.flatMap((s) => s.checks)].filter((c) => c.status === 'fail' || c.status === 'warn');
  let text = lines.join('\n');
  if (failures.length > 0) {
    text += '\n### Evidence\n\n';
    const perCheck = Math.max(2_000, Math.floor((SUMMARY_LIMIT_BYTES - Buffer.byteLength(text)) / failures.length) - 400);
    for (const failure of failures) {
      const block = evidenceBlock(failure, perCheck);
      if (Buffer.byteLength(text) + Buffer.byteLength(block) > SUMMARY_LIMIT_BYTES) {
        text += '\n… more evidence in the JSON report.\n';
        break;
      }
      text += block;
    }
  }
  return text;
}
