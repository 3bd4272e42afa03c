import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { RecordedRequest } from './github-api.js';

const require = createRequire(import.meta.url);

/** The operations the action calls, as GitHub's OpenAPI description names their paths. */
const OPERATIONS: ReadonlyArray<{ method: string; pattern: RegExp; template: string; verb: string }> = [
  { method: 'POST', pattern: /^\/repos\/[^/]+\/[^/]+\/check-runs$/, template: '/repos/{owner}/{repo}/check-runs', verb: 'post' },
  { method: 'PATCH', pattern: /^\/repos\/[^/]+\/[^/]+\/check-runs\/\d+$/, template: '/repos/{owner}/{repo}/check-runs/{check_run_id}', verb: 'patch' },
  { method: 'POST', pattern: /^\/repos\/[^/]+\/[^/]+\/statuses\/[0-9a-f]+$/, template: '/repos/{owner}/{repo}/statuses/{sha}', verb: 'post' },
];

type Schema = Record<string, unknown>;

/**
 * API descriptions say which properties exist but allow any others (GitHub's schemas; Gitea's
 * Go structs drop unknown ones without a word): a misspelled property would pass. Every object
 * schema that lists its properties and says nothing about others is closed here, so that only
 * documented properties are accepted. Used for GitHub's and Gitea's descriptions alike.
 */
export function closeObjects(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(closeObjects);
  if (!schema || typeof schema !== 'object') return schema;
  const copy: Schema = {};
  for (const [key, value] of Object.entries(schema as Schema)) {
    copy[key] = key === 'properties' ? Object.fromEntries(Object.entries(value as Schema).map(([name, inner]) => [name, closeObjects(inner)])) : closeObjects(value);
  }
  if (copy.properties && copy.additionalProperties === undefined) copy.additionalProperties = false;
  return copy;
}

let validators: Map<string, ValidateFunction> | undefined;

/** The request-body validators of the three operations, from @octokit/openapi's api.github.com description. */
function loadValidators(): Map<string, ValidateFunction> {
  if (validators) return validators;
  const path = require.resolve('@octokit/openapi/generated/api.github.com.deref.json');
  const spec = JSON.parse(readFileSync(path, 'utf8')) as { paths: Record<string, Record<string, { requestBody: { content: Record<string, { schema: Schema }> } }>> };
  // OpenAPI 3.0 schemas: Ajv knows `nullable`; `example` and friends are ignored (strict: false)
  const ajv = new Ajv({ strict: false, allErrors: true });
  (addFormatsModule as unknown as (ajv: Ajv) => void)(ajv);
  validators = new Map();
  for (const op of OPERATIONS) {
    const schema = spec.paths[op.template]?.[op.verb]?.requestBody.content['application/json']?.schema;
    if (!schema) throw new Error(`@octokit/openapi has no request body schema for ${op.verb.toUpperCase()} ${op.template}`);
    validators.set(`${op.method} ${op.template}`, ajv.compile(closeObjects(schema) as Schema));
  }
  return validators;
}

/** Limits GitHub documents in prose (REST docs) rather than in the schema. */
function documentedLimits(template: string, body: Schema): string[] {
  const problems: string[] = [];
  if (template.includes('check-runs')) {
    const output = body.output as { title?: string; summary?: string; text?: string; annotations?: Array<Record<string, string>> } | undefined;
    for (const annotation of output?.annotations ?? []) {
      if ((annotation.title ?? '').length > 255) problems.push(`annotation title longer than 255 characters: ${annotation.title!.slice(0, 40)}…`);
      for (const key of ['message', 'raw_details'] as const) {
        if (annotation[key] !== undefined && Buffer.byteLength(annotation[key]!) > 64 * 1024) problems.push(`annotation ${key} larger than 64 KB`);
      }
    }
  }
  if (template.includes('statuses') && typeof body.description === 'string' && body.description.length > 140) {
    problems.push(`commit status description longer than 140 characters (${body.description.length})`);
  }
  return problems;
}

/** Problems with one request body, judged by GitHub's OpenAPI description; [] when it is valid. */
export function requestProblems(request: Pick<RecordedRequest, 'method' | 'path' | 'body'>): string[] {
  const op = OPERATIONS.find((o) => o.method === request.method && o.pattern.test(request.path));
  if (!op) return [`${request.method} ${request.path} is not an operation the action should call`];
  const validate = loadValidators().get(`${op.method} ${op.template}`)!;
  const problems: string[] = [];
  if (!validate(request.body)) {
    for (const error of validate.errors ?? []) problems.push(`${error.instancePath || '(body)'} ${error.message ?? ''}${error.params ? ` ${JSON.stringify(error.params)}` : ''}`);
  }
  problems.push(...documentedLimits(op.template, request.body as Schema));
  return problems.map((p) => `${request.method} ${op.template}: ${p}`);
}

/** Every problem of every request, for one expect(…).toEqual([]). */
export function allRequestProblems(requests: ReadonlyArray<Pick<RecordedRequest, 'method' | 'path' | 'body'>>): string[] {
  return requests.flatMap(requestProblems);
}
