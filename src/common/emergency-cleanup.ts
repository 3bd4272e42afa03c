/**
 * Last-resort, synchronous cleanup for when the orderly teardown cannot run to its end
 * (a second signal, an exit from deep inside a library). Runtimes register what they
 * created; the orderly teardown unregisters it once it has removed it.
 */
const actions = new Map<number, () => void>();
let nextId = 1;
let installed = false;

export function registerEmergencyCleanup(action: () => void): () => void {
  install();
  const id = nextId++;
  actions.set(id, action);
  return () => {
    actions.delete(id);
  };
}

export function runEmergencyCleanup(): void {
  for (const [id, action] of [...actions].reverse()) {
    actions.delete(id);
    try {
      action();
    } catch {
      // best effort: keep going with the others
    }
  }
}

function install(): void {
  if (installed) return;
  installed = true;
  process.on('exit', runEmergencyCleanup);
}
