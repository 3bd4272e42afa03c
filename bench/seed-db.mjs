#!/usr/bin/env node
// An AtoCore-shaped database of a given size, for the benchmarks (after `npm run build`):
//
//   node bench/seed-db.mjs SIZE FILE      e.g. node bench/seed-db.mjs 1GB /tmp/bench/atocore.db
//
// The stand-in's own schema (fixtures/atocore, WAL mode, as AtoCore keeps it), filled by the
// drill's seed generator (src/atocore/drill/seed-generator.ts): the same rows every time.
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateSeedRows, parseSeedSize } from '../lib/atocore/drill/seed-generator.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const [size, file] = process.argv.slice(2);
const bytes = size ? parseSeedSize(size) : null;
if (!bytes || !file) {
  console.error('usage: node bench/seed-db.mjs SIZE FILE');
  process.exit(2);
}
for (const suffix of ['', '-wal', '-shm']) rmSync(`${file}${suffix}`, { force: true });
execFileSync('python3', ['-c', "import sqlite3, sys\nfrom atocore.db import LEVEL_1_STATEMENTS\nc = sqlite3.connect(sys.argv[1])\nc.execute('PRAGMA journal_mode=WAL')\nfor s in LEVEL_1_STATEMENTS: c.execute(s)\nc.commit()", file], {
  env: { ...process.env, PYTHONPATH: join(root, 'fixtures/atocore'), PYTHONDONTWRITEBYTECODE: '1' },
});
const projects = JSON.parse(readFileSync(join(root, 'fixtures/seed/project-registry.json'), 'utf8')).projects;
const started = Date.now();
const generated = generateSeedRows(file, bytes, projects);
console.log(JSON.stringify({ file, ...generated, ms: Date.now() - started }));
