import { existsSync, readdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { formatDuration } from '../common/duration.js';
import { errorMessage } from '../common/errors.js';
import { connectEngine, type ContainerEngine, type DrillContainer } from './containers.js';
import { judgeLeftover, type Decision, type RootStanding } from './judge.js';
import { harnessDirKind, readRootMark, type RootMark } from './marks.js';
import { ownerState, processStartedAtMs } from './owner.js';
import { findDrillProcesses, isRunning, signalTargets } from './processes.js';

/** A safe default: longer than any drill's budget, so a run on another machine sharing the engine is never cut. */
export const DEFAULT_OLDER_THAN = '1h';
const TERM_GRACE_MS = 3_000;

export interface CleanupOptions {
  /** only what is older than this goes */
  readonly olderThanMs: number;
  /** say what would go, remove nothing */
  readonly dryRun: boolean;
  /** only leftovers whose drill root is (or was) under this directory, which is also where roots are looked for; default: everything found, roots looked for in the temp dir */
  readonly under?: string;
  readonly nowMs?: number;
  /** look at containers (default true) */
  readonly containers?: boolean;
}

export interface CleanupOutcome {
  /** what went (or would go, in a dry run), one line each */
  readonly removed: string[];
  /** what was found and left, with why */
  readonly left: string[];
  /** what could not be removed or looked at */
  readonly problems: string[];
  readonly notes: string[];
}

interface Standing {
  readonly standing: RootStanding;
  readonly mark: RootMark | null;
}

/** Drill roots and what they stand on, each looked at once. */
class Roots {
  readonly #seen = new Map<string, Standing>();

  standing(root: string | null): Standing {
    if (root === null) return { standing: { kind: 'missing' }, mark: null };
    let known = this.#seen.get(root);
    if (!known) {
      const mark = readRootMark(root);
      known = mark
        ? { standing: { kind: 'marked', owner: ownerState(mark.owner), ownerPid: mark.owner.pid }, mark }
        : { standing: existsSync(root) ? { kind: 'unmarked' } : { kind: 'missing' }, mark: null };
      this.#seen.set(root, known);
    }
    return known;
  }

  /** Marked roots in `dirs` and among those already looked at. */
  marked(dirs: readonly string[]): Array<[string, RootMark]> {
    for (const dir of dirs) {
      let names: string[] = [];
      try {
        names = readdirSync(dir);
      } catch {
        continue;
      }
      for (const name of names) if (harnessDirKind(name) !== null) this.standing(join(dir, name));
    }
    return [...this.#seen].filter((entry): entry is [string, Standing & { mark: RootMark }] => entry[1].mark !== null).map(([root, s]) => [root, s.mark]);
  }
}

function ago(nowMs: number, atMs: number): string {
  return `${formatDuration(Math.max(0, nowMs - atMs))} ago`;
}

/**
 * Finds what earlier runs left after they were killed (SIGKILL, a crash, a lost machine) —
 * containers with the drill's label, processes running on a drill root, the roots themselves,
 * the validate job's scratch dirs — and removes what the rule in judge.ts lets go. Never
 * throws for one thing: problems are collected and the rest goes on.
 */
export async function runCleanup(options: CleanupOptions): Promise<CleanupOutcome> {
  const nowMs = options.nowMs ?? Date.now();
  const outcome: CleanupOutcome = { removed: [], left: [], problems: [], notes: [] };
  const roots = new Roots();
  const verb = options.dryRun ? 'would remove' : 'removed';
  // a marked root's age is its things' age: a root and what ran on it go together or not at all
  const decide = (root: string | null, ownAgeMs: number | null): { decision: Decision } => {
    const standing = roots.standing(root);
    return { decision: judgeLeftover(standing.standing, standing.mark?.createdAtMs ?? ownAgeMs, nowMs, options.olderThanMs) };
  };
  const troubled = new Set<string>();
  const under = options.under === undefined ? null : `${resolve(options.under).replace(/\/+$/, '')}/`;
  const inScope = (root: string | null): boolean => under === null || (root !== null && root.startsWith(under));

  // containers first: they write into the roots through their bind mounts
  if (options.containers !== false) {
    const engine = await connectEngine();
    if ('unreachable' in engine) outcome.notes.push(`containers not looked at: no Docker engine reachable (${engine.unreachable})`);
    else await removeContainers(engine, options, { decide, inScope, outcome, verb, nowMs, troubled });
  }

  for (const target of signalTargets(findDrillProcesses().filter((p) => inScope(p.root)))) {
    const leader = target.members[0]!;
    const startedAtMs = processStartedAtMs(leader.pid);
    const { decision } = decide(leader.root, startedAtMs);
    const started = startedAtMs === null ? '' : `, started ${ago(nowMs, startedAtMs)}`;
    const what = `${target.group ? 'process group' : 'process'} ${target.id} (${leader.command}${started}) on ${leader.root}`;
    if (!decision.remove) {
      outcome.left.push(`${what}: ${decision.why}`);
      continue;
    }
    if (!options.dryRun) {
      const problem = await stopProcesses(target.group, target.id, target.members.map((m) => m.pid));
      if (problem) {
        outcome.problems.push(`${what}: ${problem}`);
        troubled.add(leader.root);
        continue;
      }
    }
    outcome.removed.push(`${verb} ${what}`);
  }

  for (const [root, mark] of roots.marked(under === null ? [tmpdir()] : [under])) {
    if (!inScope(root)) continue;
    const { decision } = decide(root, null);
    const what = `${harnessDirKind(root)} ${root} (made ${ago(nowMs, mark.createdAtMs)} by pid ${mark.owner.pid})`;
    if (!decision.remove) {
      outcome.left.push(`${what}: ${decision.why}`);
      continue;
    }
    if (troubled.has(root)) {
      outcome.left.push(`${what}: something running on it could not be removed`);
      continue;
    }
    if (!options.dryRun) {
      try {
        await rm(root, { recursive: true, force: true });
      } catch (error) {
        outcome.problems.push(`${what}: ${errorMessage(error)}`);
        continue;
      }
    }
    outcome.removed.push(`${verb} ${what}`);
  }
  return outcome;
}

async function removeContainers(
  engine: ContainerEngine,
  options: CleanupOptions,
  context: {
    decide: (root: string | null, ownAgeMs: number | null) => { decision: Decision };
    inScope: (root: string | null) => boolean;
    outcome: CleanupOutcome;
    verb: string;
    nowMs: number;
    troubled: Set<string>;
  },
): Promise<void> {
  let containers: DrillContainer[];
  try {
    containers = await engine.list();
  } catch (error) {
    context.outcome.problems.push(`listing containers: ${errorMessage(error)}`);
    return;
  }
  for (const c of containers.filter((c) => context.inScope(c.root))) {
    const { decision } = context.decide(c.root, c.createdAtMs);
    const what = `container ${c.id.slice(0, 12)} (${c.image}, ${c.role || 'drill'} of run ${c.runId}, ${c.state}, created ${ago(context.nowMs, c.createdAtMs)})`;
    if (!decision.remove) {
      context.outcome.left.push(`${what}: ${decision.why}`);
      continue;
    }
    if (!options.dryRun) {
      try {
        await engine.remove(c.id);
      } catch (error) {
        context.outcome.problems.push(`${what}: ${errorMessage(error)}`);
        if (c.root) context.troubled.add(c.root);
        continue;
      }
    }
    context.outcome.removed.push(`${context.verb} ${what}`);
  }
}

/** SIGTERM, a moment to finish, then SIGKILL; null when they are gone. */
async function stopProcesses(group: boolean, id: number, pids: readonly number[]): Promise<string | null> {
  const send = (signal: NodeJS.Signals): string | null => {
    try {
      process.kill(group ? -id : id, signal);
      return null;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      return code === 'ESRCH' ? null : `${signal}: ${errorMessage(error)}`;
    }
  };
  const gone = (): boolean => pids.every((pid) => !isRunning(pid));
  const failed = send('SIGTERM');
  if (failed) return failed;
  const until = Date.now() + TERM_GRACE_MS;
  while (!gone() && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
  if (gone()) return null;
  const killFailed = send('SIGKILL');
  if (killFailed) return killFailed;
  const killedBy = Date.now() + 2_000;
  while (!gone() && Date.now() < killedBy) await new Promise((r) => setTimeout(r, 50));
  return gone() ? null : 'still running after SIGKILL';
}

