/**
 * `npm run bench:burst`: what a burst of page requests gets from the local stack (bench/README.md,
 * "Burst"). Two bursts of GET /queue, every request on its own TCP connection, all sent at once:
 *
 *   1. 200 from ONE signed-in user: the rate limit (100 a minute) must answer exactly 100 x 2xx
 *      and 100 x 429, and nothing else (no 503 for want of a database connection);
 *   2. 500 spread over 50 signed-in users (10 each, within their limits): 0 x 5xx.
 *
 * Its own stack, as `npm start` runs it (PgBouncer in front of PostgreSQL when installed;
 * PGBOUNCER=off measures the direct path), on its own ports (APP_PORT, PG_PORT, RELAY_PORT,
 * IDP_PORT, PGBOUNCER_PORT; defaults 9820 and 59472-59475) and in a temp folder, both cleaned up.
 *
 *   --no-build       use the existing build/
 *   --users N        signed-in users for the spread burst (default 50)
 *   --one-user N     requests of the one-user burst (default 200)
 *   --spread N       requests of the spread burst (default 500)
 */
import { request } from 'node:http'
import { mkdirSync, writeFileSync } from 'node:fs'
import { cpus, loadavg } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { appBindings } from '../lib/app-bindings'
import { localConfig, localIdentityProviderOptions } from '../lib/config'
import { DEMO_ACCOUNTS, DEMO_TENANT_ID, type DemoAccount } from '../lib/demo-accounts'
import { startLocalDatabase } from '../lib/local-database'
import { runMigrations } from '../lib/migrate'
import { LOCAL_SUPERUSER } from '../lib/postgres'
import { loadOrCreateSecrets } from '../lib/secrets'
import { seedIfEmpty } from '../lib/seed'
import { buildAndSnapshot, startApp } from './app'
import { benchTempFolder, onCleanup, runBench, sleep } from './cleanup'
import { percentile } from './load'
import { cpuPressure, machineMeter } from './machine'
import { connectPg, type PgClient } from './pg'
import { signInThroughApp } from './sign-in'

const REPO = resolve(import.meta.dirname, '..', '..')
const { values: args } = parseArgs({
  options: {
    'no-build': { type: 'boolean', default: false },
    users: { type: 'string', default: '50' },
    'one-user': { type: 'string', default: '200' },
    spread: { type: 'string', default: '500' },
  },
})
const started = performance.now()
const say = (line: string) => console.log(`[burst ${((performance.now() - started) / 1000).toFixed(1).padStart(6)} s] ${line}`)
await runBench('burst', main, say)

async function main() {
  const env = process.env
  const tmp = benchTempFolder('intakepilot-burst-')
  const config = localConfig({
    APP_PORT: env.APP_PORT ?? '9820',
    PG_PORT: env.PG_PORT ?? '59472',
    RELAY_PORT: env.RELAY_PORT ?? '59473',
    IDP_PORT: env.IDP_PORT ?? '59474',
    PGBOUNCER_PORT: env.PGBOUNCER_PORT ?? '59475',
    DATA_DIR: tmp,
    IDP_ACCESS_TOKEN_TTL: '5400',
  })
  say(
    `${cpus().length} CPUs, load average ${loadavg()
      .map((n) => n.toFixed(2))
      .join(' ')}, CPU pressure ${cpuPressure() ?? '—'}`,
  )
  const appDir = await buildAndSnapshot(REPO, tmp, { build: !args['no-build'], say })

  const database = await startLocalDatabase({
    dataDir: join(tmp, 'postgres'),
    pgPort: config.pgPort,
    relayPort: config.relayPort,
    pgbouncerPort: config.pgbouncerPort,
    persistent: false,
  })
  onCleanup('database', () => database.stopAll())
  say(`connection path measured: ${database.connectionPath}`)
  await runMigrations({ url: database.ownerUrl, wsProxy: database.wsProxy })
  const secrets = loadOrCreateSecrets(tmp)
  await seedIfEmpty({ url: database.ownerUrl, wsProxy: database.wsProxy, secrets })
  const admin = await connectPg(database.superuserUrl)
  onCleanup('superuser connection', () => admin.end())
  const accounts = await provisionUsers(admin, Number(args.users))

  const { startIdentityProvider } = await import('../lib/idp')
  const idp = await startIdentityProvider(localIdentityProviderOptions(config, secrets))
  onCleanup('identity provider', () => idp.close())
  const bindings = appBindings({ config, database, secrets, oidcAuthority: idp.issuer })
  const app = await startApp({ cwd: appDir, config, bindings, logFile: join(tmp, 'app.log') })
  say(`app ready at ${app.origin}; signing in ${accounts.length} users through the app's OpenID Connect flow…`)
  const cookies: string[] = []
  for (const account of accounts) cookies.push(await signInThroughApp({ appOrigin: app.origin, email: account.email, redirectTo: '/queue' }))
  // Warm the isolate and the pool: the first requests after start compile and connect.
  for (let i = 0; i < 5; i++) await get(app.origin, '/queue', cookies[i % cookies.length]!)

  const bursts = [
    { name: 'one user', requests: Number(args['one-user']), cookie: (_: number) => cookies[0]! },
    { name: `${cookies.length} users`, requests: Number(args.spread), cookie: (i: number) => cookies[i % cookies.length]! },
  ]
  const results = []
  for (const burst of bursts) {
    await freshRateLimitWindow(admin)
    const result = await fire(app.origin, burst.requests, burst.cookie, admin, database.pgbouncer ? config.pgbouncerPort : null)
    results.push({ burst: burst.name, ...result })
    say(
      `${burst.name}: ${burst.requests} concurrent GET /queue -> ${Object.entries(result.statuses)
        .map(([s, n]) => `${n} x ${s}`)
        .join(', ')}; p50 ${result.p50} ms, p95 ${result.p95} ms, max ${result.max} ms; ` +
        `PostgreSQL backends at most ${result.peakBackends}${result.peakWaiting === null ? '' : `, clients waiting in PgBouncer at most ${result.peakWaiting}`}; CPU busy ${result.machine.busy} (others ${result.machine.others})`,
    )
  }
  const out = {
    date: new Date().toISOString(),
    connectionPath: database.connectionPath,
    machine: { cpus: cpus().length, loadAverage: loadavg(), cpuPressure: cpuPressure() },
    results,
  }
  mkdirSync(join(REPO, 'bench'), { recursive: true })
  writeFileSync(join(REPO, 'bench', 'burst-results.json'), JSON.stringify(out, null, 2))
  say('wrote bench/burst-results.json')
}

/** Staff of the northside demo clinic, known to the local provider (in this process) and provisioned in the database. */
async function provisionUsers(admin: PgClient, count: number): Promise<DemoAccount[]> {
  const oid = (n: number) => `0000${n.toString(16).padStart(4, '0')}-0000-4000-8000-${n.toString(16).padStart(12, '0')}`
  const accounts: DemoAccount[] = Array.from({ length: count }, (_, i) => ({
    email: `burst${i + 1}@northside.test`,
    name: `Burst Coordinator ${i + 1}`,
    oid: oid(0x9000 + i),
    tid: DEMO_TENANT_ID,
    clinicSlug: 'northside',
    role: 'staff',
    status: 'active',
  }))
  DEMO_ACCOUNTS.push(...accounts)
  await admin.query(
    `insert into users (clinic_id, idp_tenant_id, idp_object_id, email, display_name, role, status)
     select c.id, a.tid, a.oid, a.email, a.name, 'staff', 'active'
       from clinics c, json_to_recordset($1::json) as a(tid text, oid text, email text, name text) where c.slug = 'northside'`,
    [JSON.stringify(accounts)],
  )
  return accounts
}

/** Counters cleared, and far enough from the minute's end that the whole burst counts in one window. */
async function freshRateLimitWindow(admin: PgClient) {
  while (new Date().getSeconds() > 40) await sleep(500)
  await admin.query('delete from rate_limits')
}

async function fire(origin: string, n: number, cookie: (i: number) => string, admin: PgClient, pgbouncerPort: number | null) {
  let sampling = true
  let peakBackends = 0
  let peakWaiting: number | null = pgbouncerPort === null ? null : 0
  const bouncer =
    pgbouncerPort === null ? null : await connectPg(`postgres://${LOCAL_SUPERUSER.user}:${LOCAL_SUPERUSER.password}@127.0.0.1:${pgbouncerPort}/pgbouncer`)
  const sampler = (async () => {
    while (sampling) {
      const r = await admin.query<{ n: number }>(
        `select count(*)::int as n from pg_stat_activity where backend_type = 'client backend' and pid <> pg_backend_pid()`,
      )
      peakBackends = Math.max(peakBackends, r.rows[0]!.n)
      if (bouncer) {
        const pools = (await bouncer.query<{ database: string; cl_waiting: string }>('SHOW POOLS')).rows
        peakWaiting = Math.max(peakWaiting ?? 0, ...pools.filter((p) => p.database === 'intakepilot').map((p) => Number(p.cl_waiting)))
      }
      await sleep(25)
    }
  })()
  const meter = machineMeter()
  const t0 = performance.now()
  const answers = await Promise.all(Array.from({ length: n }, (_, i) => get(origin, '/queue', cookie(i))))
  const seconds = (performance.now() - t0) / 1000
  const machine = meter()
  sampling = false
  await sampler
  await bouncer?.end()
  const statuses: Record<string, number> = {}
  for (const a of answers) statuses[a.status] = (statuses[a.status] ?? 0) + 1
  const latencies = answers.map((a) => a.ms).sort((a, b) => a - b)
  const round = (x: number) => Math.round(x)
  return {
    requests: n,
    seconds: Math.round(seconds * 100) / 100,
    statuses,
    p50: round(percentile(latencies, 50)),
    p95: round(percentile(latencies, 95)),
    max: round(latencies.at(-1)!),
    peakBackends,
    peakWaiting,
    machine,
  }
}

/** One request on a connection of its own (no keep-alive pool to queue behind). */
function get(origin: string, path: string, cookie: string): Promise<{ status: string; ms: number }> {
  const t = performance.now()
  return new Promise((resolve) => {
    const req = request(
      `${origin}${path}`,
      { agent: false, headers: { cookie, accept: 'text/html', 'user-agent': 'IntakePilot-burst' }, timeout: 60_000 },
      (res) => {
        res.resume()
        res.on('end', () => resolve({ status: String(res.statusCode), ms: performance.now() - t }))
      },
    )
    req.on('timeout', () => req.destroy(new Error('timeout')))
    req.on('error', (error) => resolve({ status: error.message === 'timeout' ? 'timeout' : 'connection error', ms: performance.now() - t }))
    req.end()
  })
}
