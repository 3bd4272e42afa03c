import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI, PROJECT_ROOT } from './support/cli.js';

const work = mkdtempSync(join(tmpdir(), 'atocore-drill-node-version-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const required = (JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as { engines: { node: string } }).engines.node;

function olderThanRequired(version: string): boolean {
  const [major = 0, minor = 0] = version.replace(/^v/, '').split('.').map(Number);
  const [, needMajor = '0', needMinor = '0'] = /(\d+)(?:\.(\d+))?/.exec(required) ?? [];
  return major < Number(needMajor) || (major === Number(needMajor) && minor < Number(needMinor));
}

/** The machine's own node (e.g. Debian's), when it is one the CLI does not support. */
function systemNode(): { path: string; version: string } | null {
  for (const path of ['/usr/bin/node', '/usr/local/bin/node']) {
    if (!existsSync(path)) continue;
    const version = execFileSync(path, ['--version'], { encoding: 'utf8' }).trim();
    if (olderThanRequired(version)) return { path, version };
  }
  return null;
}

function expectOneLineRefusal(run: ReturnType<typeof spawnSync>, version: string): void {
  expect(run.status).toBe(2);
  expect(run.stdout.toString()).toBe('');
  const stderr = run.stderr.toString();
  expect(stderr.split('\n')).toHaveLength(2); // one line and its newline
  expect(stderr).toContain(`needs Node.js ${required}`);
  expect(stderr).toContain(`this is Node.js ${version.replace(/^v/, '')}`);
  expect(stderr).not.toMatch(/\bat \S+:\d+/); // no stack trace
}

describe(`a Node older than package.json's engines (${required}): one line, exit 2`, () => {
  const older = systemNode();
  it.skipIf(older === null)(`the machine's node${older ? ` (${older.path}, ${older.version})` : ': none older than required here, nothing to run'}`, () => {
    for (const args of [['drill'], ['validate', '--dir', '.'], ['--version']]) {
      expectOneLineRefusal(spawnSync(older!.path, [CLI, ...args], { cwd: PROJECT_ROOT, timeout: 30_000 }), older!.version);
    }
  });

  it('this node, with the requirement raised above it (the check itself, on any machine)', () => {
    const tree = join(work, 'raised');
    mkdirSync(join(tree, 'bin'), { recursive: true });
    copyFileSync(CLI, join(tree, 'bin', 'atocore-drill.js'));
    writeFileSync(join(tree, 'package.json'), JSON.stringify({ type: 'module', engines: { node: '>=999.1' } }));
    // no lib/ next to it: the check must come before anything is imported
    const run = spawnSync(process.execPath, [join(tree, 'bin', 'atocore-drill.js'), 'drill'], { timeout: 30_000 });
    expect(run.status).toBe(2);
    expect(run.stderr.toString()).toBe(`atocore-drill: needs Node.js >=999.1, this is Node.js ${process.versions.node} (${process.execPath}); run it with a newer node\n`);
  });

  it('a supported node runs the CLI', () => {
    const run = spawnSync(process.execPath, [CLI, '--version'], { cwd: PROJECT_ROOT, timeout: 30_000 });
    expect(run.status, run.stderr.toString()).toBe(0);
  });
});
