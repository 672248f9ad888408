import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Integration and e2e tests start real runtimes; one file at a time keeps a 2-core machine honest.
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 120_000,
    env: { MGDARTS_TEST: '1' },
  },
});
