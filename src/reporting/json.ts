import type { DrillReport } from '../engine/types.js';

export function renderJsonReport(report: DrillReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}
