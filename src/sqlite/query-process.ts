/**
 * One SQL statement the harness did not write, over a database it did not make (a profile's
 * marker query on what a restore left), run in a child process that can be killed: SQLite
 * cannot be interrupted from JavaScript, a worker thread stuck in a query cannot be stopped (it
 * even holds the process at exit), and a query over a never-ending view never returns. The
 * child is Node itself with its built-in SQLite, so nothing has to be shipped beside the bundle.
 */
import { describeProcessResult, runProcess } from '../common/child-process.js';
import { InfrastructureError } from '../common/errors.js';
import { whyNotEvidence } from '../engine/classification.js';

// CommonJS, run by `node -e`; the request comes on stdin, the answer is one line of JSON
const CHILD = `
const { DatabaseSync } = require('node:sqlite');
let input = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => (input += chunk));
process.stdin.on('end', () => {
  const { path, sql, params, write } = JSON.parse(input);
  let answer;
  try {
    const db = new DatabaseSync(path, { readOnly: !write, open: true });
    db.exec('PRAGMA busy_timeout = 10000');
    if (write) { db.prepare(sql).run(params); answer = { ok: true, row: true }; }
    else answer = { ok: true, row: db.prepare(sql).get(params) !== undefined };
    db.close();
  } catch (error) {
    answer = { ok: false, errcode: typeof error.errcode === 'number' ? error.errcode : null, message: String(error && error.message || error) };
  }
  process.stdout.write(JSON.stringify(answer) + '\\n');
});
`;

export type QueryAnswer = { readonly ok: true; readonly row: boolean } | { readonly ok: false; readonly errcode: number | null; readonly message: string };

/**
 * Runs `sql` with `params` bound by name on the database at `path` (read-only unless `write`):
 * whether it returned a row, or SQLite's error. An interrupt, the bound, or a child that could
 * not run is an InfrastructureError naming `what`.
 */
export async function queryInChildProcess(
  path: string,
  sql: string,
  params: Readonly<Record<string, string>>,
  options: { readonly write: boolean; readonly timeoutMs: number; readonly boundName: string; readonly signal?: AbortSignal | undefined; readonly what: string },
): Promise<QueryAnswer> {
  const result = await runProcess([process.execPath, '--no-warnings', '-e', CHILD], {
    timeoutMs: options.timeoutMs,
    input: JSON.stringify({ path, sql, params, write: options.write }),
    maxOutputBytes: 64 * 1024,
    env: { PATH: process.env.PATH ?? '' },
    ...(options.signal ? { signal: options.signal } : {}),
  });
  const why = whyNotEvidence(result, options.what, options.boundName);
  if (why) throw new InfrastructureError(why);
  const line = result.stdout.trim().split('\n').at(-1) ?? '';
  try {
    const answer = JSON.parse(line) as QueryAnswer;
    if (typeof answer === 'object' && answer !== null && typeof answer.ok === 'boolean') return answer;
  } catch {
    // below
  }
  throw new InfrastructureError(`${options.what}: the query process gave no answer (${describeProcessResult(result)}): ${result.stderr.slice(-300)}`);
}
