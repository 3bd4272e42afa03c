#!/usr/bin/env node
// Verifying one large snapshot database: the harness against `cp` + `sqlite3`'s own checks,
// side by side in one run, warm and cold (after `npm run build`; cold needs root: it drops the
// page cache before every run).
//
//   node bench/verify-large-db.bench.mjs DB [REPEAT=3] [SCRATCH=dirname(DB)]
//
// harness: what `validate` does with a snapshot database in its deep share — a private copy
//   (src/sqlite/scratch-copy.ts: the kernel's copy through the opened descriptor, a reflink
//   where the filesystem has them), its header set to rollback mode, integrity_check and
//   foreign_key_check on an integrity worker thread, and the row index snapshot.complete
//   compares (`+ rows`), in a fresh node process each run.
// bare: `cp DB COPY && sqlite3 COPY 'PRAGMA integrity_check; PRAGMA foreign_key_check;'`.
// A database of the size wanted: `drill --seed-size 1GB --keep` leaves one, or
// bench/seed-db.mjs makes one. Prints JSON.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const [db, repeatText = '3', scratchRoot = dirname(db ?? '.')] = process.argv.slice(2);
if (!db) {
  console.error('usage: node bench/verify-large-db.bench.mjs DB [REPEAT] [SCRATCH]');
  process.exit(2);
}
const repeat = Number(repeatText);
const lib = (path) => JSON.stringify(pathToFileURL(join(root, 'lib', path)).href);

/** One harness verification in a fresh process: copy, prepare, check on a worker (rows or not). */
const harnessScript = (rows) => `
  import { mkdtemp, rm } from 'node:fs/promises';
  import { join } from 'node:path';
  import { Deadline } from ${lib('common/deadline.js')};
  import { cloneRegularFile } from ${lib('sqlite/scratch-copy.js')};
  import { IntegrityWorkers } from ${lib('sqlite/integrity-workers.js')};
  import { inspectSnapshotDatabase } from ${lib('validation/database.js')};
  const dir = await mkdtemp(join(${JSON.stringify(scratchRoot)}, 'atocore-drill-verify-bench-'));
  const workers = new IntegrityWorkers(1);
  try {
    const copy = join(dir, 'atocore.db');
    const deadline = new Deadline(3_600_000);
    const signal = new AbortController().signal;
    const { bytes } = await cloneRegularFile(${JSON.stringify(db)}, copy, { signal, deadline });
    const inspection = await inspectSnapshotDatabase(copy, bytes, deadline.remainingMs(), { rows: ${rows}, offThread: { workers, bounds: { signal, deadline } } });
    if (!inspection.integrity.ok || !inspection.foreignKeys.ok) throw new Error('not sound: ' + JSON.stringify(inspection.integrity));
  } finally {
    await workers.close();
    await rm(dir, { recursive: true, force: true });
  }`;

function bare() {
  const dir = mkdtempSync(join(scratchRoot, 'atocore-drill-verify-bare-'));
  try {
    execFileSync('cp', [db, join(dir, 'copy.db')]);
    const out = execFileSync('sqlite3', [join(dir, 'copy.db'), 'PRAGMA integrity_check; PRAGMA foreign_key_check;'], { encoding: 'utf8' });
    if (out.trim() !== 'ok') throw new Error(`sqlite3: ${out.slice(0, 200)}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function node(script) {
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  if (result.status !== 0) throw new Error(result.stderr.slice(-2000));
}

function dropCaches() {
  execFileSync('sync');
  writeFileSync('/proc/sys/vm/drop_caches', '3\n');
}

const ways = {
  'harness (copy, integrity_check, foreign_key_check on a worker)': () => node(harnessScript(false)),
  'harness + rows (what validate --deep does per snapshot)': () => node(harnessScript(true)),
  'bare: cp + sqlite3 integrity_check + foreign_key_check': bare,
};

const results = [];
for (const cache of ['warm', 'cold']) {
  if (cache === 'warm') execFileSync('cat', [db], { stdio: ['ignore', 'ignore', 'ignore'] });
  for (const [name, run] of Object.entries(ways)) {
    const samples = [];
    for (let i = 0; i < repeat; i++) {
      if (cache === 'cold') dropCaches();
      const started = process.hrtime.bigint();
      run();
      samples.push(Number(process.hrtime.bigint() - started) / 1e6);
    }
    samples.sort((a, b) => a - b);
    results.push({ cache, way: name, median_s: +(samples[Math.floor(samples.length / 2)] / 1000).toFixed(2), runs_s: samples.map((ms) => +(ms / 1000).toFixed(2)) });
  }
}
const ratio = (cache, way) => {
  const of = (prefix) => results.find((r) => r.cache === cache && r.way.startsWith(prefix)).median_s;
  return +(of(way) / of('bare')).toFixed(2);
};
console.log(
  JSON.stringify(
    {
      date: new Date().toISOString(),
      machine: { cpus: cpus().length, cpu: cpus()[0]?.model, memory_gb: Math.round(totalmem() / 1024 ** 3), node: process.version, load_before: loadavg()[0] },
      db,
      bytes: statSync(db).size,
      repeat,
      results,
      ratios: { warm: ratio('warm', 'harness (copy'), warm_rows: ratio('warm', 'harness + rows'), cold: ratio('cold', 'harness (copy'), cold_rows: ratio('cold', 'harness + rows') },
    },
    null,
    2,
  ),
);
