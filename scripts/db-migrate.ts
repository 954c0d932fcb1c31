/**
 * `npm run db:migrate`: applies drizzle/ as the owner role.
 * - MIGRATION_DATABASE_URL set (Neon): migrates that database, over the Neon driver.
 * - unset: migrates the local embedded database (started for the purpose if it isn't running).
 */
import { localConfig } from './lib/config'
import { runningStack } from './lib/lock'
import { OWNER_ROLE, DATABASE_NAME } from './lib/postgres'
import { startLocalDatabase } from './lib/local-database'
import { runMigrations } from './lib/migrate'

const url = process.env.MIGRATION_DATABASE_URL
try {
  if (url) {
    await runMigrations({ url, wsProxy: process.env.DATABASE_WS_PROXY })
  } else {
    const config = localConfig()
    const running = runningStack(config.dataDir)
    if (running) {
      const owner = `postgres://${OWNER_ROLE.user}:${OWNER_ROLE.password}@127.0.0.1:${running.pgPort}/${DATABASE_NAME}`
      await runMigrations({ url: owner, wsProxy: `127.0.0.1:${running.relayPort}` })
      console.log('Migrations applied.')
      process.exit(0)
    }
    const db = await startLocalDatabase({ dataDir: `${config.dataDir}/postgres`, pgPort: config.pgPort, relayPort: config.relayPort, persistent: true })
    try {
      await runMigrations({ url: db.ownerUrl, wsProxy: db.wsProxy })
    } finally {
      await db.stopAll()
    }
  }
  console.log('Migrations applied.')
} catch (error) {
  console.error('Migration failed:', error instanceof Error ? error.message : error)
  process.exitCode = 1
}
