import { execFileSync } from 'node:child_process';
import { describe, it } from 'vitest';

export interface InfraStatus {
  readonly ok: boolean;
  readonly reason: string;
}

export function dockerStatus(): InfraStatus {
  try {
    execFileSync('docker', ['info', '--format', '{{.ServerVersion}}'], { stdio: ['ignore', 'pipe', 'pipe'], timeout: 20_000 });
    return { ok: true, reason: '' };
  } catch (error) {
    const failure = error as NodeJS.ErrnoException & { stderr?: Buffer };
    const why = failure.code === 'ENOENT' ? 'no docker CLI on the PATH' : failure.stderr?.toString().trim().split('\n')[0] || failure.message.split('\n')[0];
    return { ok: false, reason: `no Docker engine answers \`docker info\` (${why}); start one with scripts/ensure-docker` };
  }
}

/** OpenSSH's server and ssh-keygen, for the validate tests that start a real sshd on loopback. */
export function sshdStatus(): InfraStatus {
  // sshd logs in another user only when it runs as root; the tests need a separate, read-only user
  if (process.getuid?.() !== 0) return { ok: false, reason: 'the sshd tests run as root: they start sshd and log in as a separate read-only user' };
  try {
    execFileSync(SSHD, ['-V'], { stdio: ['ignore', 'pipe', 'pipe'], timeout: 10_000 });
  } catch (error) {
    // `sshd -V` exits non-zero on some versions but still prints its version; only a spawn failure counts
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { ok: false, reason: `${SSHD} is missing; install openssh-server (.ci/run does)` };
  }
  try {
    execFileSync('ssh-keygen', ['-l', '-f', '/dev/null'], { stdio: ['ignore', 'pipe', 'pipe'], timeout: 10_000 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { ok: false, reason: 'ssh-keygen is missing; install openssh-client (.ci/run does)' };
  }
  return { ok: true, reason: '' };
}

/** `ATOCORE_DRILL_TEST_SSHD=/nonexistent` pretends the machine has no sshd (to see the tests skip, or fail under CI). */
export const SSHD = process.env.ATOCORE_DRILL_TEST_SSHD || '/usr/sbin/sshd';

function underCi(): boolean {
  return process.env.CI === 'true' || process.env.CI === '1';
}

/**
 * A suite that needs real infrastructure, always defined so every test in it is listed.
 * When the infrastructure is there it runs; when it is missing each test is reported
 * skipped, the reason in the suite's name (and printed once). Under CI=true a missing piece
 * also fails one test naming it: never a silent skip. Everything the suite creates belongs
 * in its beforeAll, which a skipped suite never runs.
 */
export function describeNeeding(what: string, status: InfraStatus): (name: string, body: () => void) => void {
  if (status.ok) return (name, body) => describe(name, body);
  if (underCi()) {
    describe(`${what} (required under CI)`, () => {
      it('is available', () => {
        throw new Error(`${what} is required under CI=true: ${status.reason}`);
      });
    });
  } else {
    console.warn(`skipping the tests that need ${what}: ${status.reason}`);
  }
  return (name, body) => describe.skip(`${name} [skipped, needs ${what}: ${status.reason}]`, body);
}
