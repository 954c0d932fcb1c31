import { configDefaults, defineConfig } from 'vitest/config'
import tsconfigPaths from 'vite-tsconfig-paths'

export const PHI_JOBS = ['tests/integration/key-rotation.test.ts', 'tests/integration/backup-restore.test.ts', 'tests/integration/phi-purge.test.ts']

export default defineConfig({
  plugins: [tsconfigPaths()],
  test: {
    include: ['app/**/*.test.{ts,tsx}', 'tests/integration/**/*.test.ts', 'scripts/**/*.test.ts'],
    // The PHI jobs re-seal, purge and dump whole tables: they run after the rest, one file at a
    // time, in vitest.jobs.config.ts, so that no other file's rows change under them (or they under it).
    exclude: [...configDefaults.exclude, ...PHI_JOBS],
    // One throwaway embedded PostgreSQL (behind the Neon relay) for the whole run.
    globalSetup: ['tests/support/global-setup.ts'],
    setupFiles: ['tests/support/neon-node-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
})
