/**
 * How long the harness's own inspection (private copy + integrity_check + foreign_key_check
 * + fingerprint) takes on a large snapshot database, cold (page cache dropped, when this
 * runs as root) and warm. Usage: node --experimental-strip-types bench/inspect-large-db.ts [SIZE_MB]
 * (after `npm run build`; it imports lib/).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const { inspectDatabaseFile } = await import(new URL('../lib/sqlite/inspect.js', import.meta.url).href);
const sizeMb = Number(process.argv[2] ?? 1024);
const dir = mkdtempSync(join(tmpdir(), 'atocore-drill-bench-'));
const db = join(dir, 'atocore.db');
try {
  // a WAL-mode database shaped like AtoCore's, filled with chunks to the size asked for
  execFileSync('python3', ['-c', `
import sqlite3, os, sys
c = sqlite3.connect(sys.argv[1]); c.execute('pragma journal_mode=wal')
c.execute('create table source_documents (id text primary key, file_path text unique)')
c.execute('create table source_chunks (id text primary key, document_id text references source_documents(id), content text)')
c.execute('create index idx_chunks_doc on source_chunks(document_id)')
target = int(sys.argv[2]) * 1024 * 1024; n = 0
while os.path.getsize(sys.argv[1]) + (os.path.getsize(sys.argv[1] + '-wal') if os.path.exists(sys.argv[1] + '-wal') else 0) < target:
    c.execute('insert into source_documents values (?, ?)', (f'd{n}', f'/p/{n}'))
    c.executemany('insert into source_chunks values (?, ?, ?)', [(f'c{n}-{i}', f'd{n}', os.urandom(1500).hex()) for i in range(200)])
    c.commit(); n += 1
c.execute('pragma wal_checkpoint(truncate)'); c.close()
`, db, String(sizeMb)], { stdio: 'inherit' });
  const bytes = statSync(db).size;
  const dropCaches = (): boolean => {
    try {
      execFileSync('sync');
      writeFileSync('/proc/sys/vm/drop_caches', '3');
      return true;
    } catch {
      return false;
    }
  };
  const measure = async (label: string): Promise<void> => {
    const before = process.memoryUsage().rss;
    const started = performance.now();
    const inspection = await inspectDatabaseFile(db);
    const ms = performance.now() - started;
    if (!inspection.ok) throw new Error(`inspection failed: ${inspection.error}`);
    console.log(`| ${label} | ${(bytes / 1024 / 1024).toFixed(0)} MB | ${(ms / 1000).toFixed(2)} s | ${((process.memoryUsage().rss - before) / 1024 / 1024).toFixed(0)} MB |`);
  };
  console.log('| run | database | inspection | RSS growth |\n|---|---|---|---|');
  await measure(dropCaches() ? 'cold (page cache dropped)' : 'first (page cache not dropped: not root)');
  await measure('warm');
} finally {
  rmSync(dir, { recursive: true, force: true });
}
