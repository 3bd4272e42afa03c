/**
 * The stand-in follows ../shared/atocore-contract.md: asserted from the harness's side,
 * through the same client and backup-CLI wrapper the drill uses, on a real process.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, writeFileSync, existsSync, openSync, readSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AtoCoreClient } from '../src/atocore/client.js';
import { callBackupCli } from '../src/atocore/backup-cli.js';
import { hashTree } from '../src/engine/files.js';
import { insertSeedRows, loadSeed, postSeedMemories, writeSeedFiles } from '../src/atocore/drill/seed.js';
import { ProcessRuntime } from '../src/runtimes/process.js';
import { STANDIN_DIR } from '../src/atocore/standin.js';

const runtime = new ProcessRuntime();
let client: AtoCoreClient;
let stamp: string;
const cli = (...args: string[]) => callBackupCli(runtime.backupCli, args, 60_000);

beforeAll(async () => {
  await runtime.prepare();
  const started = await runtime.start(30_000, 'test');
  client = new AtoCoreClient(started.baseUrl);
  const seed = await loadSeed();
  await writeSeedFiles(seed, runtime);
  insertSeedRows(seed, runtime.layout.dbPath);
  await postSeedMemories(seed, client);
});
afterAll(() => runtime.dispose(false));

function headerJournalMode(dbPath: string): string {
  const fd = openSync(dbPath, 'r');
  const header = Buffer.alloc(20);
  readSync(fd, header, 0, 20, 0);
  closeSync(fd);
  return header[18] === 2 && header[19] === 2 ? 'wal' : 'rollback';
}

describe('HTTP API', () => {
  it('answers /health, /stats, /projects, also under /v1', async () => {
    const health = await client.json('GET', '/health');
    expect(health).toMatchObject({ status: 'ok' });
    for (const key of ['version', 'build_sha', 'build_time', 'build_branch']) expect(health).toHaveProperty(key);
    expect(await client.json('GET', '/v1/health')).toMatchObject({ status: 'ok' });
    const stats = await client.json('GET', '/stats');
    expect(stats).toMatchObject({ documents: 6, chunks: 14, memories: 12 });
    const projects = await client.json<{ projects: Array<{ id: string }> }>('GET', '/projects');
    expect(projects.projects.map((p) => p.id)).toEqual(['p04-gigabit', 'p05-interferometer', 'p06-polisher']);
  });

  it('creates and lists memories; refuses a bad memory_type with 422', async () => {
    const created = await client.json<{ id: string }>('POST', '/memory', { memory_type: 'knowledge', content: 'contract probe', project: 'p06-polisher', confidence: 0.5 });
    expect(created.id).toBeTruthy();
    const listed = await client.json<{ memories: Array<{ id: string }> }>('GET', '/memory?project=p06-polisher&memory_type=knowledge');
    expect(listed.memories.map((m) => m.id)).toContain(created.id);
    expect((await client.call('POST', '/memory', { memory_type: 'opinion', content: 'x' })).status).toBe(422);
  });

  it('takes "prompt", not "query", and builds project context', async () => {
    expect((await client.call('POST', '/query', { query: 'fringes' })).status).toBe(422);
    const results = await client.json<{ results: unknown[] }>('POST', '/query', { prompt: 'interferometer fringes', top_k: 3 });
    expect(results.results.length).toBeGreaterThan(0);
    // AtoCore's ContextPack: chunks_used is the list of chunks, each naming its source file
    const context = await client.json<{ chunks_used: Array<{ source_file: string; char_count: number }>; total_chars: number }>('POST', '/context/build', { prompt: 'slurry pad removal', project: 'p06-polisher' });
    expect(context.chunks_used.length).toBeGreaterThan(0);
    // p06-polisher has two ingest roots: the vault's incoming/projects/p06-polisher and the drive's p06-polisher
    expect(context.chunks_used.every((c) => /^(incoming\/projects\/)?p06-polisher\//.test(c.source_file))).toBe(true);
    expect(context.total_chars).toBe(context.chunks_used.reduce((sum, c) => sum + c.char_count, 0));
  });

  it('keeps the live database in WAL mode with its sidecars while running', () => {
    expect(headerJournalMode(runtime.layout.dbPath)).toBe('wal');
    expect(existsSync(`${runtime.layout.dbPath}-wal`)).toBe(true);
  });

  it('backs up through POST /admin/backup with every metadata field, the snapshot in WAL mode', async () => {
    const meta = await client.json<Record<string, unknown>>('POST', '/admin/backup', { include_chroma: true });
    for (const key of ['created_at', 'backup_root', 'db_snapshot_path', 'db_size_bytes', 'registry_snapshot_path', 'chroma_snapshot_path', 'chroma_snapshot_bytes', 'chroma_snapshot_files', 'chroma_snapshot_included', 'vector_store_note', 'validated', 'validation_errors']) {
      expect(meta, key).toHaveProperty(key);
    }
    stamp = String(meta.backup_root).split('/').pop()!;
    expect(stamp).toMatch(/^\d{8}T\d{6}Z$/);
    expect(meta.chroma_snapshot_included).toBe(true);
    const dir = join(runtime.layout.snapshotsDir, stamp);
    expect(readdirSync(dir).sort()).toEqual(['backup-metadata.json', 'chroma', 'config', 'db']);
    expect(headerJournalMode(join(dir, 'db', 'atocore.db'))).toBe('wal');
    const listing = await client.json<{ backup_dir: string; backups: Array<{ stamp: string }> }>('GET', '/admin/backup');
    expect(listing.backup_dir).toBe(runtime.layout.backupDir);
    expect(listing.backups.map((b) => b.stamp)).toContain(stamp);
  });
});

describe('backup CLI', () => {
  it('prints a log line and then the result as indented JSON; list covers any directory name', async () => {
    mkdirSync(join(runtime.layout.snapshotsDir, 'not-a-stamp'), { recursive: true });
    const listed = await cli('list');
    expect(listed.result.exitCode).toBe(0);
    const names = (listed.json?.backups as Array<{ stamp: string; has_metadata: boolean }>).map((b) => [b.stamp, b.has_metadata]);
    expect(names).toContainEqual([stamp, true]);
    expect(names).toContainEqual(['not-a-stamp', false]);
  });

  it('validate: all fields for a good snapshot; opening it read-write leaves -wal/-shm inside while the validator lives', async () => {
    const validated = await cli('validate', stamp);
    expect(validated.result.exitCode).toBe(0);
    expect(validated.json).toMatchObject({ stamp, exists: true, db_ok: true, registry_ok: true, chroma_ok: true, errors: [], valid: true });
    const answer = await client.json('GET', `/admin/backup/${stamp}/validate`);
    expect(answer).toMatchObject({ valid: true });
    expect(readdirSync(join(runtime.layout.snapshotsDir, stamp, 'db')).sort()).toEqual(['atocore.db', 'atocore.db-shm', 'atocore.db-wal']);
  });

  it('validate: early errors have no "valid" key and exit 0; later errors say valid false', async () => {
    const missing = await cli('validate', '20000101T000000Z');
    expect(missing.result.exitCode).toBe(0);
    expect((missing.json?.errors as string[])[0]).toMatch(/^snapshot_directory_missing/);
    expect(missing.json).not.toHaveProperty('valid');
    const noMeta = await cli('validate', 'not-a-stamp');
    expect((noMeta.json?.errors as string[])[0]).toMatch(/^metadata_missing/);
    expect(noMeta.json).not.toHaveProperty('valid');
    const badJson = join(runtime.layout.snapshotsDir, '20000101T000001Z');
    mkdirSync(badJson);
    writeFileSync(join(badJson, 'backup-metadata.json'), '{');
    const invalid = await cli('validate', '20000101T000001Z');
    expect((invalid.json?.errors as string[])[0]).toMatch(/^metadata_invalid_json/);
    expect(invalid.json).not.toHaveProperty('valid');
    const noDb = join(runtime.layout.snapshotsDir, '20000101T000002Z');
    mkdirSync(noDb);
    writeFileSync(join(noDb, 'backup-metadata.json'), JSON.stringify({ registry_snapshot_path: '', chroma_snapshot_included: false }));
    const dbMissing = await cli('validate', '20000101T000002Z');
    expect(dbMissing.json?.valid).toBe(false);
    expect((dbMissing.json?.errors as string[]).some((e) => e.startsWith('db_snapshot_missing'))).toBe(true);
  });

  it('restore without --confirm-service-stopped refuses: traceback, nothing on stdout, exit 1, nothing changed', async () => {
    const before = await hashTree(runtime.layout.root);
    const refused = await cli('restore', stamp);
    expect(refused.result.exitCode).toBe(1);
    expect(refused.result.stdout).toBe('');
    expect(refused.result.stderr).toContain('Traceback');
    expect(await hashTree(runtime.layout.root)).toEqual(before);
  });

  it('restore of an invalid backup refuses the same way; argument errors exit 2', async () => {
    const refused = await cli('restore', '20000101T000002Z', '--confirm-service-stopped');
    expect(refused.result.exitCode).toBe(1);
    expect(refused.result.stdout).toBe('');
    expect((await cli('restore')).result.exitCode).toBe(2);
  });

  it('restore with confirm (service stopped) answers every field and takes a pre-restore snapshot', async () => {
    await runtime.stop(10_000);
    await new Promise((r) => setTimeout(r, 1_100));
    const restored = await cli('restore', stamp, '--confirm-service-stopped');
    expect(restored.result.exitCode).toBe(0);
    expect(restored.result.stdout.trim().split('\n')[0]).toMatch(/^\{"level"/);
    expect(restored.json).toMatchObject({ stamp, db_restored: true, registry_restored: true, chroma_restored: true, restored_integrity_ok: true });
    expect(restored.json?.pre_restore_snapshot).toMatch(/^\d{8}T\d{6}Z$/);
    expect(restored.json?.pre_restore_snapshot).not.toBe(stamp);
    const pre = join(runtime.layout.snapshotsDir, String(restored.json?.pre_restore_snapshot));
    // the pre-restore snapshot never includes Chroma
    expect(JSON.parse(readFileSync(join(pre, 'backup-metadata.json'), 'utf8'))).toMatchObject({ chroma_snapshot_included: false, chroma_snapshot_path: '' });
    // stale sidecars of the target were removed
    expect(existsSync(`${runtime.layout.dbPath}-wal`)).toBe(false);
  });
});

describe("the stand-in's own self-test", () => {
  it('passes (python3 -m unittest selftest)', () => {
    const out = execFileSync('python3', ['-m', 'unittest', 'selftest'], { cwd: STANDIN_DIR, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 300_000 });
    expect(out).toBeDefined();
  });
});
