import { defineConfig } from 'vitest/config';

// Two projects: `unit` (beside the code, no services) and `integration` (test/, storage on
// PGlite and, when DATABASE_URL is set, PostgreSQL in the same run).
export default defineConfig({
  test: {
    projects: [
      {
        test: { name: 'unit', include: ['src/**/*.test.ts'], environment: 'node' },
      },
      {
        test: {
          name: 'integration',
          include: ['test/**/*.test.ts'],
          environment: 'node',
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
