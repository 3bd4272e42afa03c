#!/usr/bin/env node
// The ways to give the harness a private, writable-by-nobody-else view of a snapshot database
// without writing beside it, measured on one file (after `npm run build`):
//
//   node bench/sqlite-copy.bench.mjs DB [REPEAT=3] [SCRATCH=$TMPDIR]
//
// Each way copies DB into SCRATCH (same filesystem as DB when a reflink is to be possible)
// and, where the validation needs it, hashes the bytes. Prints a JSON line per way (median of
// REPEAT, warm page cache) and the filesystem's answer to a reflink. Data stays in SCRATCH.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { constants, createReadStream } from 'node:fs';
import { copyFile, mkdtemp, open, rm, stat } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { copyRegularFile, cloneRegularFile } from '../lib/sqlite/scratch-copy.js';

const [db, repeatText = '3', scratchRoot = tmpdir()] = process.argv.slice(2);
if (!db) {
  console.error('usage: node bench/sqlite-copy.bench.mjs DB [REPEAT] [SCRATCH]');
  process.exit(2);
}
const repeat = Number(repeatText);
const bytes = (await stat(db)).size;

async function sha256Of(path) {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 })) hash.update(chunk);
  return hash.digest('hex');
}

const ways = {
  // what the harness did: one pass, JS reads and writes 1 MiB chunks, hashing on the way
  'stream copy + hash (one pass)': (to) => copyRegularFile(db, to),
  // the kernel copies (a reflink where the filesystem has them, copy_file_range otherwise)
  'kernel copy (copyFile FICLONE)': (to) => copyFile(db, to, constants.COPYFILE_FICLONE),
  'kernel copy, then hash the copy': async (to) => {
    await copyFile(db, to, constants.COPYFILE_FICLONE);
    return sha256Of(to);
  },
  // the harness now: opened safely, cloned through its descriptor, hashed when asked
  'cloneRegularFile (descriptor, kernel copy)': (to) => cloneRegularFile(db, to),
  'cloneRegularFile + hash': (to) => cloneRegularFile(db, to, {}, { hash: true }),
  'cp --reflink=auto': (to) => execFileSync('cp', ['--reflink=auto', db, to]),
  'hash only (no copy: the floor)': () => sha256Of(db),
};

const reflink = await (async () => {
  const dir = await mkdtemp(join(scratchRoot, 'atocore-drill-reflink-'));
  try {
    await copyFile(db, join(dir, 'probe'), constants.COPYFILE_FICLONE_FORCE);
    return 'supported';
  } catch (error) {
    return `not supported here (${error.code})`;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
})();

const results = [];
await sha256Of(db); // warm the page cache
for (const [name, run] of Object.entries(ways)) {
  const samples = [];
  for (let i = 0; i < repeat; i++) {
    const dir = await mkdtemp(join(scratchRoot, 'atocore-drill-copy-bench-'));
    try {
      const started = process.hrtime.bigint();
      await run(join(dir, 'copy.db'));
      samples.push(Number(process.hrtime.bigint() - started) / 1e6);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
  samples.sort((a, b) => a - b);
  results.push({ way: name, median_ms: Math.round(samples[Math.floor(samples.length / 2)]), runs_ms: samples.map(Math.round) });
}
const handle = await open(db, 'r');
await handle.close();
console.log(JSON.stringify({ date: new Date().toISOString(), cpus: cpus().length, cpu: cpus()[0]?.model, db, bytes, reflink, repeat, results }, null, 2));
