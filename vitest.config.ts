import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // drills are real processes with real I/O; two cores
    maxWorkers: 2,
    reporters: ['default'],
  },
});
