/**
 * A PgBouncer of its own, in transaction mode with ONE server connection, in front of the test
 * PostgreSQL: every transaction of every client runs on the same PostgreSQL backend, one after
 * the other, as two requests on Neon's pooled endpoint can. What one leaves on the connection,
 * the next one would see. It has its own relay too (the Neon driver's relay setting is
 * process-wide: this one also reaches the shared PgBouncer and PostgreSQL).
 */
import { chmodSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { inject } from 'vitest'
import { findPgBouncer, startPgBouncer } from '../../scripts/lib/pgbouncer'
import { APP_ROLE, DATABASE_NAME, LOCAL_SUPERUSER } from '../../scripts/lib/postgres'
import { startRelay } from '../../scripts/lib/ws-relay'
import { connectPg } from '../../scripts/bench/pg'
import { freePort } from './free-port'

export type PoolOfOne = {
  /** The runtime role through the one-connection pooler. */
  appUrl: string
  wsProxy: string
  /** Rows of the admin console's SHOW <what> for this pooler's database. */
  show: (what: 'POOLS' | 'SERVERS' | 'STATS') => Promise<Record<string, unknown>[]>
  stop: () => Promise<void>
}

export const pgbouncerInstalled = findPgBouncer() !== null

export async function startPoolOfOne(): Promise<PoolOfOne> {
  const config = inject('database')
  const binary = findPgBouncer()
  if (!binary) throw new Error('pgbouncer is not installed')
  const dir = mkdtempSync(join(tmpdir(), 'intakepilot-pool-of-one-'))
  chmodSync(dir, 0o755)
  const bouncer = await startPgBouncer({
    binary,
    dir,
    port: await freePort(),
    postgresPort: config.pgPort,
    database: DATABASE_NAME,
    users: [APP_ROLE, LOCAL_SUPERUSER],
    adminUsers: [LOCAL_SUPERUSER.user],
    poolSize: 1,
  })
  const relay = await startRelay({
    port: await freePort(),
    targets: [config.pgPort, bouncer.port, ...(config.pgbouncerPort ? [config.pgbouncerPort] : [])].map((port) => ({ port })),
  })
  const show = async (what: string) => {
    const admin = await connectPg(`postgres://${LOCAL_SUPERUSER.user}:${LOCAL_SUPERUSER.password}@127.0.0.1:${bouncer.port}/pgbouncer`)
    try {
      return (await admin.query(`SHOW ${what}`)).rows.filter((r) => r.database === DATABASE_NAME)
    } finally {
      await admin.end()
    }
  }
  return {
    appUrl: `postgres://${APP_ROLE.user}:${APP_ROLE.password}@127.0.0.1:${bouncer.port}/${DATABASE_NAME}`,
    wsProxy: `127.0.0.1:${relay.port}`,
    show,
    stop: async () => {
      await relay.close()
      await bouncer.stop()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
