/**
 * The local stack's PgBouncer (scripts/lib/pgbouncer.ts: transaction mode, as Neon's pooled
 * endpoint) with what the fault test does to it by process id: SIGKILL and start again, SIGSTOP
 * and SIGCONT.
 */
import { findPgBouncer, startPgBouncer, type PgBouncer } from '../lib/pgbouncer'
import { APP_ROLE, DATABASE_NAME, LOCAL_SUPERUSER, OWNER_ROLE } from '../lib/postgres'
import { retryWhilePortBusy, signal, waitUntilGone } from './processes'

export type ManagedPgBouncer = {
  port: number
  version: () => string
  pid: () => number
  kill: () => Promise<void>
  start: () => Promise<void>
  freeze: () => void
  thaw: () => void
  stop: () => Promise<void>
}

export async function startManagedPgBouncer(options: { dir: string; port: number; postgresPort: number }): Promise<ManagedPgBouncer | null> {
  const binary = findPgBouncer()
  if (!binary) return null
  let current: PgBouncer | undefined
  let frozen = false
  const start = async () => {
    current = await retryWhilePortBusy('pgbouncer', () =>
      startPgBouncer({
        binary,
        dir: options.dir,
        port: options.port,
        postgresPort: options.postgresPort,
        database: DATABASE_NAME,
        users: [APP_ROLE, OWNER_ROLE, LOCAL_SUPERUSER],
        adminUsers: [LOCAL_SUPERUSER.user],
      }),
    )
  }
  await start()
  return {
    port: options.port,
    version: () => current!.version,
    pid: () => current!.pid,
    async kill() {
      signal([current!.pid], 'SIGKILL')
      await waitUntilGone([current!.pid], 5000)
    },
    start,
    freeze() {
      signal([current!.pid], 'SIGSTOP')
      frozen = true
    },
    thaw() {
      signal([current!.pid], 'SIGCONT')
      frozen = false
    },
    async stop() {
      if (frozen) signal([current!.pid], 'SIGCONT')
      await current?.stop()
    },
  }
}
