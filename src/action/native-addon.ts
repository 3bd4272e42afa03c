import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { InfrastructureError } from '../common/errors.js';
import { setSqliteNativeBinding } from '../sqlite/open.js';

/**
 * Every prebuilt addon better-sqlite3 ships, by the runner it is for. scripts/package.mjs
 * copies exactly these into dist/native/; test/action-dist.test.ts checks the two agree.
 */
export const NATIVE_ADDONS: ReadonlyArray<{ readonly platform: NodeJS.Platform; readonly arch: string; readonly libc: 'glibc' | 'musl' | null; readonly file: string }> = [
  { platform: 'linux', arch: 'x64', libc: 'glibc', file: 'linux-x64.node' },
  { platform: 'linux', arch: 'arm64', libc: 'glibc', file: 'linux-arm64.node' },
  { platform: 'linux', arch: 'x64', libc: 'musl', file: 'linuxmusl-x64.node' },
  { platform: 'linux', arch: 'arm64', libc: 'musl', file: 'linuxmusl-arm64.node' },
  { platform: 'darwin', arch: 'x64', libc: null, file: 'darwin-x64.node' },
  { platform: 'darwin', arch: 'arm64', libc: null, file: 'darwin-arm64.node' },
  { platform: 'win32', arch: 'x64', libc: null, file: 'win32-x64.node' },
  { platform: 'win32', arch: 'arm64', libc: null, file: 'win32-arm64.node' },
];

/** The addon file for a runner, or null when better-sqlite3 ships none for it. */
export function nativeAddonFor(platform: string, arch: string, musl: boolean): string | null {
  const libc = platform === 'linux' ? (musl ? 'musl' : 'glibc') : null;
  return NATIVE_ADDONS.find((addon) => addon.platform === platform && addon.arch === arch && addon.libc === libc)?.file ?? null;
}

function runnerName(platform: string, arch: string, musl: boolean): string {
  return `${platform}-${arch}${platform === 'linux' ? (musl ? ' (musl libc)' : ' (glibc)') : ''}`;
}

/**
 * The bundle (dist/main/index.mjs) lives away from node_modules, so better-sqlite3 cannot
 * find its addon by itself: the action points it at the one in dist/native/ for this runner
 * (platform, architecture and, on Linux, glibc or musl). Run from lib/ (no ../native next to
 * it) the package finds its own, as for the CLI.
 */
export function useBundledSqliteAddon(nativeDir: URL = new URL('../native/', import.meta.url)): string | undefined {
  const dir = fileURLToPath(nativeDir);
  if (!existsSync(dir)) return undefined;
  const musl = process.platform === 'linux' && !glibcRuntime();
  const wanted = nativeAddonFor(process.platform, process.arch, musl);
  const shipped = readdirSync(dir).filter((name) => name.endsWith('.node'));
  if (!wanted || !shipped.includes(wanted)) {
    const known = NATIVE_ADDONS.filter((addon) => shipped.includes(addon.file)).map((addon) => runnerName(addon.platform, addon.arch, addon.libc === 'musl'));
    throw new InfrastructureError(`this runner is ${runnerName(process.platform, process.arch, musl)}; the action ships SQLite for ${known.join(', ')}`);
  }
  const path = `${dir}${wanted}`;
  setSqliteNativeBinding(path);
  return path;
}

/** glibc or musl: which libc loader is mapped into this process. */
function glibcRuntime(): boolean {
  try {
    const maps = readFileSync('/proc/self/maps', 'latin1');
    if (/\/ld-musl-[^/\s]*\.so/.test(maps)) return false;
    if (/\/(?:ld-linux[^/\s]*|libc)\.so\.\d/.test(maps)) return true;
  } catch {
    // no /proc: assume the common case
  }
  return true;
}
