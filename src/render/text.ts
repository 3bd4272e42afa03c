import type { DrillReport } from '../report/model.js';
import { cutText } from '../common/cut-text.js';

/** Text as the report's outputs carry it: printable, bounded. A report's strings come from the target (HTTP bodies, file names, remote output). */

/**
 * The characters XML 1.0 forbids (controls other than tab, newline and carriage return;
 * U+FFFE, U+FFFF) and lone surrogates, each replaced by U+FFFD.
 */
export function printable(text: string): string {
  return text.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');
}

export { cutText };

/** The first line of a text, for one-line places (titles, attributes, table cells). */
export function firstLine(text: string): string {
  const newline = text.search(/[\r\n]/);
  return (newline === -1 ? text : text.slice(0, newline)).trim();
}

/** JSON of a value, pretty when small; never more than about `max` characters. */
export function boundedJson(value: unknown, max: number): string {
  const compact = JSON.stringify(value) ?? 'null';
  if (compact.length > max) return cutText(compact, max, '… (cut; the JSON report has all of it)');
  const pretty = JSON.stringify(value, null, 2) ?? 'null';
  return pretty.length <= max ? pretty : compact;
}


/** What a report is about, as titles say it: "AtoCore restore drill", "jellycore snapshot validation". */
export function reportTitle(report: DrillReport): string {
  const profile = report.target.profile;
  const service = typeof profile === 'string' && profile !== 'atocore' ? profile : 'AtoCore';
  return report.kind === 'drill' ? `${service} restore drill` : report.kind === 'validate' ? `${service} snapshot validation` : `${service} restore rehearsal`;
}
