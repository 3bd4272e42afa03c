import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { errorMessage, UsageError } from '../common/errors.js';

/** Writes a report file whole or not at all (temp file + rename), creating its folder. */
export async function writeReportFile(path: string, content: string, flag: string): Promise<void> {
  try {
    await mkdir(dirname(path), { recursive: true });
    const temp = `${path}.${process.pid}.tmp`;
    await writeFile(temp, content);
    await rename(temp, path);
  } catch (error) {
    throw new UsageError(`${flag}: cannot write ${path}: ${errorMessage(error)}`);
  }
}
