import { createHash } from 'node:crypto';
import { openDatabase } from '../../sqlite/open.js';
import { ownWrite } from '../../engine/own-writes.js';
import type { RegistryProject } from './seed.js';

/**
 * Bulk rows for a drill at scale (`--seed-size 1GB`): documents and their chunks in every
 * project of the seed's registry, and interactions, written straight into AtoCore's database
 * after the seed (in one transaction, prepared statements) until the database holds about
 * the size asked for. The same size gives the same rows, byte for byte: ids, text and times
 * come from a fixed pseudo-random sequence, never from the clock.
 */

/** The sizes `--seed-size` takes: a number and a unit (kB, MB, GB, or KiB, MiB, GiB). */
const SIZE_PATTERN = /^(\d+(?:\.\d+)?)\s*(k|kb|kib|m|mb|mib|g|gb|gib)$/i;
const UNIT_BYTES: Readonly<Record<string, number>> = { k: 1e3, kb: 1e3, kib: 1024, m: 1e6, mb: 1e6, mib: 1024 ** 2, g: 1e9, gb: 1e9, gib: 1024 ** 3 };

/** The largest seed the generator writes (the drill copies the database several times). */
export const MAX_SEED_BYTES = 64 * 1024 ** 3;

/** Bytes from `10MB`, `1GB`, `512MiB`; null when the text is not a size. */
export function parseSeedSize(text: string): number | null {
  const match = SIZE_PATTERN.exec(text.trim());
  if (!match) return null;
  const bytes = Math.round(Number(match[1]) * UNIT_BYTES[match[2]!.toLowerCase()]!);
  return Number.isFinite(bytes) && bytes > 0 ? bytes : null;
}

/** A small, fast, seedable generator (mulberry32): the same sequence on every machine. */
export class Sequence {
  #state: number;
  constructor(seed: number) {
    this.#state = seed >>> 0;
  }
  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  below(n: number): number {
    return Math.floor(this.next() * n);
  }
  /** A UUID-shaped id (version 4 layout), from the sequence. */
  id(): string {
    let hex = '';
    for (let i = 0; i < 4; i++) hex += (Math.floor(this.next() * 2 ** 32) >>> 0).toString(16).padStart(8, '0');
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
  }
}

/** Engineering notes' words: text that compresses and indexes like AtoCore's own sources. */
const WORDS = (
  'the a of to and in for on with at by from is are was be this that it as or not an ' +
  'board rail clock link phy spindle polisher mirror laser fringe flatness alignment ' +
  'tolerance measurement calibration firmware register strap reset sequence voltage current ' +
  'thermal drift noise jitter compliance layout trace impedance via ground plane shield ' +
  'motor encoder feedback loop gain phase margin bandwidth filter sample rate buffer ' +
  'vendor datasheet revision errata workaround test fixture bench result log note review ' +
  'interferometer beam splitter reference surface wavefront lens aperture stage axis ' +
  'torque bearing coolant slurry pad pressure dwell tool path pass micron nanometre ' +
  'schedule risk decision owner action open closed pending verified failed passed'
).split(' ');

function sentence(sequence: Sequence, words: number): string {
  const parts: string[] = [];
  for (let i = 0; i < words; i++) parts.push(WORDS[sequence.below(WORDS.length)]!);
  const text = parts.join(' ');
  return `${text.charAt(0).toUpperCase()}${text.slice(1)}.`;
}

function paragraph(sequence: Sequence, targetChars: number): string {
  let text = '';
  while (text.length < targetChars) text += `${text ? ' ' : ''}${sentence(sequence, 8 + sequence.below(14))}`;
  return text;
}

/** Where a project's generated documents live: under its first ingest root, as AtoCore's ingestion would name them. */
function projectRoot(project: RegistryProject): string {
  const roots = (project as { ingest_roots?: unknown }).ingest_roots;
  const first = Array.isArray(roots) ? (roots[0] as { subpath?: unknown } | undefined) : undefined;
  return typeof first?.subpath === 'string' && first.subpath !== '' ? first.subpath : project.id;
}

export interface GeneratedSeed {
  readonly documents: number;
  readonly chunks: number;
  readonly interactions: number;
  /** the database's size afterwards (page count × page size, WAL included) */
  readonly bytes: number;
}

/** How the rows are shaped: chunks per document, characters per chunk, an interaction per so many chunks. */
const CHUNKS_PER_DOCUMENT = 16;
const CHUNK_CHARS = 1_200;
const CHUNKS_PER_INTERACTION = 8;
/** How often the size is looked at (pages, not rows, decide when to stop). */
const SIZE_CHECK_EVERY = 256;
/** Generated rows are dated before the drill: a fixed epoch, one minute apart. */
const EPOCH_MS = Date.parse('2026-01-01T00:00:00Z');

/**
 * Writes generated rows into an AtoCore database until it holds about `targetBytes` (it
 * stops at the first size check past the target). Deterministic: the same `targetBytes`,
 * projects and `seedNumber` give the same rows. One transaction: a drill that fails
 * half-way leaves the database as the seed left it.
 */
export function generateSeedRows(dbPath: string, targetBytes: number, projects: readonly RegistryProject[], seedNumber = 20260101): GeneratedSeed {
  return ownWrite(dbPath, 'writing generated seed rows into', () => writeRows(dbPath, targetBytes, projects, seedNumber));
}

function writeRows(dbPath: string, targetBytes: number, projects: readonly RegistryProject[], seedNumber: number): GeneratedSeed {
  const db = openDatabase(dbPath, { timeoutMs: 10_000 });
  try {
    const sequence = new Sequence(seedNumber);
    const pageSize = db.pragma('page_size', { simple: true }) as number;
    const size = (): number => (db.pragma('page_count', { simple: true }) as number) * pageSize;
    const doc = db.prepare('INSERT INTO source_documents (id, file_path, file_hash, title, doc_type, tags, ingested_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
    const chunk = db.prepare('INSERT INTO source_chunks (id, document_id, chunk_index, content, heading_path, char_count, metadata, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
    const interaction = db.prepare('INSERT INTO interactions (id, prompt, response, client, session_id, project, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)');
    const names = projects.length > 0 ? projects : [{ id: 'generated' }];
    let documents = 0;
    let chunks = 0;
    let interactions = 0;
    db.transaction(() => {
      while (size() < targetBytes) {
        for (let batch = 0; batch < SIZE_CHECK_EVERY / CHUNKS_PER_DOCUMENT; batch++) {
          const project = names[documents % names.length]!;
          const at = new Date(EPOCH_MS + documents * 60_000).toISOString();
          const title = sentence(sequence, 3 + sequence.below(4)).slice(0, -1);
          const docId = sequence.id();
          const contents: string[] = [];
          for (let index = 0; index < CHUNKS_PER_DOCUMENT; index++) contents.push(paragraph(sequence, CHUNK_CHARS - 200 + sequence.below(400)));
          const filePath = `${projectRoot(project)}/generated/doc-${String(documents).padStart(7, '0')}.md`;
          doc.run(docId, filePath, createHash('sha256').update(contents.join('\n')).digest('hex'), title, 'markdown', JSON.stringify([project.id, 'generated']), at, at);
          contents.forEach((content, index) => {
            chunk.run(sequence.id(), docId, index, content, `${title} > Part ${index + 1}`, content.length, JSON.stringify({ project: project.id }), at);
            chunks++;
            if (chunks % CHUNKS_PER_INTERACTION === 0) {
              interaction.run(sequence.id(), sentence(sequence, 10), paragraph(sequence, 400), 'generator', `session-${documents % 97}`, project.id, at);
              interactions++;
            }
          });
          documents++;
        }
      }
    })();
    return { documents, chunks, interactions, bytes: size() };
  } finally {
    db.close();
  }
}
