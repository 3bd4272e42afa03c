import { accessSync, constants as fsConstants, existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { splitCommandLine } from '../common/child-process.js';
import { parseDuration } from '../common/duration.js';
import { checkDistinctOutputs, checkReportPath, type ReportPaths } from '../output/report-files.js';
import { isBuiltinProfile, type BuiltinProfile } from '../profiles/builtin.js';
import { DRILL_NAMES, isDrillName, type DrillName } from '../engine/drill-names.js';
import type { FailOn } from '../report/verdict.js';
import { FieldError, forField, token, type FieldId } from './fields.js';

/** Rules for single fields that a drill and a validation share. Each bad value is a FieldError for its field. */

export function duration(field: FieldId, value: string): number {
  return forField(field, (name) => parseDuration(value, name));
}

export function commandLine(field: FieldId, value: string): string[] {
  return forField(field, (name) => splitCommandLine(value, name));
}

export function failOn(value: string | undefined): FailOn {
  if (value === undefined || value === 'fail') return 'fail';
  if (value === 'warn') return 'warn';
  throw new FieldError('failOn', `"${value}" is not one of fail, warn`);
}

/**
 * A built-in profile by its name (absent: AtoCore, the default), one of `known` (those the
 * command supports, e.g. BUILTIN_PROFILES); anything else is bad input naming them.
 */
export function profileName<P extends BuiltinProfile>(field: FieldId, value: string | undefined, known: readonly P[]): P {
  const name = value?.trim() || 'atocore';
  if (!isBuiltinProfile(name) || !(known as readonly string[]).includes(name)) throw new FieldError(field, `"${value}" is not a known profile (known: ${known.join(', ')})`);
  return name as P;
}

export function wholeNumber(field: FieldId, value: string, min: number, max: number): number {
  if (!/^\d+$/.test(value.trim()) || Number(value) < min || Number(value) > max) throw new FieldError(field, `"${value}" is not a whole number from ${min} to ${max}`);
  return Number(value);
}

/** Relative paths are relative to `base`: the working directory (CLI), the workspace (action). */
export function existingFile(field: FieldId, value: string, base: string): string {
  const path = resolve(base, value);
  if (!existsSync(path)) throw new FieldError(field, `${path} does not exist`);
  if (!statSync(path).isFile()) throw new FieldError(field, `${path} is not a file`);
  return path;
}

export function existingDirectory(field: FieldId, value: string, base: string): string {
  const path = resolve(base, value);
  if (!existsSync(path) || !statSync(path).isDirectory()) throw new FieldError(field, `${path} is not a directory`);
  return path;
}

/**
 * Where the drill makes its scratch root: an existing directory the harness can write. In a
 * job that runs in a container it is the directory shared with the Docker host at the same
 * path, so that the drill's bind mounts reach it (the container runtime proves that first).
 */
export function workDirectory(field: FieldId, value: string, base: string): string {
  const path = existingDirectory(field, value, base);
  // Docker's bind-mount strings split on ':' (and ',' in --mount): such a path cannot be mounted
  if (/[:,]/.test(path)) throw new FieldError(field, `${path} holds a ':' or ','; Docker cannot bind-mount such a path: name another directory`);
  try {
    accessSync(path, fsConstants.W_OK | fsConstants.X_OK);
  } catch {
    throw new FieldError(field, `${path} is not a directory this user can write`);
  }
  return path;
}

/**
 * The three report files, checked before the run by the report rules (output/report-files.ts):
 * each a place the run can write, at most one of them `-`, none the same file as another or
 * as `others` (the ledger).
 */
export function reportPaths(raw: { reportJson?: string | undefined; junit?: string | undefined; summary?: string | undefined }, others: ReadonlyArray<readonly [FieldId, string | null]> = []): ReportPaths {
  const paths: ReportPaths = {
    reportJson: forField('reportJson', (name) => checkReportPath(raw.reportJson, name)),
    junit: forField('junit', (name) => checkReportPath(raw.junit, name)),
    summary: forField('summary', (name) => checkReportPath(raw.summary, name)),
  };
  const all: ReadonlyArray<readonly [FieldId, string | null]> = [...others, ['reportJson', paths.reportJson], ['junit', paths.junit], ['summary', paths.summary]];
  forField('reportJson', () => checkDistinctOutputs(all.map(([field, path]) => [token(field), path] as const)));
  return paths;
}

/**
 * Which drills to run: names separated by commas (or spaces), each one of DRILL_NAMES, in
 * that order without repeats; absent: `fallback` (a profile's default).
 */
export function drillNames(field: FieldId, value: string | undefined, fallback: readonly DrillName[]): DrillName[] {
  if (value === undefined) return [...fallback];
  const names = value.split(/[\s,]+/).filter((name) => name !== '');
  if (names.length === 0) throw new FieldError(field, `names no drill (known: ${DRILL_NAMES.join(', ')})`);
  const unknown = names.filter((name) => !isDrillName(name));
  if (unknown.length > 0) throw new FieldError(field, `${unknown.map((name) => `"${name}"`).join(', ')} ${unknown.length === 1 ? 'is not a drill' : 'are not drills'} (known: ${DRILL_NAMES.join(', ')})`);
  return DRILL_NAMES.filter((name) => names.includes(name));
}
