/**
 * Last-resort, synchronous cleanup for when the orderly teardown cannot run to its end
 * (a second signal, an exit from deep inside a library). Runtimes register what they
 * created; the orderly teardown unregisters it once it has removed it.
 *
 * Two kinds: what runs (process groups, containers) is killed the moment a second signal
 * comes, so the orderly teardown can still write the report; what stays on disk (the data
 * root) goes only when the process really exits without having removed it.
 */
type Kind = 'kill' | 'remove';

const actions = new Map<number, { kind: Kind; action: () => void }>();
let nextId = 1;
let installed = false;
let killing = false;

/** Something on disk (a temp root) to remove if the run exits without doing so. */
export function registerEmergencyCleanup(action: () => void): () => void {
  return register('remove', action);
}

/**
 * Something running (a process group, a container) to kill at once on a second signal
 * or at exit. Registered after killing began, it is killed right away.
 */
export function registerEmergencyKill(action: () => void): () => void {
  if (killing) {
    attempt(action);
    return () => {};
  }
  return register('kill', action);
}

/** Kills everything running that the run started, now; later starts are killed as they come. */
export function killEverythingNow(): void {
  killing = true;
  runActions('kill');
}

/** Everything: what runs first, then what is on disk. */
export function runEmergencyCleanup(): void {
  killEverythingNow();
  runActions('remove');
}

function register(kind: Kind, action: () => void): () => void {
  install();
  const id = nextId++;
  actions.set(id, { kind, action });
  return () => {
    actions.delete(id);
  };
}

function runActions(kind: Kind): void {
  for (const [id, entry] of [...actions].reverse()) {
    if (entry.kind !== kind) continue;
    actions.delete(id);
    attempt(entry.action);
  }
}

function attempt(action: () => void): void {
  try {
    action();
  } catch {
    // best effort: keep going with the others
  }
}

function install(): void {
  if (installed) return;
  installed = true;
  process.on('exit', runEmergencyCleanup);
}
