import { fileURLToPath } from 'node:url'
import { migrate } from 'drizzle-orm/neon-serverless/migrator'
import { withDatabase } from './neon-node'

export const MIGRATIONS_FOLDER = fileURLToPath(new URL('../../drizzle', import.meta.url))

/** Drizzle's programmatic migrator: errors are printed (drizzle-kit migrate can exit 1 silently). */
export async function runMigrations(options: { url: string; wsProxy?: string }) {
  await withDatabase(options, (db) => migrate(db, { migrationsFolder: MIGRATIONS_FOLDER }))
}
