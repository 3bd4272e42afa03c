/**
 * Copies of a snapshot the drill places beside it (old stamps for rotation, corrupted copies
 * for verification): their metadata made to match their stamp, and their files handed to the
 * service user. Links are never followed: a copy holds links where the backup did.
 */
import { constants as fsConstants } from 'node:fs';
import { lstat, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stampTime, type SnapshotStamp } from '../stamp.js';
import { ownWriteAsync } from '../../engine/own-writes.js';
import type { AtoCoreRuntime } from '../../runtimes/types.js';

const METADATA_MAX_BYTES = 1_000_000;

/** A tree the harness made, handed to the service user entry by entry (links are never followed). */
export async function handOverTree(runtime: AtoCoreRuntime, path: string): Promise<void> {
  const info = await lstat(path);
  if (info.isSymbolicLink()) return;
  await runtime.handOver(path);
  if (info.isDirectory()) for (const name of await readdir(path)) await handOverTree(runtime, join(path, name));
}

/**
 * A copied snapshot's metadata made to say the copy's stamp: its time and the paths that name
 * the original's stamp. Only a regular file of reasonable size is touched, and never through a
 * link (a link in the copy points where the backup's did).
 */
export async function restampMetadata(path: string, from: SnapshotStamp, to: SnapshotStamp): Promise<void> {
  const info = await lstat(path).catch(() => null);
  if (!info?.isFile() || info.size > METADATA_MAX_BYTES) return;
  const text = await readFile(path, { encoding: 'utf8', flag: fsConstants.O_RDONLY | fsConstants.O_NOFOLLOW }).catch(() => null);
  if (text === null) return;
  let metadata: unknown;
  try {
    metadata = JSON.parse(text);
  } catch {
    return;
  }
  if (metadata === null || typeof metadata !== 'object' || Array.isArray(metadata)) return;
  const restamped = Object.fromEntries(Object.entries(metadata).map(([key, value]) => [key, typeof value === 'string' ? value.split(from).join(to) : value]));
  restamped['created_at'] = new Date(stampTime(to)).toISOString().replace('.000Z', '+00:00');
  await ownWriteAsync(path, 'restamping a copied snapshot', () => writeFile(path, `${JSON.stringify(restamped, null, 2)}\n`, { flag: fsConstants.O_WRONLY | fsConstants.O_TRUNC | fsConstants.O_NOFOLLOW }));
}

