/**
 * The bench's stack, phase by phase: the build and its snapshot, a throwaway database (migrated,
 * seeded, PgBouncer in front when installed), then the identity provider and the app. Each part
 * registers its own undo (cleanup.ts).
 */
import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { appBindings } from '../lib/app-bindings'
import { localIdentityProviderOptions, type LocalConfig } from '../lib/config'
import { APP_SESSIONS_WITHOUT_POOLER } from '../lib/local-database'
import { runMigrations } from '../lib/migrate'
import { findPgBouncer, startPgBouncer } from '../lib/pgbouncer'
import { APP_ROLE, DATABASE_NAME, LOCAL_SUPERUSER, OWNER_ROLE, startLocalPostgres } from '../lib/postgres'
import { loadOrCreateSecrets, type LocalSecrets } from '../lib/secrets'
import { snapshotBuild, startApp } from './app'
import { onCleanup } from './cleanup'
import { connectPg, type PgClient } from './pg'
import { startRelayProcess } from './relay-process'
import { seedBenchDatabase } from './seed'

type Say = (line: string) => void
export type BenchPorts = { app: number; pg: number; relay: number; idp: number; pgbouncer: number }
export type BenchDatabase = Awaited<ReturnType<typeof startDatabase>>
export type RateLimitSettings = ReturnType<typeof rateLimitSettings>

/** `npm run build` (unless told not to), then its snapshot in `<tmp>/app`: the folder the app runs in. */
export async function buildAndSnapshot(o: { repo: string; tmp: string; build: boolean; say: Say }) {
  if (o.build) {
    o.say('npm run build (once, before anything is measured)…')
    await run(o.repo, 'npm', ['run', 'build'], join(o.tmp, 'build.log'))
  }
  const appDir = join(o.tmp, 'app')
  mkdirSync(appDir)
  snapshotBuild(o.repo, appDir)
  return appDir
}

/** PostgreSQL, PgBouncer when installed (the app's path as `npm start` has it, scripts/lib/local-database.ts), the relay; migrated, then seeded. */
export async function startDatabase(o: { tmp: string; ports: BenchPorts; scale: number; say: Say; onSeeded: () => void }) {
  const { ports, say } = o
  const pgbouncerBinary = findPgBouncer()
  const postgres = await startLocalPostgres({
    dataDir: join(o.tmp, 'postgres'),
    port: ports.pg,
    persistent: false,
    maxConnections: pgbouncerBinary ? 100 : APP_SESSIONS_WITHOUT_POOLER + 30,
  })
  onCleanup('postgres', () => postgres.stop())
  const pgbouncer = pgbouncerBinary
    ? await startPgBouncer({
        binary: pgbouncerBinary,
        dir: join(o.tmp, 'pgbouncer'),
        port: ports.pgbouncer,
        postgresPort: ports.pg,
        database: DATABASE_NAME,
        users: [APP_ROLE, OWNER_ROLE, LOCAL_SUPERUSER],
        adminUsers: [LOCAL_SUPERUSER.user],
      })
    : null
  if (pgbouncer) onCleanup('pgbouncer', () => pgbouncer.stop())
  const appUrl = pgbouncer ? postgres.appUrl.replace(`:${ports.pg}/`, `:${pgbouncer.port}/`) : postgres.appUrl
  const connectionPath = pgbouncer
    ? `app -> relay -> PgBouncer ${pgbouncer.version} (transaction mode, ${pgbouncer.poolSize} server connections) -> PostgreSQL; Node baselines -> relay -> PostgreSQL directly`
    : 'app -> relay -> PostgreSQL directly (pgbouncer not installed, or PGBOUNCER=off); Node baselines the same'
  say(`connection path measured: ${connectionPath}`)
  const relay = await startRelayProcess({ port: ports.relay, postgresPort: ports.pg, pgbouncerPort: pgbouncer?.port })
  const wsProxy = `127.0.0.1:${relay.port}`
  await runMigrations({ url: postgres.ownerUrl, wsProxy })
  const secrets = loadOrCreateSecrets(o.tmp)
  say('PostgreSQL started and migrated; seeding…')
  const seeded = await seedBenchDatabase({ superuserUrl: postgres.superuserUrl, secrets, scale: o.scale, log: (l) => say(l) })
  o.onSeeded()
  const admin = await connectPg(postgres.superuserUrl)
  onCleanup('superuser connection', () => admin.end())
  return { postgres, appUrl, connectionPath, relay, wsProxy, secrets, seeded, admin }
}

/** The roles' SCRAM verifiers with this iteration count (bench/README.md, "Connection set-up"). */
export async function setScramIterations(admin: PgClient, n: number) {
  await admin.query(`set scram_iterations = ${Math.max(1, Math.floor(n))}`)
  await admin.query(`alter role ${APP_ROLE.user} password '${APP_ROLE.password}'`)
  await admin.query(`alter role ${OWNER_ROLE.user} password '${OWNER_ROLE.password}'`)
  await admin.query('reset scram_iterations')
}

/** The identity provider, then the app server on the snapshot, its rate limiter raised where a binding can. */
export async function startStack(o: {
  tmp: string
  appDir: string
  config: LocalConfig
  secrets: LocalSecrets
  database: { appUrl: string; wsProxy: string }
  /** --profile: the app's inspector, and its bundle kept with a source map (profile.ts). */
  profile?: { inspectorPort: number; bundleDir: string }
}) {
  const { startIdentityProvider } = await import('../lib/idp')
  const idp = await startIdentityProvider(localIdentityProviderOptions(o.config, o.secrets))
  onCleanup('identity provider', () => idp.close())
  const rateLimit = rateLimitSettings(o.appDir)
  const bindings = appBindings({
    config: o.config,
    database: o.database,
    secrets: o.secrets,
    oidcAuthority: idp.issuer,
    extra: {
      ...Object.fromEntries(rateLimit.overrides.map((name) => [name, '1000000'])),
      // The courier shares workerd and the relay with the app: running, its cron and pokes would
      // count in each page's CPU and round trips. Its figures are not the page's (bench/README.md).
      COURIER_PAUSED: '1',
    },
  })
  const app = await startApp({ cwd: o.appDir, config: o.config, bindings, logFile: join(o.tmp, 'app.log'), ...o.profile })
  return { idp, rateLimit, bindings, app }
}

/** Whether the rate limiter can be set from a binding (then it is set very high), and its per-user limit. */
function rateLimitSettings(appDir: string) {
  const file = join(appDir, 'app', 'tenancy', 'rate-limit.server.ts')
  if (!existsSync(file)) return { present: false, perUser: 0, overrides: [] as string[], note: 'no rate limiter in this build' }
  const source = readFileSync(file, 'utf8') + readFileSync(join(appDir, 'app', 'utils', 'env.server.ts'), 'utf8')
  const overrides = [...new Set([...source.matchAll(/env\??\.(RATE_LIMIT\w*)/g), ...source.matchAll(/^\s*(RATE_LIMIT\w*)\??:/gm)].map((m) => m[1]!))]
  const perUser = Number(/(?:USER_LIMIT_PER_MINUTE\s*=|\buser:)\s*(\d+)/.exec(source)?.[1] ?? 100)
  return {
    present: true,
    perUser,
    overrides,
    note: overrides.length
      ? `limit set from bindings ${overrides.join(', ')} = 1000000`
      : `fixed at ${perUser}/minute per user (no binding to raise it): requests rotate over every signed-in user, counters are cleared between runs, and each run stops at 95% of the users' budget`,
  }
}

function run(cwd: string, command: string, commandArgs: string[], logFile: string) {
  return new Promise<void>((resolve, reject) => {
    const child = spawn(command, commandArgs, { cwd, stdio: ['ignore', 'pipe', 'pipe'], detached: true })
    const output: Buffer[] = []
    child.stdout.on('data', (d: Buffer) => output.push(d))
    child.stderr.on('data', (d: Buffer) => output.push(d))
    const cancel = onCleanup(`${command} ${commandArgs.join(' ')}`, () => {
      try {
        process.kill(-child.pid!, 'SIGTERM')
      } catch {}
    })
    child.once('exit', (code) => {
      cancel()
      const text = Buffer.concat(output).toString('utf8')
      writeFileSync(logFile, text)
      if (code === 0) resolve()
      else reject(new Error(`${command} ${commandArgs.join(' ')} exited ${code}:\n${text.slice(-2000)}`))
    })
  })
}
