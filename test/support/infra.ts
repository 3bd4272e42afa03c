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
    return { ok: false, reason: `no Docker engine answers \`docker info\` (${(error as Error).message.split('\n')[0]}); start one with scripts/ensure-docker` };
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

export const SSHD = '/usr/sbin/sshd';

/**
 * Tests that need real infrastructure run when it is there. When it is missing: under
 * CI=true a failing test says so (never a silent skip); locally the suite is skipped and
 * the reason printed.
 */
export function needs(what: string, status: InfraStatus): boolean {
  if (status.ok) return true;
  if (process.env.CI === 'true' || process.env.CI === '1') {
    describe(`${what} (required under CI)`, () => {
      it('is available', () => {
        throw new Error(`${what} is required under CI=true: ${status.reason}`);
      });
    });
  } else {
    console.warn(`skipping the ${what} tests: ${status.reason}`);
  }
  return false;
}
