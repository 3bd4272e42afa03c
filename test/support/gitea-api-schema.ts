import { readFileSync } from 'node:fs';
import { Ajv, type ValidateFunction } from 'ajv';
import type { RecordedRequest } from './github-api.js';
import { closeObjects } from './github-api-schema.js';

type Schema = Record<string, unknown>;

interface SwaggerOperation {
  readonly parameters: ReadonlyArray<{ name: string; in: string; required?: boolean; schema?: Schema }>;
}

interface GiteaApiPart {
  readonly paths: Record<string, Record<string, SwaggerOperation>>;
  readonly definitions: Record<string, Schema>;
}

/** Gitea's own description of the commit-status call (vendored: see the file's $comment). */
const GITEA_API: GiteaApiPart = JSON.parse(readFileSync(new URL('./gitea-commit-status-api.json', import.meta.url), 'utf8')) as GiteaApiPart;

/** `/repos/{owner}/{repo}/statuses/{sha}` → a pattern matching one path segment per parameter. */
function templatePattern(template: string): RegExp {
  const parts = template.split(/\{[^}]+\}/).map((literal) => literal.replace(/[.*+?^$()|[\]\\{}]/g, '\\$&'));
  return new RegExp(`^${parts.join('[^/]+')}$`);
}

/**
 * The states Gitea accepts. Its description gives CommitStatusState as a bare string and
 * names the values in prose ("It can be \"pending\", …"): they are read from that prose.
 */
export function giteaStatusStates(): string[] {
  const description = String(GITEA_API.definitions.CommitStatusState?.description ?? '');
  return [...description.matchAll(/"([a-z]+)"/g)].map((match) => match[1]!);
}

let validators: Map<string, { pattern: RegExp; validate: ValidateFunction }> | undefined;

function loadValidators(): Map<string, { pattern: RegExp; validate: ValidateFunction }> {
  if (validators) return validators;
  // swagger 2.0 schemas: x-go-name and friends are ignored (strict: false)
  const ajv = new Ajv({ strict: false, allErrors: true });
  validators = new Map();
  for (const [template, operations] of Object.entries(GITEA_API.paths)) {
    for (const [verb, operation] of Object.entries(operations)) {
      const body = operation.parameters.find((p) => p.in === 'body')?.schema;
      if (!body) throw new Error(`Gitea's description has no body for ${verb.toUpperCase()} ${template}`);
      const schema = { ...(closeObjects(body) as Schema), definitions: closeObjects(GITEA_API.definitions) };
      validators.set(`${verb.toUpperCase()} ${template}`, { pattern: templatePattern(template), validate: ajv.compile(schema) });
    }
  }
  return validators;
}

/** Problems with one request, judged by Gitea's API description; [] when Gitea would take it as meant. */
export function giteaRequestProblems(request: Pick<RecordedRequest, 'method' | 'path' | 'body'>): string[] {
  const entry = [...loadValidators()].find(([key, v]) => key.startsWith(`${request.method} `) && v.pattern.test(request.path));
  if (!entry) return [`${request.method} ${request.path} is not an operation of Gitea's API the action should call`];
  const [key, { validate }] = entry;
  const problems: string[] = [];
  if (!validate(request.body)) {
    for (const error of validate.errors ?? []) problems.push(`${error.instancePath || '(body)'} ${error.message ?? ''}${error.params ? ` ${JSON.stringify(error.params)}` : ''}`);
  }
  const state = (request.body as Schema | null)?.state;
  if (typeof state === 'string' && !giteaStatusStates().includes(state)) problems.push(`/state "${state}" is not one of the states Gitea names (${giteaStatusStates().join(', ')})`);
  return problems.map((p) => `${key}: ${p}`);
}
