import type { DrillReport } from '../report/model.js';
import { cutText } from '../common/cut-text.js';

/** Text as the report's outputs carry it: printable, bounded. A report's strings come from the target (HTTP bodies, file names, remote output). */

/**
 * The characters XML 1.0 forbids (controls other than tab, newline and carriage return;
 * U+FFFE, U+FFFF) and lone surrogates, each replaced by U+FFFD; and the bidirectional
 * controls that would reorder what a reader sees (a check message spoofing another), shown
 * as their escape (`\u202e`), as the console shows them.
 */
export function printable(text: string): string {
  return text
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd')
    .replace(/[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
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
  if (report.kind === 'validate') return `${service} snapshot validation`;
  if (report.kind === 'rehearse') return `${service} restore rehearsal`;
  // a drill that went beyond the restore says which drills ran
  const drills = Array.isArray(report.target.drills) ? report.target.drills.filter((d): d is string => typeof d === 'string') : [];
  return drills.some((d) => d !== 'restore') ? `${service} drills: ${drills.join(', ')}` : `${service} restore drill`;
}
