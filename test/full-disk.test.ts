/**
 * The machine's disk full under the drill's own writes (the seed, the markers): an error
 * naming the file and the cause, never a stack trace, never a finding about AtoCore.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import { InfrastructureError } from '../src/common/errors.js';
import { checkpointSeed, insertSeedRows, loadSeed } from '../src/atocore/drill/seed.js';
import { ownWriteAsync } from '../src/engine/own-writes.js';
import type { DrillReport } from '../src/report/model.js';
import { PROJECT_ROOT, runCli } from './support/cli.js';

const root = process.getuid?.() === 0;

/** A tmpfs of `size` mounted for the test; unmounted and removed afterwards. */
async function withTmpfs(size: string, use: (dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'atocore-drill-fulldisk-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir]);
  try {
    await use(dir);
  } finally {
    execFileSync('umount', [dir]);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Fills the filesystem of `dir` to the last block. */
function fill(dir: string): void {
  execFileSync('sh', ['-c', `dd if=/dev/zero of=${dir}/filler bs=4k 2>/dev/null || true`]);
}

/** An AtoCore database with its schema, made by the stand-in as AtoCore makes it at start-up. */
function atocoreDatabase(path: string): void {
  execFileSync('python3', ['-c', 'import sqlite3, sys\nfrom atocore.db import init_db\nc = sqlite3.connect(sys.argv[1])\nc.execute("PRAGMA journal_mode=WAL")\ninit_db(c, 1)\nc.commit()\nc.close()', path], {
    env: { ...process.env, PYTHONPATH: join(PROJECT_ROOT, 'fixtures/atocore') },
  });
}

describe.runIf(root)('the disk full under the drill\'s own writes (needs root to mount a small tmpfs)', () => {
  it('seed rows into a database on a full disk: an InfrastructureError naming the file and SQLITE_FULL, no stack', async () => {
    await withTmpfs('256k', async (dir) => {
      const db = join(dir, 'atocore.db');
      atocoreDatabase(db);
      fill(dir);
      const seed = await loadSeed();
      let thrown: unknown;
      try {
        insertSeedRows(seed, db);
        checkpointSeed(db);
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(InfrastructureError);
      const message = (thrown as Error).message;
      expect(message).toContain(db);
      expect(message).toMatch(/SQLITE_FULL|SQLITE_IOERR/);
      expect(message).toMatch(/says nothing about AtoCore/);
      expect(message).not.toMatch(/\n\s+at /);
    });
  });

  it('a file write of the drill\'s own on a full disk (ENOSPC): an InfrastructureError naming the file', async () => {
    await withTmpfs('64k', async (dir) => {
      fill(dir);
      const file = join(dir, 'registry.json');
      await expect(ownWriteAsync(file, 'writing marker A into the registry', async () => writeFileSync(file, 'x'.repeat(64 * 1024)))).rejects.toThrow(
        new RegExp(`writing marker A into the registry ${file} failed: .*ENOSPC`),
      );
      // anything else is not the disk's doing: it stays as it was
      const other = Object.assign(new Error('EACCES'), { code: 'EACCES' });
      await expect(ownWriteAsync(file, 'writing', () => Promise.reject(other))).rejects.toBe(other);
    });
  });

  it('the drill with its temp dir on a small disk: exit 3, the failing step an error naming the cause, no stack trace in the report', async () => {
    await withTmpfs('400k', async (dir) => {
      const work = mkdtempSync(join(tmpdir(), 'atocore-drill-fulldisk-report-'));
      try {
        const report = join(work, 'report.json');
        const run = await runCli(['drill', '--report-json', report], { env: { TMPDIR: dir }, timeoutMs: 90_000 });
        expect(run.code, run.stdout + run.stderr).toBe(3);
        const written = JSON.parse(readFileSync(report, 'utf8')) as DrillReport;
        expect(written.verdict).toBe('error');
        expect(written.checks.filter((c) => c.status === 'fail')).toEqual([]);
        const errored = written.steps.find((s) => s.status === 'error')!;
        expect(errored.detail).toMatch(/SQLITE_FULL|SQLITE_IOERR|ENOSPC|EDQUOT|disk is full|free of/);
        const text = JSON.stringify(written);
        expect(text).not.toMatch(/SqliteError|node_modules|\\n\s+at /);
        expect(run.stdout + run.stderr).not.toMatch(/node_modules|\n\s+at /);
      } finally {
        rmSync(work, { recursive: true, force: true });
      }
    });
  });

  it('a profile drill whose backup meets a full disk under its root: exit 3 naming the disk, backup.created not failed against the service', async () => {
    await withTmpfs('4m', async (dir) => {
      const profile = parseYaml(readFileSync(join(PROJECT_ROOT, 'fixtures/profiles/notes-service.yaml'), 'utf8')) as Record<string, any>;
      // something else fills the disk just before the backup writes
      profile.backup.command[2] = `dd if=/dev/zero of="$NOTES_BACKUPS/../filler" bs=4k 2>/dev/null; ${profile.backup.command[2]}`;
      const path = join(tmpdir(), `full-disk-profile-${process.pid}.yaml`);
      writeFileSync(path, toYaml(profile));
      const reportFile = join(tmpdir(), `full-disk-profile-${process.pid}.json`);
      try {
        const run = await runCli(['drill', '--profile', path, '--work-dir', dir, '--report-json', reportFile]);
        expect(run.code, run.stdout + run.stderr).toBe(3);
        const report = JSON.parse(readFileSync(reportFile, 'utf8')) as DrillReport;
        const backup = report.steps.find((s) => s.id === 'backup')!;
        expect(backup.status).toBe('error');
        expect(backup.detail).toMatch(/the filesystem holding the drill root has only \d+ KiB free .*says nothing about notes/);
        expect(report.checks.find((c) => c.id === 'backup.created')!.status).toBe('skip');
      } finally {
        rmSync(path, { force: true });
        rmSync(reportFile, { force: true });
      }
    });
  });
});
