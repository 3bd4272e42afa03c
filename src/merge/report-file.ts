import { errorMessage, UsageError } from '../common/errors.js';
import { decodeUtf8, describeSchemaErrors, readBounded, schemaValidator } from '../common/schema-file.js';
import type { DrillReport } from '../report/model.js';
import { REPORT_FILE_LIMITS } from './limits.js';

/**
 * One `atocore-drill/report@1` report from a file: a regular file, bounded, UTF-8, JSON, valid
 * against schema/report.schema.json. Anything else is a UsageError naming the file (exit 2).
 */
export async function readReportFile(path: string, limit: number = REPORT_FILE_LIMITS.fileBytes): Promise<{ report: DrillReport; bytes: number }> {
  const validate = await schemaValidator('report');
  const bytes = await readBounded(path, limit, 'a report');
  const text = decodeUtf8(bytes, `${path}: not an atocore-drill report`);
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
