/**
 * The JellyCore fixture's own self-test (fixtures/jellycore/selftest.py): its stand-ins run,
 * every defect of the backup plan as written is seen for real, and the corrected scripts
 * pass the same scenarios.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const FIXTURE_DIR = fileURLToPath(new URL('../fixtures/jellycore/', import.meta.url));
const TIMEOUT_MS = 600_000;

describe('the JellyCore fixture', () => {
  it('passes its self-test (python3 -m unittest selftest)', () => {
    const run = spawnSync('python3', ['-m', 'unittest', 'selftest'], {
      cwd: FIXTURE_DIR,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: TIMEOUT_MS,
      killSignal: 'SIGKILL',
    });
    // unittest reports on stderr; show it whole when something failed
    expect(run.error, run.stderr).toBeUndefined();
    expect(run.status, run.stderr).toBe(0);
    const ran = /^Ran (\d+) tests? /m.exec(run.stderr);
    expect(Number(ran?.[1] ?? 0), run.stderr).toBeGreaterThanOrEqual(24);
    // under CI nothing may be skipped (the off-site tests need rclone)
    if (process.env.CI === 'true') expect(run.stderr).toMatch(/^OK$/m);
  }, TIMEOUT_MS);
});
