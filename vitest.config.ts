import { defineConfig } from 'vitest/config';

// PGlite takes ~5 s to initialise and the contract suites talk to real servers, so the default 5 s
// timeout is too short. Files run in separate forks so that each owns its database/prefix.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 2,
  },
});
