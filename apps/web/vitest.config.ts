import { defineConfig } from 'vitest/config';
import { alias } from '../../vitest.shared.ts';

export default defineConfig({
  resolve: { alias },
  test: { include: ['src/**/*.test.ts'], testTimeout: 600_000, hookTimeout: 600_000, pool: 'forks' },
});
