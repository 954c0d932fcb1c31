/** The PHI jobs' tests (vitest.config.ts says why apart), one file at a time, on a database of their own. */
import { defineConfig, mergeConfig } from 'vitest/config'
import base, { PHI_JOBS } from './vitest.config'

export default mergeConfig({ ...base, test: { ...base.test, include: [], exclude: [] } }, defineConfig({ test: { include: PHI_JOBS, fileParallelism: false } }))
