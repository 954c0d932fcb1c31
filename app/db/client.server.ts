/**
 * The database connection for one request: a Neon serverless Pool (WebSocket) and Drizzle.
 * On Workers a Pool must be created, used and ended within one request, so there is no
 * module-level client: the request pipeline creates one and ends it with waitUntil.
 */
import { Pool, neonConfig, type PoolClient } from '@neondatabase/serverless'
import type { Logger } from 'drizzle-orm'
import { drizzle } from 'drizzle-orm/neon-serverless'

export type Database = ReturnType<typeof drizzleFor>

/** A Drizzle logger given to a pool's Drizzle is also used on its connections (the bench's statement log). */
const loggers = new WeakMap<object, Logger>()
/**
 * Drizzle without `schema`: the app writes its queries with the query builder and never uses the
 * relational `db.query` API, and a schema makes every drizzle() walk all the tables to build its
 * relational config (two per request: the pool's and the connection's; ~1 ms of CPU a page).
 */
export function drizzleFor(pool: Pool, logger?: Logger) {
  const db = drizzle({ client: pool, logger })
  if (logger) loggers.set(db, logger)
  return db
}

/** The statement log a pool's Drizzle was given, if any: db.tenant writes its `begin` there (it is not sent through Drizzle). */
export const statementLogger = (db: Database): Logger | undefined => loggers.get(db)

/** Drizzle on one of the pool's connections (a transaction opened by hand), one per connection. */
const onConnection = new WeakMap<PoolClient, Omit<Database, '$client'>>()
export function drizzleOnConnection(db: Database, client: PoolClient): Omit<Database, '$client'> {
  let found = onConnection.get(client)
  if (!found) {
    found = drizzle({ client, logger: loggers.get(db) })
    onConnection.set(client, found)
  }
  return found
}

/**
 * Points the Neon driver at the local WebSocket relay (DATABASE_WS_PROXY=host:port).
 * TLS is the relay's business locally. The password is pipelined with the startup message as
 * on Neon (pipelineConnect 'password'): the local server asks for it in the clear on loopback,
 * as Neon does over TLS (docs/decisions/014-one-connection-few-round-trips.md).
 */
export function useLocalRelay(wsProxy: string | undefined) {
  if (!wsProxy) return
  neonConfig.wsProxy = (host, port) => `${wsProxy}/v1?address=${host}:${port}`
  neonConfig.useSecureWebSocket = false
  neonConfig.pipelineTLS = false
  neonConfig.pipelineConnect = 'password'
}

export function connectDatabase(options: { url: string; wsProxy?: string }) {
  useLocalRelay(options.wsProxy)
  // One connection per request: its transactions take turns (parallel loaders wait for each
  // other's commit) instead of each paying for a connection of its own. A database that does
  // not answer must fail fast (503), not hang the request. No idle timeout: the pool ends with
  // the request, and its idle timer cost a setTimeout on every release of the connection (each
  // transaction's end), a measurable share of a page's CPU in workerd (bench/README.md).
  const pool = new Pool({ connectionString: options.url, max: 1, connectionTimeoutMillis: 5_000, idleTimeoutMillis: 0 })
  // An idle client that errors (the server went away) must not crash the isolate.
  pool.on('error', () => {})
  return { db: drizzleFor(pool), end: () => pool.end() }
}
