import { configDefaults, defineConfig } from 'vitest/config';

// PGlite takes ~5 s to initialise and the contract suites talk to real servers, so the default 5 s
// timeout is too short. Files run in separate forks so that each owns its database/prefix.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The container tests need the image: `bun run test:image` (vitest.image.config.ts) runs them.
    exclude: [...configDefaults.exclude, 'test/image/**'],
    // Generous bounds, not goals: with every module's e2e files in the run, a CLI start costs ~1 s of CPU and a cold
    // PGlite server tens of seconds on a loaded two-core box; a test that hangs still fails, just later.
    testTimeout: 90_000,
    hookTimeout: 180_000,
    // expect.poll's default 1 s is shorter than a browser page's SSE round trip on the loaded CI box (a live-update
    // test failed there at 1 s and passed alone); a bound, not a goal, like the timeouts above.
    expect: { poll: { timeout: 10_000 } },
    pool: 'forks',
    maxWorkers: 2,
  },
});
