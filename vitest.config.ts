import { defineConfig } from 'vitest/config';
import { alias } from './vitest.shared';

// The whole suite in one run (the README's test command). Each package also has its own
// vitest config so `nx run-many -t test` caches per package.
export default defineConfig({
  resolve: { alias },
  test: {
    include: ['packages/*/src/**/*.test.ts', 'apps/*/src/**/*.test.ts', 'tools/**/*.test.ts'],
    testTimeout: 600_000,
    hookTimeout: 600_000,
    pool: 'forks',
    maxWorkers: 2,
  },
});
