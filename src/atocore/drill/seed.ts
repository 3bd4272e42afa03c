import { createHash } from 'node:crypto';
import { FieldError } from '../../inputs/fields.js';
import { cp, readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { DEFAULT_SEED_DIR } from '../standin.js';
import type { AtoCoreClient } from '../client.js';
import { errorMessage } from '../../common/errors.js';
import type { AtoCoreRuntime } from '../../runtimes/types.js';
import { openDatabase } from '../../sqlite/open.js';
import { pathExists, writeFileAtomic } from '../../engine/files.js';
import { ownWrite, ownWriteAsync } from '../../engine/own-writes.js';

export { DEFAULT_SEED_DIR };

export interface SeedDocument {
  readonly file_path: string;
  readonly title: string;
  readonly doc_type: string;
  readonly tags: readonly string[];
  readonly project: string;
  readonly chunks: ReadonlyArray<{ heading_path: string; content: string }>;
}
export interface SeedMemory {
  readonly memory_type: string;
  readonly content: string;
  readonly project: string;
  readonly confidence: number;
}
export interface SeedInteraction {
  readonly prompt: string;
  readonly response: string;
  readonly client: string;
  readonly session_id: string;
  readonly project: string;
}
export interface ContextProbe {
  readonly prompt: string;
  readonly project: string;
}
export interface RegistryProject {
  readonly id: string;
  readonly [key: string]: unknown;
}

/** The seed dataset (fixtures/seed/ or --seed DIR), loaded and checked before anything starts. */
export interface Seed {
  readonly dir: string;
  readonly registry: { projects: RegistryProject[] };
  readonly documents: readonly SeedDocument[];
  readonly memories: readonly SeedMemory[];
  readonly interactions: readonly SeedInteraction[];
  readonly probes: readonly ContextProbe[];
  /** null when the seed has no chroma/ directory */
  readonly chromaDir: string | null;
  readonly chunkCount: number;
}

async function readSeedJson(dir: string, name: string, required: boolean): Promise<unknown> {
  const path = join(dir, name);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if (!required && (error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new FieldError('seed', `cannot read ${path}: ${errorMessage(error)}`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new FieldError('seed', `${path} is not valid JSON: ${errorMessage(error)}`);
  }
}

function requireArray(value: unknown, path: string): unknown[] {
  if (!Array.isArray(value)) throw new FieldError('seed', `${path} must hold a JSON array`);
  return value;
}

function requireStrings(item: unknown, keys: readonly string[], where: string): Record<string, unknown> {
  if (item === null || typeof item !== 'object') throw new FieldError('seed', `${where} must be an object`);
  const record = item as Record<string, unknown>;
  for (const key of keys) {
    if (typeof record[key] !== 'string') throw new FieldError('seed', `${where} needs a string "${key}"`);
  }
  return record;
}

export async function loadSeed(dir: string = DEFAULT_SEED_DIR): Promise<Seed> {
  if (!(await pathExists(dir))) throw new FieldError('seed', `directory ${dir} does not exist`);
  const registry = await readSeedJson(dir, 'project-registry.json', true);
  const projects = requireArray((registry as { projects?: unknown } | null)?.projects, join(dir, 'project-registry.json') + ' "projects"');
  projects.forEach((p, i) => requireStrings(p, ['id'], `project-registry.json projects[${i}]`));
  const documents = requireArray(await readSeedJson(dir, 'documents.json', true), join(dir, 'documents.json'));
  let chunkCount = 0;
  documents.forEach((d, i) => {
    const doc = requireStrings(d, ['file_path', 'title', 'doc_type', 'project'], `documents.json[${i}]`);
    const chunks = requireArray(doc.chunks, `documents.json[${i}].chunks`);
    chunks.forEach((c, j) => requireStrings(c, ['heading_path', 'content'], `documents.json[${i}].chunks[${j}]`));
    chunkCount += chunks.length;
  });
  const memories = requireArray(await readSeedJson(dir, 'memories.json', true), join(dir, 'memories.json'));
  memories.forEach((m, i) => requireStrings(m, ['memory_type', 'content', 'project'], `memories.json[${i}]`));
  const interactions = requireArray((await readSeedJson(dir, 'interactions.json', false)) ?? [], join(dir, 'interactions.json'));
  const probes = requireArray((await readSeedJson(dir, 'context-probes.json', false)) ?? [], join(dir, 'context-probes.json'));
  probes.forEach((p, i) => requireStrings(p, ['prompt', 'project'], `context-probes.json[${i}]`));
  const chromaDir = join(dir, 'chroma');
  return {
    dir,
    registry: registry as Seed['registry'],
    documents: documents as SeedDocument[],
    memories: memories as SeedMemory[],
    interactions: interactions as SeedInteraction[],
    probes: probes as ContextProbe[],
    chromaDir: (await pathExists(chromaDir)) ? chromaDir : null,
    chunkCount,
  };
}

/** Stable ids, so two seeded databases are byte-comparable in their content. */
function seedId(...parts: string[]): string {
  const hex = createHash('sha256').update(parts.join('\u0000')).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/** The files AtoCore has no API for: the registry and the Chroma directory. Written before the service starts. */
export async function writeSeedFiles(seed: Seed, runtime: AtoCoreRuntime): Promise<void> {
  const layout = runtime.layout;
  await ownWriteAsync(layout.registryPath, 'writing the seed registry', () => writeFileAtomic(layout.registryPath, `${JSON.stringify(seed.registry, null, 2)}\n`));
  await runtime.handOver(layout.registryPath);
  if (seed.chromaDir) {
    const from = seed.chromaDir;
    await ownWriteAsync(layout.chromaDir, 'copying the seed Chroma files into', () => cp(from, layout.chromaDir, { recursive: true }));
    for (const entry of await readdir(layout.chromaDir, { recursive: true })) await runtime.handOver(join(layout.chromaDir, entry));
  }
}

/**
 * Documents, chunks, projects and interactions have no write API in the contract, so they
 * go into AtoCore's database directly (AtoCore created the schema at start-up; its own
 * connection stays open).
 */
export function insertSeedRows(seed: Seed, dbPath: string): void {
  ownWrite(dbPath, 'writing the seed rows into', () => insertRows(seed, dbPath));
}

function insertRows(seed: Seed, dbPath: string): void {
  const db = openDatabase(dbPath, { timeoutMs: 10_000 });
  try {
    const now = new Date().toISOString();
    db.transaction(() => {
      const project = db.prepare('INSERT INTO projects (id, name, description, created_at) VALUES (?, ?, ?, ?)');
      for (const p of seed.registry.projects) {
        project.run(p.id, p.id, typeof p.description === 'string' ? p.description : '', now);
      }
      const doc = db.prepare(
        'INSERT INTO source_documents (id, file_path, file_hash, title, doc_type, tags, ingested_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      );
      const chunk = db.prepare(
        'INSERT INTO source_chunks (id, document_id, chunk_index, content, heading_path, char_count, metadata, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      );
      for (const d of seed.documents) {
        const docId = seedId('document', d.file_path);
        const body = d.chunks.map((c) => c.content).join('\n');
        doc.run(docId, d.file_path, createHash('sha256').update(body).digest('hex'), d.title, d.doc_type, JSON.stringify(d.tags ?? []), now, now);
        d.chunks.forEach((c, index) => {
          chunk.run(seedId('chunk', d.file_path, String(index)), docId, index, c.content, c.heading_path, c.content.length, JSON.stringify({ project: d.project }), now);
        });
      }
      const interaction = db.prepare(
        'INSERT INTO interactions (id, prompt, response, client, session_id, project, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
      );
      seed.interactions.forEach((i, index) => {
        interaction.run(seedId('interaction', String(index)), i.prompt, i.response, i.client, i.session_id, i.project, now);
      });
    })();
  } finally {
    db.close();
  }
}

/**
 * A passive WAL checkpoint once the seed is written, so the seed lives in the main file and
 * the markers written after it are what sits in the WAL: a backup that copies the main
 * file without its WAL then loses exactly marker A, which the drill must notice.
 */
export function checkpointSeed(dbPath: string): void {
  ownWrite(dbPath, 'checkpointing the seed into', () => {
    const db = openDatabase(dbPath, { timeoutMs: 10_000 });
    try {
      db.pragma('wal_checkpoint(PASSIVE)');
    } finally {
      db.close();
    }
  });
}

/** Memories through AtoCore's API, as a client would write them. */
export async function postSeedMemories(seed: Seed, client: AtoCoreClient): Promise<void> {
  for (const memory of seed.memories) {
    await client.json('POST', '/memory', {
      memory_type: memory.memory_type,
      content: memory.content,
      project: memory.project,
      confidence: memory.confidence,
    });
  }
}
