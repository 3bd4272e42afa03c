#!/usr/bin/env node
// `validate --dir --ledger` over many small snapshots: time and peak RSS (after `npm run build`).
//
//   node bench/validate-ledger.bench.mjs [SNAPSHOTS=2000] [WORK=$TMPDIR/atocore-drill-bench-ledger]
//
// Builds (once; kept in WORK for the next run) a backup root of SNAPSHOTS daily snapshots made
// by the AtoCore stand-in's own backup module, then runs the CLI under /usr/bin/time: with
// --ledger on a first run (every hash recorded) and again (every hash compared), and without
// a ledger. Every database gets the harness's own integrity_check (--dir's default). Prints
// JSON. Memory is measured here, never in the tests.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const snapshots = Number(process.argv[2] ?? 2000);
const work = process.argv[3] ?? join(tmpdir(), 'atocore-drill-bench-ledger');
const tree = join(work, `tree-${snapshots}`);
const NOW = '2026-04-08T07:00:00Z';

function stampOf(ms) {
  return new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
}

function build() {
  if (existsSync(join(tree, 'backups', 'snapshots')) && readdirSync(join(tree, 'backups', 'snapshots')).length === snapshots) return 0;
  rmSync(tree, { recursive: true, force: true });
  mkdirSync(tree, { recursive: true });
  const stamps = [];
  for (let i = snapshots - 1; i >= 0; i--) stamps.push(stampOf(Date.parse('2026-04-08T06:00:00Z') - i * 86_400_000));
  const plan = join(work, `tree-${snapshots}-plan.json`);
  writeFileSync(plan, JSON.stringify({ root: tree, seed: join(root, 'fixtures/seed'), snapshots: stamps.map((stamp) => ({ stamp, kind: 'good', rows: 1 })), foreign: [], rows_per_day: 1, payload_bytes: 200 }));
  const started = Date.now();
  execFileSync('python3', [join(root, 'test/support/snapshot-tree.py'), plan], {
    env: { ...process.env, PYTHONPATH: join(root, 'fixtures/atocore'), PYTHONDONTWRITEBYTECODE: '1' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  return Date.now() - started;
}

function measure(args) {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn('/usr/bin/time', ['-f', 'MAXRSS=%M', process.execPath, join(root, 'bin/atocore-drill.js'), ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('close', (code) => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      const rss = /MAXRSS=(\d+)/.exec(stderr);
      // 2,000 daily snapshots are more than retention keeps: retention.policy fails (exit 1), which is expected
      if (code !== 0 && code !== 1) reject(new Error(`exit ${code}: ${stderr.slice(-2000)}`));
      else resolve({ seconds: +(ms / 1000).toFixed(1), peak_rss_mb: rss ? Math.round(Number(rss[1]) / 1024) : null, exit: code });
    });
  });
}

mkdirSync(work, { recursive: true });
const buildMs = build();
const ledger = join(work, `ledger-${snapshots}.json`);
rmSync(ledger, { force: true });
const base = ['validate', '--dir', tree, '--now', NOW, '--chroma-rpo', 'off', '--report-json', join(work, 'report.json')];
const results = {
  'harness --dir --ledger (first run: every hash recorded)': await measure([...base, '--ledger', ledger]),
  'harness --dir --ledger (again: every hash compared)': await measure([...base, '--ledger', ledger]),
  'harness --dir (no ledger)': await measure(base),
};
console.log(
  JSON.stringify(
    { date: new Date().toISOString(), machine: { cpus: cpus().length, cpu: cpus()[0]?.model, memory_gb: Math.round(totalmem() / 1024 ** 3), node: process.version, load_before: loadavg()[0] }, snapshots, build_tree_ms: buildMs, results },
    null,
    2,
  ),
);
