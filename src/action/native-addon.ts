import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { InfrastructureError } from '../common/errors.js';
import { setSqliteNativeBinding } from '../sqlite/open.js';

/**
 * The bundle (dist/main/index.mjs) lives away from node_modules, so better-sqlite3 cannot
 * find its addon by itself: scripts/package.mjs copies the package's prebuilt N-API
 * binaries for Linux (glibc) into dist/native/, named `<platform>-<arch>.node`, and the
 * action points better-sqlite3 at the one for this machine. Run from lib/ (no
 * ../native next to it) the package finds its own, as for the CLI.
 */
export function useBundledSqliteAddon(nativeDir: URL = new URL('../native/', import.meta.url)): string | undefined {
  const dir = fileURLToPath(nativeDir);
  if (!existsSync(dir)) return undefined;
  const wanted = `${process.platform}-${process.arch}.node`;
  const shipped = readdirSync(dir).filter((name) => name.endsWith('.node'));
  const musl = process.platform === 'linux' && !glibcRuntime();
  if (!shipped.includes(wanted) || musl) {
    throw new InfrastructureError(
      `this runner is ${process.platform}-${process.arch}${musl ? ' (musl libc)' : ''}; the action ships SQLite for ${shipped.map((name) => name.replace(/\.node$/, '')).join(', ')} with glibc ` +
        '(GitHub-hosted ubuntu runners, or a self-hosted Linux runner with glibc 2.34 or newer)',
    );
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
