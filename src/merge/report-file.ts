import { constants } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import type { ValidateFunction } from 'ajv';
import { errorMessage, InfrastructureError, UsageError } from '../common/errors.js';
import type { DrillReport } from '../report/model.js';
import { REPORT_FILE_LIMITS } from './limits.js';

/** schema/ sits two levels above this module in src/, lib/ and the action's dist/ alike. */
const SCHEMA_URL = new URL('../../schema/report.schema.json', import.meta.url);

let compiled: Promise<ValidateFunction> | null = null;

/** The report schema, compiled once: the one definition of what a report is. */
function reportValidator(): Promise<ValidateFunction> {
  compiled ??= (async () => {
    let schema: object;
    try {
      schema = JSON.parse(await readFile(SCHEMA_URL, 'utf8')) as object;
    } catch (error) {
      throw new InfrastructureError(`the report schema could not be read at ${SCHEMA_URL.pathname}: ${errorMessage(error)} (is the package complete?)`);
    }
    // loaded here, not at start: only a merge needs a schema validator
    // both are CommonJS: their default export is the module itself, in Node and in the action's bundle alike
    const [ajvModule, formatsModule] = await Promise.all([import('ajv/dist/2020.js'), import('ajv-formats')]);
    const Ajv2020 = ajvModule.default as unknown as typeof import('ajv/dist/2020.js').Ajv2020;
    const ajv = new Ajv2020({ allErrors: false, strict: true });
    (formatsModule.default as unknown as (ajv: InstanceType<typeof Ajv2020>) => void)(ajv);
    return ajv.compile(schema);
  })();
  return compiled;
}

/** Reads at most `limit` + 1 bytes of a regular file; never blocks on a FIFO, never follows into a device. */
async function readBounded(path: string, limit: number): Promise<Buffer> {
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
    if (info.size > limit) throw new UsageError(`${path}: ${info.size} bytes, more than a report can be (${limit} bytes)`);
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
      // a file of /proc that would block, a disk error: not a report either way
      throw new UsageError(`${path}: cannot be read: ${errorMessage(error)}`);
    }
    if (length > limit) throw new UsageError(`${path}: more than a report can be (${limit} bytes)`);
    return Buffer.concat(chunks, length);
  } finally {
    await handle.close();
  }
}

/** A few of the schema's complaints, bounded: enough to find the fault in the file. */
function describeSchemaErrors(validate: ValidateFunction): string {
  const errors = (validate.errors ?? []).slice(0, 3);
  return errors.map((e) => `${e.instancePath || '/'} ${e.message ?? 'is invalid'}`.slice(0, 300)).join('; ') || 'does not match the schema';
}

/**
 * One `atocore-drill/report@1` report from a file: a regular file, bounded, UTF-8, JSON, valid
 * against schema/report.schema.json. Anything else is a UsageError naming the file (exit 2).
 */
export async function readReportFile(path: string, limit: number = REPORT_FILE_LIMITS.fileBytes): Promise<{ report: DrillReport; bytes: number }> {
  const validate = await reportValidator();
  const bytes = await readBounded(path, limit);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new UsageError(`${path}: not an atocore-drill report: not UTF-8 text`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    // the parser quotes the file's bytes: only where it stopped is said, never what is there
    const at = /position (\d+)/.exec(errorMessage(error))?.[1];
    throw new UsageError(`${path}: not an atocore-drill report: not JSON${at ? ` (stops at byte ${at})` : ''}`);
  }
  if (!validate(value)) {
    const schema = typeof value === 'object' && value !== null && 'schema' in value ? (value as { schema: unknown }).schema : undefined;
    const what = schema === 'atocore-drill/report@1' ? describeSchemaErrors(validate) : `its "schema" is not "atocore-drill/report@1"`;
    throw new UsageError(`${path}: not an atocore-drill/report@1 report: ${what}`);
  }
  return { report: value as DrillReport, bytes: bytes.length };
}
