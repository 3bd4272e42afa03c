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
