import { statfs } from 'node:fs/promises';

/** Below this much free space a write failing under the drill root is the disk's doing. */
const DISK_FULL_BYTES = 4 * 1024 * 1024;

/** "only 12 KiB free of 460 KiB" when the filesystem holding `path` is (nearly) full; else null. */
export async function diskNearlyFull(path: string): Promise<string | null> {
  const stats = await statfs(path).catch(() => null);
  if (!stats) return null;
  const free = stats.bavail * stats.bsize;
  const total = stats.blocks * stats.bsize;
  if (free >= DISK_FULL_BYTES && free >= total * 0.01) return null;
  return `only ${Math.round(free / 1024)} KiB free of ${Math.round(total / 1024)} KiB`;
}
