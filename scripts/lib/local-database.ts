/**
 * The local database as the app sees it: the Neon WebSocket relay -> PgBouncer in transaction
 * mode (as Neon's `-pooler` endpoint) -> embedded PostgreSQL. Migrations and owner jobs connect
 * to PostgreSQL directly, through the same relay. See docs/decisions/018-pooled-connections.md.
 *
 * Without pgbouncer installed the app connects to PostgreSQL directly, and something must bound
 * its connections: workerd admits any number of requests at once and each opens one connection
 * (app/db/client.server.ts), so a burst would exhaust max_connections. The relay is the one place
 * every app connection passes through: it lets APP_SESSIONS_WITHOUT_POOLER in at a time (the
 * rest wait their turn, up to the driver's connect timeout), and max_connections is sized above
 * that plus what connects around it (superuser, owner jobs, tests).
 */
import { rmSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { findPgBouncer, startPgBouncer, type PgBouncer } from './pgbouncer'
import { APP_ROLE, DATABASE_NAME, LOCAL_SUPERUSER, OWNER_ROLE, startLocalPostgres, type LocalPostgres } from './postgres'
import { startRelay, type Relay } from './ws-relay'

/** Without a pooler: app sessions the relay admits at once. */
export const APP_SESSIONS_WITHOUT_POOLER = 80
/** Connections that do not come through the relay's cap, or come around it, plus PostgreSQL's 3 reserved. */
const DIRECT_HEADROOM = 30

export type LocalDatabase = LocalPostgres & {
  relay: Relay
  wsProxy: string
  /** The runtime role straight to PostgreSQL (bypassing the pooler): for the bench's baselines. */
  directAppUrl: string
  pgbouncer: PgBouncer | null
  /** One line saying how the app reaches PostgreSQL (npm start and the bench print it). */
  connectionPath: string
  stopAll: () => Promise<void>
}

export async function startLocalDatabase(options: {
  dataDir: string
  pgPort: number
  relayPort: number
  /** Where PgBouncer listens; without it (or without pgbouncer installed) the app connects directly. */
  pgbouncerPort?: number
  persistent: boolean
}): Promise<LocalDatabase> {
  const binary = options.pgbouncerPort ? findPgBouncer() : null
  const maxConnections = binary ? 100 : APP_SESSIONS_WITHOUT_POOLER + DIRECT_HEADROOM
  const postgres = await startLocalPostgres({ dataDir: options.dataDir, port: options.pgPort, persistent: options.persistent, maxConnections })
  const pgbouncerDir = join(dirname(options.dataDir), 'pgbouncer')
  let pgbouncer: PgBouncer | null = null
  let relay: Relay
  try {
    if (binary && options.pgbouncerPort) {
      pgbouncer = await startPgBouncer({
        binary,
        dir: pgbouncerDir,
        port: options.pgbouncerPort,
        postgresPort: options.pgPort,
        database: DATABASE_NAME,
        users: [APP_ROLE, OWNER_ROLE, LOCAL_SUPERUSER],
        adminUsers: [LOCAL_SUPERUSER.user],
      })
    }
    relay = await startRelay({
      port: options.relayPort,
      // PgBouncer queues its clients for its pool itself (up to max_client_conn).
      targets: [{ port: options.pgPort, maxSessions: APP_SESSIONS_WITHOUT_POOLER }, ...(pgbouncer ? [{ port: pgbouncer.port }] : [])],
    })
  } catch (error) {
    await pgbouncer?.stop()
    await postgres.stop()
    throw error
  }
  const appUrl = pgbouncer ? postgres.appUrl.replace(`:${options.pgPort}/`, `:${pgbouncer.port}/`) : postgres.appUrl
  const connectionPath = pgbouncer
    ? `app -> relay -> PgBouncer ${pgbouncer.version} on 127.0.0.1:${pgbouncer.port} (transaction mode, ${pgbouncer.poolSize} server connections) -> PostgreSQL (max_connections ${maxConnections})`
    : `app -> relay -> PostgreSQL directly: ${options.pgbouncerPort ? 'pgbouncer is not installed (apt-get install pgbouncer to pool as Neon does)' : 'no pooler asked for'}; the relay admits ${APP_SESSIONS_WITHOUT_POOLER} app connections at a time, max_connections ${maxConnections}`
  return {
    ...postgres,
    appUrl,
    directAppUrl: postgres.appUrl,
    relay,
    wsProxy: `127.0.0.1:${relay.port}`,
    pgbouncer,
    connectionPath,
    stopAll: async () => {
      await relay.close()
      await pgbouncer?.stop()
      await postgres.stop()
      if (!options.persistent) rmSync(pgbouncerDir, { recursive: true, force: true })
    },
  }
}
