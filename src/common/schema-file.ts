/**
 * Files the harness reads as declarations (reports to merge, service profiles): read bounded,
 * never blocking on a FIFO, decoded strictly, and checked against the schema the package
 * publishes for them.
 */
import { constants } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import type { ValidateFunction } from 'ajv';
import { errorMessage, InfrastructureError, UsageError } from './errors.js';

/** schema/ sits two levels above this module in src/, lib/ and the action's dist/ alike. */
const SCHEMA_DIR = new URL('../../schema/', import.meta.url);

const compiled = new Map<string, Promise<ValidateFunction>>();

/** A published schema (schema/NAME.schema.json), compiled once: the one definition of what such a file is. */
export function schemaValidator(name: 'report' | 'profile'): Promise<ValidateFunction> {
  const url = new URL(`${name}.schema.json`, SCHEMA_DIR);
  let validator = compiled.get(name);
  if (validator) return validator;
  validator = (async () => {
    let schema: object;
    try {
      schema = JSON.parse(await readFile(url, 'utf8')) as object;
    } catch (error) {
      throw new InfrastructureError(`the ${name} schema could not be read at ${url.pathname}: ${errorMessage(error)} (is the package complete?)`);
    }
    // loaded here, not at start: only a merge or a profile needs a schema validator
    // both are CommonJS: their default export is the module itself, in Node and in the action's bundle alike
    const [ajvModule, formatsModule] = await Promise.all([import('ajv/dist/2020.js'), import('ajv-formats')]);
    const Ajv2020 = ajvModule.default as unknown as typeof import('ajv/dist/2020.js').Ajv2020;
    const ajv = new Ajv2020({ allErrors: false, strict: true });
    (formatsModule.default as unknown as (ajv: InstanceType<typeof Ajv2020>) => void)(ajv);
    return ajv.compile(schema);
  })();
  compiled.set(name, validator);
  return validator;
}

/** Reads at most `limit` + 1 bytes of a regular file; never blocks on a FIFO, never follows into a device. */
export async function readBounded(path: string, limit: number, what: string): Promise<Buffer> {
  let handle;
  try {
    // O_NONBLOCK: opening a FIFO must not wait for a writer; it is then refused as not a file
    handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK | (constants.O_NOCTTY ?? 0));
  } catch (error) {
    throw new UsageError(`${path}: cannot be read: ${errorMessage(error)}`);
  }
  try {
    const info = await handle.stat();
    if (!info.isFile()) throw new UsageError(`${path}: not a regular file`);
    if (info.size > limit) throw new UsageError(`${path}: ${info.size} bytes, more than ${what} can be (${limit} bytes)`);
    // read until the end, never more than limit + 1 bytes (the size said can be stale: a file that grows, /proc)
    const chunks: Buffer[] = [];
    let length = 0;
    try {
      while (length <= limit) {
        const chunk = Buffer.alloc(Math.min(1024 * 1024, limit + 1 - length));
        const { bytesRead } = await handle.read(chunk, 0, chunk.length, length);
        if (bytesRead === 0) break;
        chunks.push(chunk.subarray(0, bytesRead));
        length += bytesRead;
      }
    } catch (error) {
      // a file of /proc that would block, a disk error: not readable either way
      throw new UsageError(`${path}: cannot be read: ${errorMessage(error)}`);
    }
    if (length > limit) throw new UsageError(`${path}: more than ${what} can be (${limit} bytes)`);
    return Buffer.concat(chunks, length);
  } finally {
    await handle.close();
  }
}

/** A few of the schema's complaints, bounded: enough to find the fault in the file. */
export function describeSchemaErrors(validate: ValidateFunction): string {
  const errors = (validate.errors ?? []).slice(0, 3);
  return errors.map((e) => `${e.instancePath || '/'} ${e.message ?? 'is invalid'}`.slice(0, 300)).join('; ') || 'does not match the schema';
}

/** The bytes as UTF-8 text; a UsageError saying `context` when they are not. */
export function decodeUtf8(bytes: Buffer, context: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new UsageError(`${context}: not UTF-8 text`);
  }
}
