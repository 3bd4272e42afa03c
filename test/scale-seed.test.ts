import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { generateSeedRows, parseSeedSize } from '../src/atocore/drill/seed-generator.js';
import { fingerprintOf, foreignKeyCheck, integrityCheck } from '../src/sqlite/inspect.js';
import { drillInputs } from '../src/inputs/drill.js';
import { CLI_NAMES } from '../src/cli/options.js';
import { UsageError } from '../src/common/errors.js';
import { PROJECT_ROOT } from './support/cli.js';

/** The seed generator behind `drill --seed-size`: AtoCore's own schema, the size asked for, the same rows every time. */

const work = mkdtempSync(join(tmpdir(), 'atocore-drill-scale-seed-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const PROJECTS = [
  { id: 'p04-gigabit', ingest_roots: [{ source: 'vault', subpath: 'incoming/projects/p04-gigabit' }] },
  { id: 'p05-interferometer', ingest_roots: [{ source: 'vault', subpath: 'incoming/projects/p05-interferometer' }] },
];

/** A database with the AtoCore stand-in's schema, made by the stand-in's own code (WAL, as AtoCore keeps it). */
function atocoreDatabase(name: string): string {
  const path = join(work, name);
  execFileSync('python3', ['-c', `import sqlite3, sys\nfrom atocore.db import LEVEL_1_STATEMENTS\nc = sqlite3.connect(sys.argv[1])\nc.execute('PRAGMA journal_mode=WAL')\nfor s in LEVEL_1_STATEMENTS: c.execute(s)\nc.commit()`, path], {
    env: { ...process.env, PYTHONPATH: join(PROJECT_ROOT, 'fixtures/atocore'), PYTHONDONTWRITEBYTECODE: '1' },
  });
  return path;
}

describe('seed generator', () => {
  it('fills the database to about the size asked, with documents in every project, their chunks and interactions, sound', () => {
    const path = atocoreDatabase('a.db');
    const target = 3_000_000;
    const generated = generateSeedRows(path, target, PROJECTS);
    expect(generated.bytes).toBeGreaterThanOrEqual(target);
    expect(generated.bytes).toBeLessThan(target * 1.5);
    expect(statSync(path).size + (statSync(`${path}-wal`, { throwIfNoEntry: false })?.size ?? 0)).toBeGreaterThanOrEqual(target * 0.9);
    const db = new Database(path, { readonly: true });
    try {
      expect(integrityCheck(db).ok).toBe(true);
      expect(foreignKeyCheck(db).ok).toBe(true);
      expect(db.prepare('SELECT count(*) FROM source_documents').pluck().get()).toBe(generated.documents);
      expect(db.prepare('SELECT count(*) FROM source_chunks').pluck().get()).toBe(generated.chunks);
      expect(db.prepare('SELECT count(*) FROM interactions').pluck().get()).toBe(generated.interactions);
      const projects = db.prepare("SELECT DISTINCT json_extract(metadata, '$.project') FROM source_chunks ORDER BY 1").pluck().all();
      expect(projects).toEqual(['p04-gigabit', 'p05-interferometer']);
      // a document's path lies under its project's ingest root, as AtoCore's ingestion names them
      const paths = db.prepare('SELECT d.file_path, json_extract(c.metadata, \'$.project\') FROM source_documents d JOIN source_chunks c ON c.document_id = d.id').raw().all() as Array<[string, string]>;
      expect(paths.every(([file, project]) => file.startsWith(`incoming/projects/${project}/`))).toBe(true);
    } finally {
      db.close();
    }
  });

  it('is deterministic: the same size gives the same rows; another size, other rows', () => {
    const fingerprint = (path: string): string => {
      const db = new Database(path, { readonly: true });
      try {
        return fingerprintOf(db).contentSha256;
      } finally {
        db.close();
      }
    };
    const a = atocoreDatabase('same-1.db');
    const b = atocoreDatabase('same-2.db');
    const c = atocoreDatabase('other.db');
    generateSeedRows(a, 1_000_000, PROJECTS);
    generateSeedRows(b, 1_000_000, PROJECTS);
    generateSeedRows(c, 2_000_000, PROJECTS);
    expect(fingerprint(a)).toBe(fingerprint(b));
    expect(fingerprint(a)).not.toBe(fingerprint(c));
  });

  it('reads sizes as people write them, and refuses what is not one', () => {
    expect(parseSeedSize('10MB')).toBe(10_000_000);
    expect(parseSeedSize('1GB')).toBe(1_000_000_000);
    expect(parseSeedSize('512MiB')).toBe(512 * 1024 * 1024);
    expect(parseSeedSize('1.5 gb')).toBe(1_500_000_000);
    for (const bad of ['', '10', 'MB', '-1MB', '10XB', '1e3MB', '0MB']) expect(parseSeedSize(bad), bad).toBeNull();
    const base = { timeout: '10m' };
    expect(drillInputs({ ...base, seedSize: '100MB' }, CLI_NAMES).seedSizeBytes).toBe(100_000_000);
    expect(drillInputs(base, CLI_NAMES).seedSizeBytes).toBeNull();
    expect(() => drillInputs({ ...base, seedSize: 'huge' }, CLI_NAMES)).toThrow(UsageError);
    expect(() => drillInputs({ ...base, seedSize: 'huge' }, CLI_NAMES)).toThrow(/--seed-size: "huge" is not a size/);
    expect(() => drillInputs({ ...base, seedSize: '1000GB' }, CLI_NAMES)).toThrow(/--seed-size/);
  });
});
