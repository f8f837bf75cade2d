import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    // Files isolate themselves (own PostgreSQL schema, Redis prefix, table prefix) so they run in parallel.
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    teardownTimeout: 15_000,
    reporters: process.env.CI ? ['default'] : ['default'],
  },
});
