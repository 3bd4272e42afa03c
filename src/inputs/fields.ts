import { randomBytes } from 'node:crypto';
import { UsageError } from '../common/errors.js';

/**
 * The fields of a drill and a validation, by one name each. The rules and the domain code
 * speak of fields; only an entry (CLI, action) knows how its user wrote them.
 */
export type DrillField =
  | 'runtime'
  | 'image'
  | 'fromImage'
  | 'command'
  | 'backupCli'
  | 'includeChroma'
  | 'seed'
  | 'seedSize'
  | 'faults'
  | 'keep'
  | 'timeout'
  | 'workDir'
  | 'reportJson'
  | 'junit'
  | 'summary'
  | 'failOn'
  | 'profile'
  | 'profileVars'
  | 'drills';

export type ValidateField =
  | 'dir'
  | 'ssh'
  | 'knownHosts'
  | 'identity'
  | 'root'
  | 'acceptNewHostKey'
  | 'stamp'
  | 'deep'
  | 'maxDeep'
  | 'ledger'
  | 'atocoreValidator'
  | 'rpo'
  | 'chromaRpo'
  | 'sizeDrop'
  | 'offhost'
  | 'now'
  | 'timeout'
  | 'connectTimeout'
  | 'concurrency'
  | 'failOn'
  | 'reportJson'
  | 'junit'
  | 'summary'
  | 'profile'
  | 'stampTimezone';

/** merge-reports: the reports merged (files or, in the action, patterns) and the outputs. */
export type MergeField = 'reports' | 'failOn' | 'reportJson' | 'junit' | 'summary';

/** The run history (`--history`), its chart and the budgets judged after a run (src/inputs/history.ts). */
export type HistoryField = 'history' | 'chart' | 'rtoBudget' | 'rpo';

/** A rehearsal's own field (src/inputs/rehearse.ts); the rest it shares with the drill and the validation. */
export type RehearseField = 'sourcesRoot';

export type FieldId = DrillField | ValidateField | MergeField | HistoryField | RehearseField;

/** How an entry's user names fields: `--from-image` on the command line, `input from-image` in a workflow. */
export interface FieldNames {
  /** one field, as its user wrote it */
  one(field: FieldId): string;
  /** two fields that go together: `--command and --backup-cli`, `inputs command and backup-cli` */
  both(a: FieldId, b: FieldId): string;
}

/** fromImage → from-image */
export function kebab(field: FieldId): string {
  return field.replace(/[A-Z]/g, (upper) => `-${upper.toLowerCase()}`);
}

/** The names the fields have in code: what a message says before an entry names it for its user. */
export const FIELD_IDS: FieldNames = {
  one: (field) => field,
  both: (a, b) => `${a} and ${b}`,
};

/** Words a message says about its fields, given how they are named. */
export type FieldWording = (names: FieldNames) => string;

/**
 * Bad input in one field (exit 2). It carries the field and its wording, not a name, so the
 * entry can say it the way its user wrote it (`namedBy`); its message until then uses the
 * fields' own ids.
 */
export class FieldError extends UsageError {
  readonly field: FieldId;
  readonly wording: FieldWording;
  constructor(field: FieldId, wording: FieldWording | string, names: FieldNames = FIELD_IDS, options?: { cause?: unknown }) {
    const words: FieldWording = typeof wording === 'string' ? (n) => `${n.one(field)}: ${wording}` : wording;
    super(words(names), options);
    this.field = field;
    this.wording = words;
  }

  /** The same violation, worded for another user. */
  namedBy(names: FieldNames): FieldError {
    return new FieldError(this.field, this.wording, names, { cause: this.cause });
  }
}

// a value the user wrote is quoted in messages: its own NULs must not read as a token
const NONCE = randomBytes(6).toString('hex');
const TOKEN = new RegExp(`\u0000${NONCE}:([A-Za-z]+)\u0000`, 'g');

/**
 * The name helpers get for a field (parseDuration, checkReportPath, … take the name of what
 * they check): a token that their message, once made, can be worded by for any entry.
 */
export function token(field: FieldId): string {
  return `\u0000${NONCE}:${field}\u0000`;
}

/**
 * Runs a helper that names fields in its UsageErrors by their tokens and turns those errors
 * into FieldErrors: for `field`, or for the last field the message names (a pair).
 */
export function forField<T>(field: FieldId, check: (name: string) => T): T {
  try {
    return check(token(field));
  } catch (error) {
    throw reworded(field, error);
  }
}

/** A helper's UsageError naming fields by their tokens, as a FieldError; anything else as it is. */
function reworded(field: FieldId, error: unknown): unknown {
  if (error instanceof FieldError) return error;
  if (!(error instanceof UsageError)) {
    // not bad input: it stays what it is, but never shows a token
    if (error instanceof Error) error.message = error.message.replace(TOKEN, (_, id: string) => FIELD_IDS.one(id as FieldId));
    return error;
  }
  const message = error.message;
  const named = [...message.matchAll(TOKEN)].map((match) => match[1] as FieldId);
  const wording: FieldWording = (names) => message.replace(TOKEN, (_, id: string) => names.one(id as FieldId));
  // no cause: the helper's own message holds the tokens
  return new FieldError(named.at(-1) ?? field, wording);
}

/** Runs `work`; a FieldError coming out of it is worded by `names` (the entry's). */
export async function namedFor<T>(names: FieldNames, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw error instanceof FieldError ? error.namedBy(names) : error;
  }
}

/** The synchronous `namedFor`. */
export function namedForSync<T>(names: FieldNames, work: () => T): T {
  try {
    return work();
  } catch (error) {
    throw error instanceof FieldError ? error.namedBy(names) : error;
  }
}

/** The asynchronous `forField`. */
export async function forFieldAsync<T>(field: FieldId, check: (name: string) => Promise<T>): Promise<T> {
  try {
    return await check(token(field));
  } catch (error) {
    throw reworded(field, error);
  }
}
