/**
 * A service profile: what a service's state is, how it starts, stops and says it is healthy,
 * how a backup is made and restored, and what must answer afterwards. Declared in a file
 * (schema/profile.schema.json, atocore-drill/profile@1); every string may hold `${name}`
 * placeholders (template.ts). The field names are the file's own (snake_case), so a message
 * can name the field a user wrote.
 */
import type { DrillName } from '../engine/drill-names.js';
import type { CorruptionKind } from '../engine/verification.js';

/** An HTTP request the drill makes to the service. */
export interface ProfileRequest {
  readonly method?: 'GET' | 'POST' | 'PUT' | 'DELETE';
  readonly url: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** sent as is (a JSON text, usually) */
  readonly body?: string;
}

/** How a marker is found: an answer with this status whose body holds `contains`. */
export interface ProfileFind extends ProfileRequest {
  readonly contains: string;
}

/**
 * How a file-based store's restore is judged beyond its markers: `markers` (the default) only
 * by them; `content` also by its whole content, equal to what it was right after the backup
 * (SQLite: every table's rows and the schema; a directory: every file's hash; a file: its hash),
 * except what `ignore` names (tables, or paths inside the directory).
 */
interface Compared {
  readonly compare?: 'markers' | 'content';
  readonly ignore?: readonly string[];
}

export type ProfileStore =
  | ({ readonly id: string; readonly kind: 'sqlite'; readonly path: string; readonly marker: { readonly write: string; readonly find: string } } & Compared)
  | ({ readonly id: string; readonly kind: 'directory'; readonly path: string; readonly marker: { readonly file: string } } & Compared)
  | { readonly id: string; readonly kind: 'file'; readonly path: string; readonly marker: 'content' }
  | { readonly id: string; readonly kind: 'http'; readonly marker: { readonly write: ProfileRequest; readonly find: ProfileFind } }
  | { readonly id: string; readonly kind: 'command'; readonly marker: { readonly write: readonly string[]; readonly find: readonly string[] } };

/** How a command is answered: a line on standard input, or extra arguments. */
export interface ProfileAnswer {
  readonly stdin?: string;
  readonly args?: readonly string[];
}

export interface ProfileProbe {
  readonly id: string;
  readonly request: ProfileRequest;
  readonly status?: number;
  readonly contains?: string;
}

export type { CorruptionKind };

export interface ServiceProfile {
  readonly schema: 'atocore-drill/profile@1';
  readonly name: string;
  readonly description?: string;
  /** defaults of the profile's own placeholders; `--profile-var NAME=VALUE` overrides them */
  readonly variables?: Readonly<Record<string, string>>;
  /** made under the drill root before anything runs */
  readonly directories?: readonly string[];
  /** loopback ports the drill reserves, as `${port:NAME}` */
  readonly ports?: readonly string[];
  /** the environment of every command the profile names (on top of the harness's own) */
  readonly environment?: Readonly<Record<string, string>>;
  readonly service: {
    readonly start: readonly string[];
    readonly stop: readonly string[];
    readonly health: ProfileRequest & { readonly status?: number };
    readonly start_timeout?: string;
    readonly stop_timeout?: string;
  };
  readonly stores: readonly ProfileStore[];
  readonly backup: {
    readonly command: readonly string[];
    /** a regular expression with a group named `path`: where the backup landed, from its output */
    readonly output?: string;
    /** the directory every backup lands in; a path outside it is refused */
    readonly root: string;
    readonly timeout?: string;
  };
  readonly restore: {
    /** `${backup}` is the backup's path */
    readonly command: readonly string[];
    /** `stopped`: the drill stops the service first; `running`: the restore command does what it needs */
    readonly service: 'stopped' | 'running';
    readonly confirm: ProfileAnswer;
    readonly refuse: ProfileAnswer;
    /** the restore starts the service itself: the drill only waits for its health */
    readonly starts_service?: boolean;
    readonly timeout?: string;
  };
  readonly probes?: readonly ProfileProbe[];
  readonly verification?: {
    readonly command: readonly string[];
    readonly corruptions: readonly { readonly kind: CorruptionKind; readonly path: string }[];
  };
  readonly rotation?: {
    readonly command: readonly string[];
    /** what the policy promises to keep */
    readonly keep_days: number;
    /** how backups are named (the drill makes old ones by name, and ages their times to match) */
    readonly stamp: 'YYYYMMDD_HHMMSS' | 'YYYYMMDDTHHMMSSZ';
  };
  readonly offsite?: {
    readonly command: readonly string[];
    /** the stand-in remote, a local directory (the command's environment points there) */
    readonly remote: string;
    readonly environment?: Readonly<Record<string, string>>;
  };
}

/** The drills beyond restore a profile may declare. */
export type ExtraDrill = Exclude<DrillName, 'restore'>;

/** A profile, loaded and checked, and where it came from. */
export interface LoadedProfile {
  readonly profile: ServiceProfile;
  /** the file, or `built-in NAME` */
  readonly source: string;
  /** the directory `${profile_dir}` names */
  readonly dir: string;
  /** the profile's variables with the caller's overrides applied */
  readonly variables: Readonly<Record<string, string>>;
}
