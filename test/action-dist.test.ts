import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { Input, Output } from '../src/action/constants.js';
import { NATIVE_ADDONS, nativeAddonFor } from '../src/action/native-addon.js';
import { actionMetadata } from './support/action-runner.js';
import { PROJECT_ROOT } from './support/cli.js';

const work = mkdtempSync(join(tmpdir(), 'atocore-drill-dist-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function files(dir: string): string[] {
  const found: string[] = [];
  const walk = (current: string): void => {
    for (const entry of readdirSync(current)) {
      const path = join(current, entry);
      if (statSync(path).isDirectory()) walk(path);
      else found.push(relative(dir, path));
    }
  };
  walk(dir);
  return found.sort();
}

describe('check-dist: the committed dist/ is exactly a fresh build', () => {
  it('npm run package into a temp dir gives the same files, byte for byte', () => {
    const fresh = join(work, 'dist');
    execFileSync(process.execPath, [join(PROJECT_ROOT, 'scripts/package.mjs'), '--outdir', fresh], { cwd: PROJECT_ROOT, stdio: 'pipe', timeout: 120_000 });
    const committed = join(PROJECT_ROOT, 'dist');
    expect(existsSync(committed), 'dist/ is missing: run npm run package').toBe(true);
    expect(files(committed), 'dist/ has other files than a fresh build: run npm run package and commit dist/').toEqual(files(fresh));
    const differing = files(fresh).filter((file) => !readFileSync(join(fresh, file)).equals(readFileSync(join(committed, file))));
    expect(differing, 'these files of dist/ differ from a fresh build of the sources: run npm run package and commit dist/').toEqual([]);
  });

  it('ships every addon better-sqlite3 ships, as the package built it, and the selection table names exactly those', () => {
    const prebuilt = readdirSync(join(PROJECT_ROOT, 'node_modules/better-sqlite3/prebuilds')).filter((name) => name.endsWith('.node')).sort();
    const shipped = readdirSync(join(PROJECT_ROOT, 'dist/native')).sort();
    expect(shipped).toEqual(prebuilt);
    expect(NATIVE_ADDONS.map((addon) => addon.file).sort()).toEqual(shipped);
    for (const file of shipped) expect(readFileSync(join(PROJECT_ROOT, 'dist/native', file)).equals(readFileSync(join(PROJECT_ROOT, 'node_modules/better-sqlite3/prebuilds', file))), file).toBe(true);
  });

  it('picks the addon by platform, architecture and libc; none for a runner nothing is shipped for', () => {
    expect(nativeAddonFor('linux', 'x64', false)).toBe('linux-x64.node');
    expect(nativeAddonFor('linux', 'x64', true)).toBe('linuxmusl-x64.node');
    expect(nativeAddonFor('linux', 'arm64', true)).toBe('linuxmusl-arm64.node');
    expect(nativeAddonFor('darwin', 'arm64', false)).toBe('darwin-arm64.node');
    expect(nativeAddonFor('win32', 'x64', false)).toBe('win32-x64.node');
    expect(nativeAddonFor('linux', 'ppc64', false)).toBeNull();
    expect(nativeAddonFor('freebsd', 'x64', false)).toBeNull();
  });

  it('the addon chosen for this machine loads and runs SQL', () => {
    const file = nativeAddonFor(process.platform, process.arch, false)!;
    const db = new Database(':memory:', { nativeBinding: join(PROJECT_ROOT, 'dist/native', file) });
    try {
      expect(db.prepare('SELECT sqlite_version() AS v').get()).toMatchObject({ v: expect.stringMatching(/^3\./) });
    } finally {
      db.close();
    }
  });
});

describe('action.yml', () => {
  const metadata = actionMetadata();

  it('runs node24, main and post from dist/, post always', () => {
    expect(metadata.runs.using).toBe('node24');
    expect(existsSync(join(PROJECT_ROOT, metadata.runs.main))).toBe(true);
    expect(existsSync(join(PROJECT_ROOT, metadata.runs.post!))).toBe(true);
    expect(metadata.runs['post-if']).toBe('always()');
  });

  it('declares exactly the inputs the input helper reads and the outputs main writes, each described', () => {
    expect(Object.keys(metadata.inputs).sort()).toEqual(Object.values(Input).sort());
    expect(Object.keys(metadata.outputs).sort()).toEqual(Object.values(Output).sort());
    for (const [name, input] of Object.entries(metadata.inputs)) expect(input.description?.length ?? 0, `input ${name}`).toBeGreaterThan(20);
    for (const [name, output] of Object.entries(metadata.outputs)) expect(output.description?.length ?? 0, `output ${name}`).toBeGreaterThan(10);
  });

  it('docs/action.md documents every input and output', () => {
    const doc = readFileSync(join(PROJECT_ROOT, 'docs/action.md'), 'utf8');
    for (const name of [...Object.keys(metadata.inputs), ...Object.keys(metadata.outputs)]) expect(doc, name).toContain(`\`${name}\``);
  });
});
