import { defineConfig } from 'vitest/config';

/** The Dalidou validation benchmark (bench/validate-ssh.bench.ts); never part of `npm test`. */
export default defineConfig({
  test: {
    include: ['bench/validate*.bench.ts'],
    testTimeout: 3_600_000,
    hookTimeout: 600_000,
    pool: 'forks',
    maxWorkers: 1,
    reporters: ['default'],
  },
});
