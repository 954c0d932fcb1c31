/**
 * The fault test's own stack, on its own ports and in a temp folder: PostgreSQL (pid held here),
 * PgBouncer when installed (pid held here), the Neon relay (the app through PgBouncer, the owner
 * straight to PostgreSQL), the local identity provider (in this process, so it can be
 * suspended with every grant kept) and the built app in workerd, as `npm start` runs them.
 */
import { join } from 'node:path'
import { snapshotBuild, startApp, type RunningApp } from '../bench/app'
import { onCleanup } from '../bench/cleanup'
import { appBindings } from '../lib/app-bindings'
import { localConfig, localIdentityProviderOptions, type LocalConfig } from '../lib/config'
import type { IdentityProvider } from '../lib/idp'
import { runMigrations } from '../lib/migrate'
import { connectDatabase } from '../lib/neon-node'
import { APP_ROLE, DATABASE_NAME } from '../lib/postgres'
import { loadOrCreateSecrets } from '../lib/secrets'
import { seedIfEmpty } from '../lib/seed'
import { startRelay } from '../lib/ws-relay'
import { findPgBouncer } from '../lib/pgbouncer'
import { startManagedPgBouncer, type ManagedPgBouncer } from './pgbouncer'
import { startManagedPostgres, type ManagedPostgres } from './postgres'
import { retryWhilePortBusy } from './processes'

/** k = 7 on the shared machine: app 8817, everything else 56070-56079 (FAULTS_PORT_BASE moves them). */
export function faultPorts(env = process.env) {
  const base = Number(env.FAULTS_PORT_BASE ?? 56070)
  return { app: Number(env.FAULTS_APP_PORT ?? 8817), pg: base, relay: base + 1, pgbouncer: base + 3, idp: base + 4 }
}

export type FaultStack = {
  config: LocalConfig
  bindings: Record<string, string>
  postgres: ManagedPostgres
  pgbouncer: ManagedPgBouncer | null
  idp: IdentityProvider
  app: RunningApp
  /** The owner's connection, straight to PostgreSQL (not through PgBouncer): for counting rows. */
  owner: () => ReturnType<typeof connectDatabase>
}

export async function startFaultStack(options: { repo: string; tmp: string; deadlineMs: number; say: (line: string) => void }): Promise<FaultStack> {
  const { tmp, say } = options
  const ports = faultPorts()
  const config = localConfig({
    APP_PORT: String(ports.app),
    PG_PORT: String(ports.pg),
    RELAY_PORT: String(ports.relay),
    IDP_PORT: String(ports.idp),
    DATA_DIR: join(tmp, 'data'),
  })
  const secrets = loadOrCreateSecrets(config.dataDir)
  const t0 = performance.now()
  const took = () => `${((performance.now() - t0) / 1000).toFixed(1)} s`

  const { startIdentityProvider } = await import('../lib/idp')
  const idp = await retryWhilePortBusy('identity provider', () => startIdentityProvider(localIdentityProviderOptions(config, secrets)))
  onCleanup('identity provider', () => idp.close().catch(() => {}))

  // The app through PgBouncer when there is one (as Neon's -pooler endpoint); the owner straight
  // to PostgreSQL. The relay connects only when asked, so it can start first.
  const appDbPort = findPgBouncer() ? ports.pgbouncer : ports.pg
  const relay = await retryWhilePortBusy('relay', () =>
    startRelay({ port: ports.relay, targets: [{ port: ports.pg }, ...(appDbPort !== ports.pg ? [{ port: appDbPort }] : [])] }),
  )
  onCleanup('relay', () => relay.close())
  const wsProxy = `127.0.0.1:${ports.relay}`
  const bindings = appBindings({
    config,
    database: { appUrl: `postgres://${APP_ROLE.user}:${APP_ROLE.password}@127.0.0.1:${appDbPort}/${DATABASE_NAME}`, wsProxy },
    secrets,
    oidcAuthority: idp.issuer,
    // Short, so that a hanging database is answered quickly here (production: about 30 s).
    extra: { REQUEST_DEADLINE_MS: String(options.deadlineMs) },
  })
  // workerd starts while the database is prepared; it is ready when /healthz answers 200.
  const appDir = join(tmp, 'app')
  snapshotBuild(options.repo, appDir)
  const appStarting = startApp({ cwd: appDir, config, bindings, logFile: join(tmp, 'app.log') })
  appStarting.catch(() => {})

  const postgres = await startManagedPostgres({ dataDir: join(config.dataDir, 'postgres'), port: ports.pg, log: say })
  onCleanup('postgres', () => postgres.stop())
  say(`PostgreSQL on ${ports.pg} (pid ${postgres.pid()}, ${took()})`)
  const ownerDb = { url: postgres.ownerUrl, wsProxy }
  await runMigrations(ownerDb)
  await seedIfEmpty({ ...ownerDb, secrets })
  say(`migrated and seeded (${took()})`)

  const pgbouncer = await startManagedPgBouncer({ dir: join(tmp, 'pgbouncer'), port: ports.pgbouncer, postgresPort: ports.pg })
  if (pgbouncer) {
    onCleanup('pgbouncer', () => pgbouncer.stop())
    say(`PgBouncer ${pgbouncer.version()} (transaction mode) on ${ports.pgbouncer} (pid ${pgbouncer.pid()})`)
  } else if (process.env.INTAKEPILOT_REQUIRE_PGBOUNCER === '1') {
    throw new Error('pgbouncer is not installed, and INTAKEPILOT_REQUIRE_PGBOUNCER=1 (CI) requires it')
  } else {
    say('PgBouncer is not installed (apt-get install pgbouncer): its faults are skipped')
  }
  const app = await appStarting
  say(`app in workerd at ${app.origin} (pid ${app.process.pid}, ${took()})`)
  return { config, bindings, postgres, pgbouncer, idp, app, owner: () => connectDatabase(ownerDb) }
}
