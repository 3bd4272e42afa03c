#!/usr/bin/env node
// Only what every Node can run before the version check: the CLI's dependencies need a
// newer Node and fail with stack traces of their own on an older one.
import { readFileSync } from 'node:fs';

/**
 * Loading the CLI's modules takes a moment (~200 ms) before the run's own signal handling
 * (src/common/interrupt.ts) is in place; a signal then would end the process with Node's
 * default (exit 143, not a word). With these handlers in place it is caught instead. Where
 * Node loads the modules without turning the event loop (Node 24), it waits and the run's
 * own handling takes it as its first signal (reports with verdict error, exit 3); where the
 * loop turns during the load, it lands here: nothing has been created yet, so say so and
 * exit 3 (could not run). Written to run on any Node: it is in place before the version check.
 */
const EARLY_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT'];
const INTERRUPTED_EXIT_CODE = 3;
let commandStarted = false;
function interruptedEarly(signal) {
  if (commandStarted) {
    // a command with no signal handling of its own (history, merge-reports, cleanup), or a signal
    // held during the load for it: ended as Node would have, never swallowed
    for (const name of EARLY_SIGNALS) process.off(name, interruptedEarly);
    process.kill(process.pid, signal);
    return;
  }
  try {
    // synchronous for files, pipes and terminals on POSIX: written before the exit
    process.stderr.write(`atocore-drill: interrupted by ${signal} before the run began: nothing was created, no report was written\n`);
  } catch {
    // a closed terminal (SIGHUP): the exit code says it
  }
  process.exit(INTERRUPTED_EXIT_CODE);
}
for (const signal of EARLY_SIGNALS) process.on(signal, interruptedEarly);

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
// A run (drill, validate, rehearse) sets up its signal handling before main returns its
// promise, before anything is created: the interim handlers step aside only then, so there
// is no moment without one, and a signal held during the load goes to the run alone.
const listenersBefore = EARLY_SIGNALS.map((signal) => process.listenerCount(signal));
const running = main(process.argv.slice(2));
commandStarted = true;
if (EARLY_SIGNALS.some((signal, index) => process.listenerCount(signal) > listenersBefore[index])) {
  for (const signal of EARLY_SIGNALS) process.off(signal, interruptedEarly);
}
const code = await running;
await Promise.race([Promise.all([flushed(process.stdout), flushed(process.stderr)]), new Promise((resolve) => setTimeout(resolve, FLUSH_WAIT_MS).unref())]);
process.exit(code);
