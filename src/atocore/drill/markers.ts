import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AtoCoreClient } from '../client.js';
import type { AtoCoreRuntime } from '../../runtimes/types.js';
import { errorMessage, InfrastructureError } from '../../common/errors.js';
import { isHarnessReadError, writeFileAtomic } from '../../engine/files.js';
import { ownWriteAsync } from '../../engine/own-writes.js';

/**
 * A two-sided marker: A is written before the backup and must come back, B after it and
 * must be gone. Each has a form in every store: a memory, a registry entry, a Chroma file.
 */
export interface Marker {
  readonly label: 'A' | 'B';
  readonly memoryContent: string;
  readonly registryId: string;
  /** relative to the Chroma directory */
  readonly chromaFile: string;
}

export function markersFor(runId: string): { a: Marker; b: Marker } {
  const make = (label: 'A' | 'B'): Marker => ({
    label,
    memoryContent: `atocore-drill marker ${label} ${runId}`,
    registryId: `atocore-drill-marker-${label.toLowerCase()}-${runId}`,
    chromaFile: `atocore-drill-marker-${label.toLowerCase()}-${runId}.bin`,
  });
  return { a: make('A'), b: make('B') };
}

export function newRunId(): string {
  return randomBytes(4).toString('hex');
}

/** Writes the marker into the stores: the memory through the API, the rest as files. */
export async function writeMarker(marker: Marker, client: AtoCoreClient, runtime: AtoCoreRuntime, includeChroma: boolean): Promise<void> {
  const layout = runtime.layout;
  await client.json('POST', '/memory', { memory_type: 'episodic', content: marker.memoryContent, project: 'drill', confidence: 1 });
  const registry = JSON.parse(await readFile(layout.registryPath, 'utf8')) as { projects: unknown[] };
  registry.projects.push({ id: marker.registryId, aliases: [], description: `atocore-drill marker ${marker.label}`, ingest_roots: [] });
  await ownWriteAsync(layout.registryPath, `writing marker ${marker.label} into the registry`, () => writeFileAtomic(layout.registryPath, `${JSON.stringify(registry, null, 2)}\n`));
  await runtime.handOver(layout.registryPath);
  if (includeChroma) {
    const file = join(layout.chromaDir, marker.chromaFile);
    await ownWriteAsync(file, `writing marker ${marker.label}`, () => writeFile(file, randomBytes(4096)));
    await runtime.handOver(file);
  }
}

/** The project ids of a registry file; null when it is missing or not a registry. */
export async function registryProjectIds(path: string): Promise<string[] | null> {
  try {
    const registry = JSON.parse(await readFile(path, 'utf8')) as { projects?: unknown };
    if (!Array.isArray(registry.projects)) return null;
    return registry.projects.map((p) => String((p as { id?: unknown }).id));
  } catch (error) {
    // missing or not JSON is what the restore left; unreadable is the harness's problem
    if (isHarnessReadError(error)) throw new InfrastructureError(`reading the registry ${path}: ${errorMessage(error)}`);
    return null;
  }
}
