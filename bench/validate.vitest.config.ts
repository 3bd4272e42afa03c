import { defineConfig } from 'vitest/config';

/** The benchmarks that need vitest (bench/validate-ssh.bench.ts, bench/rehearse-ssh.bench.ts); never part of `npm test`. */
export default defineConfig({
  test: {
    include: ['bench/*.bench.ts'],
    testTimeout: 3_600_000,
    hookTimeout: 600_000,
    pool: 'forks',
    maxWorkers: 1,
    reporters: ['default'],
  },
});
