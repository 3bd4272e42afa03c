/**
 * A profile from `--profile FILE|NAME`: a built-in name or a JSON/YAML file, read bounded,
 * checked against schema/profile.schema.json and then against what the schema cannot say
 * (unique ids, known placeholders, a usable output pattern). Every fault is the profile's
 * field error (exit 2) naming where in the file it is; nothing runs before the profile holds.
 */
import { randomBytes } from 'node:crypto';
import { lstat } from 'node:fs/promises';
import { dirname, extname, isAbsolute, join, posix, resolve } from 'node:path';
import { errorMessage } from '../common/errors.js';
import { decodeUtf8, describeSchemaErrors, readBounded, schemaValidator } from '../common/schema-file.js';
import { FieldError } from '../inputs/fields.js';
import { BUILTIN_PROFILE_DIR, BUILTIN_PROFILES, isBuiltinProfile } from './builtin.js';
import type { LoadedProfile, ServiceProfile } from './profile.js';
import { BUILTIN_PLACEHOLDERS, expand, placeholdersIn } from './template.js';

/** A profile file is a page of declarations, not data. */
const PROFILE_MAX_BYTES = 256 * 1024;

/** Which profile a spec names: the built-in AtoCore one (code), or a file to load. */
export type ProfileSpec = { readonly kind: 'atocore' } | { readonly kind: 'file'; readonly path: string; readonly builtin: string | null };

export function resolveProfileSpec(spec: string, base: string): ProfileSpec {
  if (spec === 'atocore') return { kind: 'atocore' };
  if (isBuiltinProfile(spec)) return { kind: 'file', path: join(BUILTIN_PROFILE_DIR, `${spec}.yaml`), builtin: spec };
  if (!/[/.]/.test(spec)) {
    throw new FieldError('profile', `"${spec}" is neither a built-in profile (${BUILTIN_PROFILES.join(', ')}) nor a file (a path holds "/" or ends in .yaml, .yml or .json)`);
  }
  return { kind: 'file', path: isAbsolute(spec) ? spec : resolve(base, spec), builtin: null };
}

/** `NAME=VALUE` overrides of a profile's variables. */
export function parseProfileVars(lines: readonly string[]): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const line of lines) {
    const match = /^([a-z][a-z0-9_]{0,39})=(.*)$/s.exec(line);
    if (!match) throw new FieldError('profileVars', `"${line.slice(0, 80)}" is not NAME=VALUE (a name of lower-case letters, digits and _)`);
    vars[match[1]!] = match[2]!;
  }
  return vars;
}

export async function loadProfileFile(spec: Extract<ProfileSpec, { kind: 'file' }>, overrides: Readonly<Record<string, string>>): Promise<LoadedProfile> {
  const where = spec.builtin ? `built-in profile ${spec.builtin}` : spec.path;
  const fail = (what: string): never => {
    throw new FieldError('profile', `${where}: ${what}`);
  };
  const info = await lstat(spec.path).catch((error: unknown) => fail(`cannot be read: ${errorMessage(error)}`));
  if (info.isSymbolicLink() || !info.isFile()) fail('not a regular file');
  let bytes: Buffer;
  try {
    bytes = await readBounded(spec.path, PROFILE_MAX_BYTES, 'a profile');
  } catch (error) {
    return fail(errorMessage(error).replace(`${spec.path}: `, ''));
  }
  let text: string;
  try {
    text = decodeUtf8(bytes, 'the file');
  } catch (error) {
    return fail(errorMessage(error));
  }
  const value = await parseDeclaration(text, extname(spec.path).toLowerCase() === '.json').catch((error: unknown) => fail(errorMessage(error)));
  const validate = await schemaValidator('profile');
  if (!validate(value)) fail(`not an atocore-drill/profile@1 profile: ${describeSchemaErrors(validate).replace(/(^|; )\/(\S*)/g, (_m, sep: string, path: string) => `${sep}${path.replace(/\//g, '.') || '(top)'}`)}`);
  const profile = value as ServiceProfile;
  for (const problem of semanticProblems(profile)) fail(problem);
  const unknown = Object.keys(overrides).filter((name) => !Object.hasOwn(profile.variables ?? {}, name));
  if (unknown.length > 0) {
    throw new FieldError('profileVars', `${unknown.join(', ')}: not a variable of ${where} (its variables: ${Object.keys(profile.variables ?? {}).join(', ') || 'none'})`);
  }
  const variables = { ...profile.variables, ...overrides };
  for (const problem of pathsOutsideTheDrillRoot(profile, variables)) fail(problem);
  return { profile, source: where, dir: dirname(spec.path), variables };
}

/** Where the drill root stands in when a profile's paths are checked before it exists: a name no `..` can guess. */
const ROOT_STAND_IN = `/atocore-drill-root-${randomBytes(8).toString('hex')}`;

/**
 * The paths a drill writes to or restores over (stores, the backup root, the off-site remote)
 * must be the drill's own: under `${drill_root}`, whatever variables say. A profile pointing
 * at real data would have its markers written and its restore run over that data.
 */
function pathsOutsideTheDrillRoot(profile: ServiceProfile, variables: Readonly<Record<string, string>>): string[] {
  const builtins: Record<string, string> = { drill_root: ROOT_STAND_IN, profile_dir: '/profile-dir', harness_pid: '1', backup: '/backup', marker: 'marker' };
  for (const port of profile.ports ?? []) builtins[`port:${port}`] = '1';
  const values = { ...builtins, ...Object.fromEntries(Object.entries(variables).map(([name, value]) => [name, expand(value, builtins)])) };
  const places: [string, string][] = [
    ...profile.stores.flatMap((store, i): [string, string][] => ('path' in store ? [[`stores.${i}.path`, store.path]] : [])),
    ['backup.root', profile.backup.root],
    ...(profile.offsite ? [['offsite.remote', profile.offsite.remote] as [string, string]] : []),
  ];
  return places
    .filter(([, template]) => !posix.normalize(expand(template, values)).startsWith(`${ROOT_STAND_IN}/`))
    .map(
      ([place, template]) =>
        `${place}: "${template}" is not under \${drill_root}: a drill writes markers into its stores and restores over them, so every store, the backup root and the off-site remote must be the drill's own`,
    );
}

/** JSON, or YAML (one document, no aliases: a profile never needs them and they can multiply). */
async function parseDeclaration(text: string, json: boolean): Promise<unknown> {
  if (json) {
    try {
      return JSON.parse(text);
    } catch (error) {
      const at = /position (\d+)/.exec(errorMessage(error))?.[1];
      throw new Error(`not JSON${at ? ` (stops at byte ${at})` : ''}`);
    }
  }
  // loaded only for a YAML profile; the action's bundle hands the CommonJS build over as its default export
  const yaml = (await import('yaml')) as typeof import('yaml') & { default?: typeof import('yaml') };
  const parseDocument = yaml.parseDocument ?? yaml.default!.parseDocument;
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: false });
  const first = doc.errors[0];
  if (first) throw new Error(`not YAML: ${first.message.split('\n')[0]!.slice(0, 200)}`);
  try {
    return doc.toJS({ maxAliasCount: 0 });
  } catch (error) {
    throw new Error(`not usable YAML: ${errorMessage(error).slice(0, 200)}`);
  }
}

/** Placeholders with a value only in some places: where (the place in the file, e.g. `restore.command.1`). */
const CONTEXT_PLACEHOLDERS: ReadonlyMap<string, RegExp> = new Map([
  ['backup', /^(restore|verification)\.command\./],
  ['marker', /^stores\.\d+\.marker\./],
]);

/** What the schema cannot say; each problem names its place in the file. */
function semanticProblems(profile: ServiceProfile): string[] {
  const problems: string[] = [];
  const duplicates = (ids: readonly string[]) => ids.filter((id, i) => ids.indexOf(id) !== i);
  for (const id of duplicates(profile.stores.map((s) => s.id))) problems.push(`stores: the id "${id}" is used twice`);
  for (const id of duplicates((profile.probes ?? []).map((p) => p.id))) problems.push(`probes: the id "${id}" is used twice`);
  const durations: [string, string | undefined][] = [
    ['service.start_timeout', profile.service.start_timeout],
    ['service.stop_timeout', profile.service.stop_timeout],
    ['backup.timeout', profile.backup.timeout],
    ['restore.timeout', profile.restore.timeout],
  ];
  for (const [place, value] of durations) if (value !== undefined && /^0+(ms|s|m|h)$/.test(value)) problems.push(`${place}: "${value}" leaves no time at all`);
  if (profile.backup.output !== undefined) {
    try {
      if (!/\(\?<path>/.test(profile.backup.output)) problems.push('backup.output: the pattern has no group named path, (?<path>…)');
      new RegExp(profile.backup.output);
    } catch (error) {
      problems.push(`backup.output: not a regular expression: ${errorMessage(error)}`);
    }
  }
  const everywhere = [...BUILTIN_PLACEHOLDERS.filter((name) => !CONTEXT_PLACEHOLDERS.has(name)), ...Object.keys(profile.variables ?? {}), ...(profile.ports ?? []).map((p) => `port:${p}`)];
  for (const [path, text] of stringsOf(profile, '')) {
    // ${backup} and ${marker} have a value only where a backup or a marker is in hand
    const known = new Set([...everywhere, ...[...CONTEXT_PLACEHOLDERS.keys()].filter((name) => CONTEXT_PLACEHOLDERS.get(name)!.test(path))]);
    for (const name of placeholdersIn(text)) if (!known.has(name)) problems.push(`${path}: \${${name}} is not a placeholder this profile knows here (${[...known].join(', ')})`);
  }
  return problems;
}

/** Every string of the declaration with its place (`stores.2.path`). */
function* stringsOf(value: unknown, path: string): Generator<[string, string]> {
  if (typeof value === 'string') yield [path || '(top)', value];
  else if (Array.isArray(value)) for (const [i, item] of value.entries()) yield* stringsOf(item, path ? `${path}.${i}` : String(i));
  else if (value && typeof value === 'object') for (const [key, item] of Object.entries(value)) yield* stringsOf(item, path ? `${path}.${key}` : key);
}
