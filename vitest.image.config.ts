import { defineConfig } from 'vitest/config';

// The container tests (`bun run test:image`): scripts/test-image.ts builds the image first and passes its name in
// CAPSTAN_TEST_IMAGE. Containers start slowly on a loaded machine (PGlite's first initdb, migrations), hence the timeouts.
export default defineConfig({
  test: {
    include: ['test/image/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 300_000,
    pool: 'forks',
    maxWorkers: 2,
  },
});
