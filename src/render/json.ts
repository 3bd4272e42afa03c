import type { DrillReport } from '../report/model.js';

export function renderJsonReport(report: DrillReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}
