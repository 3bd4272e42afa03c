import { join } from 'node:path';
import type { BackupCliInvoker } from '../atocore/backup-cli.js';

/** Where AtoCore's state lives, on this machine, in Dalidou's layout under one root. */
export interface AtoCoreLayout {
  readonly root: string;
  readonly dataDir: string;
  readonly dbPath: string;
  readonly chromaDir: string;
  readonly configDir: string;
  readonly registryPath: string;
  readonly backupDir: string;
  readonly snapshotsDir: string;
}

export function layoutUnder(root: string): AtoCoreLayout {
  const dataDir = join(root, 'data');
  const configDir = join(root, 'config');
  const backupDir = join(root, 'backups');
  return {
    root,
    dataDir,
    dbPath: join(dataDir, 'db', 'atocore.db'),
    chromaDir: join(dataDir, 'chroma'),
    configDir,
    registryPath: join(configDir, 'project-registry.json'),
    backupDir,
    snapshotsDir: join(backupDir, 'snapshots'),
  };
}

/** Every container of a drill carries the run id under this label, and its role under the other. */
export const CONTAINER_RUN_LABEL = 'io.atocore-drill.run';
export const CONTAINER_ROLE_LABEL = 'io.atocore-drill.role';

export interface FileOwner {
  readonly uid: number;
  readonly gid: number;
}

export interface StartedAtoCore {
  readonly baseUrl: string;
  /** set when the runtime could not prove that what answers is the service it started */
  readonly identityNote?: string;
  /** time spent on attempts the machine spoiled (another program took the port) before the one that came up: not the service's start time */
  readonly lostMs?: number;
}

/** Where AtoCore runs. The drill engine only talks to this. */
export interface AtoCoreRuntime {
  readonly kind: 'process' | 'container';
  readonly image: string | null;
  /** Who must own AtoCore's files: the service user. */
  serviceOwner(): FileOwner;
  /** Gives a file or directory the harness wrote to the service user. */
  handOver(path: string): Promise<void>;
  /** Switches the image of later starts and backup-CLI runs (the migration drill); absent where there are no images. */
  useImage?(image: string): void;
  readonly layout: AtoCoreLayout;
  /** Creates the data root (empty, in the layout). */
  prepare(): Promise<void>;
  /** Starts the service on the layout's data and waits for /health (bounded). */
  start(healthTimeoutMs: number, boundName: string): Promise<StartedAtoCore>;
  /** Stops the service; the data stays. */
  stop(timeoutMs: number): Promise<void>;
  /** Runs AtoCore's backup CLI against the same data (service stopped or running). */
  readonly backupCli: BackupCliInvoker;
  /** The service's recent output, for a report when a step fails. */
  recentLogs(): string;
  /** Stops everything and removes what the runtime created (the data root too, unless kept). */
  dispose(keepData: boolean): Promise<void>;
}

/** The runtime's data root once prepare() has made it; null before (nothing of the run's on disk yet). */
export function preparedRoot(runtime: AtoCoreRuntime): string | null {
  try {
    return runtime.layout.root;
  } catch {
    return null;
  }
}
