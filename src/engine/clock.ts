import { sleep } from '../common/sleep.js';

/**
 * AtoCore's stamps have one-second resolution: two snapshots in the same UTC second share
 * one directory. Before anything that may snapshot again, wait until the wall clock is in
 * a later second than `moment`.
 */
export async function waitPastSecond(moment: number, signal?: AbortSignal): Promise<void> {
  const nextSecond = Math.floor(moment / 1000) * 1000 + 1000;
  const wait = nextSecond - Date.now() + 20;
  if (wait > 0) await sleep(wait, signal);
}
