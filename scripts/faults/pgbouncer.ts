/**
 * Debian's PgBouncer in transaction mode (as Neon's pooled endpoint runs it) between the relay
 * and PostgreSQL, when it is installed; started so that the fault test holds its process id.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { APP_ROLE, DATABASE_NAME, OWNER_ROLE } from '../lib/postgres'
import { isAlive, processTree, retryWhilePortBusy, signal, waitUntilGone } from './processes'

export const PGBOUNCER_BINARY = ['/usr/sbin/pgbouncer', '/usr/bin/pgbouncer'].find((path) => existsSync(path))

export type ManagedPgBouncer = {
  port: number
  pid: () => number
  kill: () => Promise<void>
  start: () => Promise<void>
  freeze: () => void
  thaw: () => void
  stop: () => Promise<void>
}

export async function startManagedPgBouncer(options: { dir: string; port: number; postgresPort: number; log: (line: string) => void }): Promise<ManagedPgBouncer> {
  if (!PGBOUNCER_BINARY) throw new Error('pgbouncer is not installed')
  mkdirSync(options.dir, { recursive: true })
  chmodSync(options.dir, 0o755)
  const users = join(options.dir, 'users.txt')
  const ini = join(options.dir, 'pgbouncer.ini')
  // Clients send their password in the clear on loopback (scripts/lib/postgres.ts, decision 014).
  writeFileSync(users, [APP_ROLE, OWNER_ROLE].map((r) => `"${r.user}" "${r.password}"`).join('\n') + '\n')
  writeFileSync(
    ini,
    `[databases]
${DATABASE_NAME} = host=127.0.0.1 port=${options.postgresPort} dbname=${DATABASE_NAME}
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = ${options.port}
unix_socket_dir =
auth_type = plain
auth_file = ${users}
pool_mode = transaction
max_client_conn = 400
default_pool_size = 20
server_reset_query =
ignore_startup_parameters = extra_float_digits,options,application_name
server_connect_timeout = 3
server_login_retry = 1
`,
  )
  chmodSync(users, 0o644)
  chmodSync(ini, 0o644)
  // PgBouncer will not run as root: -u drops to the postgres OS user (scripts/lib/postgres.ts made it).
  const asUser = process.getuid?.() === 0 ? ['-u', 'postgres'] : []
  let child: ChildProcess | undefined
  let frozen: number[] = []

  const start = () => retryWhilePortBusy('pgbouncer', startOnce)
  async function startOnce() {
    child = spawn(PGBOUNCER_BINARY!, [...asUser, ini], { stdio: ['ignore', 'ignore', 'pipe'] })
    const started = child
    let seen = ''
    started.stderr!.on('data', (chunk: Buffer) => {
      seen = (seen + chunk.toString('utf8')).slice(-4000)
      // Login errors while PostgreSQL is down are what this test causes; only its own end is news.
      for (const line of chunk.toString('utf8').split('\n')) if (/FATAL/.test(line)) options.log(`[pgbouncer] ${line.trim()}`)
    })
    const deadline = Date.now() + 10_000
    while (!(await listening(options.port))) {
      if (started.exitCode !== null) throw new Error(`pgbouncer exited (${started.exitCode}): ${seen.slice(-500)}`)
      if (Date.now() > deadline) throw new Error(`pgbouncer did not listen on ${options.port}: ${seen.slice(-500)}`)
      await new Promise((r) => setTimeout(r, 50))
    }
  }

  await start()
  return {
    port: options.port,
    pid: () => child?.pid ?? 0,
    async kill() {
      const pid = child!.pid!
      signal([pid], 'SIGKILL')
      await waitUntilGone([pid], 5000)
    },
    start,
    freeze() {
      frozen = processTree(child!.pid!)
      signal(frozen, 'SIGSTOP')
    },
    thaw() {
      signal(frozen, 'SIGCONT')
      frozen = []
    },
    async stop() {
      if (frozen.length) signal(frozen, 'SIGCONT')
      if (!child?.pid || !isAlive(child.pid)) return
      signal([child.pid], 'SIGINT')
      await waitUntilGone([child.pid], 5000).catch(() => signal([child!.pid!], 'SIGKILL'))
    },
  }
}

async function listening(port: number) {
  const { createConnection } = await import('node:net')
  return new Promise<boolean>((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port })
    socket.once('connect', () => (socket.destroy(), resolve(true)))
    socket.once('error', () => resolve(false))
  })
}

/** One line for the report: which PgBouncer, if any. */
export function pgbouncerVersion() {
  if (!PGBOUNCER_BINARY) return null
  const out = spawnSync(PGBOUNCER_BINARY, ['--version'], { encoding: 'utf8' })
  return (out.stdout || out.stderr).split('\n')[0]?.trim() ?? 'pgbouncer'
}
