#!/usr/bin/env node
// Builds the GitHub Action's bundle: dist/ (committed; action.yml runs it) or --outdir DIR
// (the check-dist test builds into a temp dir and compares). One script, always the same
// output for the same sources and lockfile.
//
//   dist/main/index.mjs   the main step     (src/action/main.ts and everything it imports)
//   dist/post/index.mjs   the post step     (src/action/post.ts)
//   dist/integrity-worker/index.mjs  the thread integrity_check runs on (src/sqlite/integrity-worker.ts)
//   dist/native/*.node    every prebuilt N-API addon better-sqlite3 ships (Linux glibc/musl, macOS, Windows)
//   dist/licenses.txt     the licenses of everything bundled
//
// The bundles sit two levels below the repository root on purpose: the engine finds the
// AtoCore stand-in and the seed at `../../fixtures/…` from its own module URL, which from
// dist/main/index.mjs is the repository's fixtures/ (the runner checks the whole
// repository out, fixtures included).
import { build } from 'esbuild';
import { copyFile, mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const outIndex = args.indexOf('--outdir');
const outdir = resolve(root, outIndex >= 0 ? args[outIndex + 1] : 'dist');
if (outIndex >= 0 && !args[outIndex + 1]) {
  console.error('package: --outdir needs a directory');
  process.exit(2);
}

// every prebuilt addon better-sqlite3 ships (src/action/native-addon.ts picks one per runner)
const NATIVE_TARGETS = ['linux-x64', 'linux-arm64', 'linuxmusl-x64', 'linuxmusl-arm64', 'darwin-x64', 'darwin-arm64', 'win32-x64', 'win32-arm64'];

await rm(outdir, { recursive: true, force: true });
await mkdir(outdir, { recursive: true });

const result = await build({
  absWorkingDir: root,
  // the integrity workers' thread (src/sqlite/integrity-workers.ts finds it at dist/integrity-worker/)
  entryPoints: { 'main/index': 'src/action/main.ts', 'post/index': 'src/action/post.ts', 'integrity-worker/index': 'src/sqlite/integrity-worker.ts' },
  outdir,
  outExtension: { '.js': '.mjs' },
  bundle: true,
  platform: 'node',
  target: 'node24',
  format: 'esm',
  // code only some modes use (testcontainers, ssh2) in chunks of its own, loaded on first
  // use: parsing one big bundle was most of the action's start-up time. Chunks sit one level
  // below dist/, as the entries do, so URLs relative to import.meta.url mean the same in both.
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  // bundled CommonJS packages call require() for Node's built-ins and the .node addon, and
  // some name __dirname at load time (ssh2's agent, via dockerode): give them the bundle's
  banner: {
    js: [
      "import { createRequire as __atocoreDrillCreateRequire } from 'node:module';",
      "import { fileURLToPath as __atocoreDrillFileURLToPath } from 'node:url';",
      "import { dirname as __atocoreDrillDirname } from 'node:path';",
      'const require = __atocoreDrillCreateRequire(import.meta.url);',
      'const __filename = __atocoreDrillFileURLToPath(import.meta.url);',
      'const __dirname = __atocoreDrillDirname(__filename);',
    ].join('\n'),
  },
  // ssh2's optional native speed-ups: loaded in try/catch, absent on purpose (pure JS is used)
  external: ['cpu-features', '*.node'],
  legalComments: 'none',
  charset: 'utf8',
  metafile: true,
  logLevel: 'warning',
});

for (const target of NATIVE_TARGETS) {
  const from = join(root, 'node_modules/better-sqlite3/prebuilds', `${target}.node`);
  await mkdir(join(outdir, 'native'), { recursive: true });
  await copyFile(from, join(outdir, 'native', `${target}.node`));
}

/** Every bundled package's name, version and license text, in a stable order. */
async function licenses() {
  const packages = new Map();
  const inputs = Object.keys(result.metafile.inputs).filter((path) => path.includes('node_modules/'));
  for (const input of inputs) {
    const parts = input.split('node_modules/').pop().split('/');
    const name = parts[0].startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0];
    const dir = join(root, input.slice(0, input.lastIndexOf('node_modules/') + 'node_modules/'.length), name);
    if (!packages.has(dir)) packages.set(dir, name);
  }
  packages.set(join(root, 'node_modules/better-sqlite3'), 'better-sqlite3');
  const entries = [];
  for (const [dir, name] of packages) {
    const manifest = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8'));
    const files = (await readdir(dir)).filter((file) => /^(licen[cs]e|copying|notice)/i.test(file)).sort();
    const texts = [];
    for (const file of files) texts.push((await readFile(join(dir, file), 'utf8')).trim());
    entries.push({ key: `${name}@${manifest.version}`, text: `${name} ${manifest.version}\nlicense: ${manifest.license ?? 'unknown'}\n\n${texts.join('\n\n') || '(no license file in the package)'}` });
  }
  entries.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const unique = entries.filter((entry, i) => i === 0 || entries[i - 1].key !== entry.key);
  return `Third-party software bundled in dist/ (and better-sqlite3's addons in dist/native/):\n\n${unique.map((e) => e.text).join('\n\n' + '-'.repeat(72) + '\n\n')}\n`;
}
await writeFile(join(outdir, 'licenses.txt'), await licenses());

if (!['main/index.mjs', 'post/index.mjs', 'integrity-worker/index.mjs'].every((entry) => existsSync(join(outdir, entry)))) {
  console.error('package: the bundle is incomplete');
  process.exit(1);
}
console.log(`package: wrote ${relative(process.cwd(), outdir) || '.'}/ (main, post, native addons for ${NATIVE_TARGETS.join(', ')}, licenses)`);
