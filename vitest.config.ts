import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['**/*.test.ts'],
    setupFiles: ['./test-setup.ts'],
    exclude: ['node_modules/**', 'tmp/**', 'out/**'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Files that start servers or write large fixtures run in separate processes.
    pool: 'forks',
  },
});
