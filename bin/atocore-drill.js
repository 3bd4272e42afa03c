#!/usr/bin/env node
// Only what every Node can run before the version check: the CLI's dependencies need a
// newer Node and fail with stack traces of their own on an older one.
import { readFileSync } from 'node:fs';

/** [major, minor] of `engines.node` (">=22.22"), or null when it says something else. */
function requiredNode() {
  try {
    const engines = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).engines;
    const match = /^>=\s*(\d+)(?:\.(\d+))?/.exec(engines?.node ?? '');
    return match ? { text: engines.node, major: Number(match[1]), minor: Number(match[2] ?? 0) } : null;
  } catch {
    return null;
  }
}

const required = requiredNode();
const [major, minor] = process.versions.node.split('.').map(Number);
if (required && (major < required.major || (major === required.major && minor < required.minor))) {
  process.stderr.write(`atocore-drill: needs Node.js ${required.text}, this is Node.js ${process.versions.node} (${process.execPath}); run it with a newer node\n`);
  process.exit(2);
}

// Standard output that fails (a reader gone with `| head`, a closed terminal, a full disk)
// must not end a run half-way: the drill still tears down and writes its other reports; a
// report asked for on standard output is named as not written by the writer itself.
for (const stream of [process.stdout, process.stderr]) stream.on('error', () => {});

/**
 * Whatever the stream still holds is written before the exit: a pipe takes 64 KiB at a time,
 * and a reader slower than the run (a pager, a busy log collector) would otherwise lose the
 * end of the output, the verdict line included. Bounded: a reader that stopped reading for
 * good does not keep the process alive.
 */
function flushed(stream) {
  return new Promise((resolve) => {
    if (stream.destroyed || !stream.writable) resolve();
    else stream.write('', () => resolve());
  });
}
const FLUSH_WAIT_MS = 30_000;

const { main } = await import('../lib/cli/main.js');
const code = await main(process.argv.slice(2));
await Promise.race([Promise.all([flushed(process.stdout), flushed(process.stderr)]), new Promise((resolve) => setTimeout(resolve, FLUSH_WAIT_MS).unref())]);
process.exit(code);
