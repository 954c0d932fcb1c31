/**
 * `npm run bench` (not part of `npm test`): how fast IntakePilot serves a clinic at scale,
 * against the raw database, in one run. See bench/README.md for how to read the results.
 *
 *   --scale N                 data size multiplier (default 1: 20 x 10k + 1 x 100k referrals, 2M audit rows)
 *   --duration S              seconds per app load run (default 10)
 *   --baseline-duration S     seconds per floor run: the same SQL from Node on a warm connection,
 *                             RLS and no RLS interleaved, half the time each (default 4)
 *   --rls-duration S          seconds per "new connection per page" Node run (default 3)
 *   --concurrency 1,10        autocannon connections (and baseline workers)
 *   --scram-iterations N      PBKDF2 iterations of the roles' SCRAM verifiers (default 1; see
 *                             bench/README.md "Connection set-up"; 4096 is PostgreSQL's default,
 *                             what `npm start` uses: every run also measures the queue that way)
 *   --no-build                use the existing build/ instead of running `npm run build` first
 *   --no-verify-after         skip verifying the big clinic's audit chain after the load
 *
 * Everything runs on loopback, on its own ports (app 9800, PostgreSQL 59432, relay 59433,
 * provider 59434, PgBouncer 59435; APP_PORT, PG_PORT, RELAY_PORT, IDP_PORT and
 * PGBOUNCER_PORT move them) and in its own temp folder, all removed at the
 * end, on failure and on Ctrl-C. The app reaches PostgreSQL through PgBouncer (transaction mode)
 * when it is installed, as `npm start` runs it (PGBOUNCER=off: directly); the Node baselines
 * connect directly. The run prints which path it measured.
 */
import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { cpus, loadavg } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { appBindings } from './lib/app-bindings'
import { localConfig, localIdentityProviderOptions } from './lib/config'
import { CLI_CLIENT_ID, CLI_REDIRECT_URI, getTokensFor } from './lib/idp-login'
import { runMigrations } from './lib/migrate'
import { startLocalPostgres, DATABASE_NAME, APP_ROLE, OWNER_ROLE, LOCAL_SUPERUSER } from './lib/postgres'
import { findPgBouncer, startPgBouncer } from './lib/pgbouncer'
import { APP_SESSIONS_WITHOUT_POOLER } from './lib/local-database'
import { loadOrCreateSecrets } from './lib/secrets'
import { DEMO_TENANT_ID } from './lib/demo-accounts'
import { startApp, snapshotBuild } from './bench/app'
import { connectAs, pageWork, perRequest, type BaselineInputs, type Mode, type PageKind } from './bench/baseline'
import { benchTempFolder, onCleanup, runBench, sleep } from './bench/cleanup'
import { fromHtml, pageJavaScript, readRemixManifest } from './bench/client-js'
import { explainPage, type PlanReport, type ServerTime } from './bench/explain'
import { fromRaw, runAutocannon, runLoop, runLoopRaw, type RawRun, type RequestSpec, type Stats } from './bench/load'
import { cpuPressure } from './bench/machine'
import { connectPg } from './bench/pg'
import { startRelayProcess, type RelayHandle } from './bench/relay-process'
import { markdown, PAGE_LABELS, verdicts, type Results, type RoundTrips } from './bench/report'
import { bigClinicAccounts, seedBenchDatabase } from './bench/seed'
import { signInThroughApp } from './bench/sign-in'
import { fakeReferralValues } from '../tests/factories/patients'
import { createRandom } from '../tests/factories/random'
import type { FormValues } from '../app/referrals/form-data.server'
import type { Env } from '../app/utils/env.server'

const REPO = resolve(import.meta.dirname, '..')
// Fixed so that two benches refuse to share a machine's ports; each can be moved by its variable.
const port = (name: string, fallback: number) => Number(process.env[name] ?? fallback)
const PORTS = {
  app: port('APP_PORT', 9800), pg: port('PG_PORT', 59432), relay: port('RELAY_PORT', 59433), idp: port('IDP_PORT', 59434),
  pgbouncer: port('PGBOUNCER_PORT', 59435),
}
const PAGES: PageKind[] = ['queue', 'queue-deep', 'detail', 'submit', 'api-list']
const DEEP_PAGES = 500

const { values: args } = parseArgs({
  options: {
    scale: { type: 'string', default: '1' },
    duration: { type: 'string', default: '10' },
    'baseline-duration': { type: 'string', default: '4' },
    'rls-duration': { type: 'string', default: '3' },
    concurrency: { type: 'string', default: '1,10' },
    'no-build': { type: 'boolean', default: false },
    'no-verify-after': { type: 'boolean', default: false },
    'scram-iterations': { type: 'string', default: '1' },
  },
})
const scale = Number(args.scale)
const duration = Number(args.duration)
const baselineDuration = Number(args['baseline-duration'])
const rlsDuration = Number(args['rls-duration'])
const concurrencies = args.concurrency!.split(',').map(Number)
if (!(scale > 0) || !(duration > 0) || concurrencies.some((c) => !(c >= 1))) {
  console.error('usage: npm run bench -- [--scale 0.1] [--duration 10] [--concurrency 1,10] [--no-build]')
  process.exit(2)
}

const startedAt = performance.now()
const phases: Record<string, number> = {}
let phaseStart = startedAt
const say = (line: string) => console.log(`[bench ${((performance.now() - startedAt) / 1000).toFixed(1).padStart(6)} s] ${line}`)
const phase = (name: string) => {
  const now = performance.now()
  phases[name] = Math.round((now - phaseStart) / 100) / 10
  phaseStart = now
}

const loadAverageAtStart = loadavg()
const cpuPressureAtStart = cpuPressure()
await runBench('bench', main, say)

async function main() {
  await assertPortsFree()
  const tmp = benchTempFolder('intakepilot-bench-')
  say(`scale ${scale}, temp folder ${tmp}, ${cpus().length} CPUs, load average ${loadavg().map((n) => n.toFixed(2)).join(' ')}`)
  const config = localConfig({
    APP_PORT: String(PORTS.app), PG_PORT: String(PORTS.pg), RELAY_PORT: String(PORTS.relay), IDP_PORT: String(PORTS.idp),
    DATA_DIR: tmp,
    // Long enough that no session refreshes at the provider in the middle of a run (90 minutes: Entra's longest).
    IDP_ACCESS_TOKEN_TTL: '5400',
  })

  // ---- 1. build, and a snapshot of it -------------------------------------------------------
  if (!args['no-build']) {
    say('npm run build (once, before anything is measured)…')
    await run('npm', ['run', 'build'], join(tmp, 'build.log'))
  }
  const appDir = join(tmp, 'app')
  mkdirSync(appDir)
  snapshotBuild(REPO, appDir)
  phase('build')
  say('build snapshotted')

  // ---- 2. a throwaway database, migrated and seeded -------------------------------------------
  const pgbouncerBinary = findPgBouncer()
  const postgres = await startLocalPostgres({ dataDir: join(tmp, 'postgres'), port: PORTS.pg, persistent: false, maxConnections: pgbouncerBinary ? 100 : APP_SESSIONS_WITHOUT_POOLER + 30 })
  onCleanup('postgres', () => postgres.stop())
  // The app's path as `npm start` has it (scripts/lib/local-database.ts).
  const pgbouncer = pgbouncerBinary
    ? await startPgBouncer({ binary: pgbouncerBinary, dir: join(tmp, 'pgbouncer'), port: PORTS.pgbouncer, postgresPort: PORTS.pg, database: DATABASE_NAME, users: [APP_ROLE, OWNER_ROLE, LOCAL_SUPERUSER], adminUsers: [LOCAL_SUPERUSER.user] })
    : null
  if (pgbouncer) onCleanup('pgbouncer', () => pgbouncer.stop())
  const appUrl = pgbouncer ? postgres.appUrl.replace(`:${PORTS.pg}/`, `:${pgbouncer.port}/`) : postgres.appUrl
  const connectionPath = pgbouncer
    ? `app -> relay -> PgBouncer ${pgbouncer.version} (transaction mode, ${pgbouncer.poolSize} server connections) -> PostgreSQL; Node baselines -> relay -> PostgreSQL directly`
    : 'app -> relay -> PostgreSQL directly (pgbouncer not installed, or PGBOUNCER=off); Node baselines the same'
  say(`connection path measured: ${connectionPath}`)
  const relay = await startRelayProcess({ port: PORTS.relay, postgresPort: PORTS.pg, pgbouncerPort: pgbouncer?.port })
  const wsProxy = `127.0.0.1:${relay.port}`
  await runMigrations({ url: postgres.ownerUrl, wsProxy })
  const secrets = loadOrCreateSecrets(tmp)
  say('PostgreSQL started and migrated; seeding…')
  const seeded = await seedBenchDatabase({ superuserUrl: postgres.superuserUrl, secrets, scale, log: (l) => say(l) })
  phase('seed')
  say(`seeded in ${phases.seed} s`)
  const admin = await connectPg(postgres.superuserUrl)
  onCleanup('superuser connection', () => admin.end())
  const scramIterations = Number(args['scram-iterations'])
  // The roles' SCRAM verifiers with this iteration count (bench/README.md, "Connection set-up").
  const setScramIterations = async (n: number) => {
    await admin.query(`set scram_iterations = ${Math.max(1, Math.floor(n))}`)
    await admin.query(`alter role ${APP_ROLE.user} password '${APP_ROLE.password}'`)
    await admin.query(`alter role ${OWNER_ROLE.user} password '${OWNER_ROLE.password}'`)
    await admin.query('reset scram_iterations')
  }
  await setScramIterations(scramIterations)

  // ---- 3. the identity provider and the app -------------------------------------------------------
  const { startIdentityProvider } = await import('./lib/idp')
  const idp = await startIdentityProvider(localIdentityProviderOptions(config, secrets))
  onCleanup('identity provider', () => idp.close())
  const rateLimit = rateLimitSettings(appDir)
  const bindings = appBindings({
    config,
    database: { appUrl, wsProxy },
    secrets,
    oidcAuthority: idp.issuer,
    extra: Object.fromEntries(rateLimit.overrides.map((name) => [name, '1000000'])),
  })
  const app = await startApp({ cwd: appDir, config, bindings, logFile: join(tmp, 'app.log') })
  phase('start')
  say(`app ready at ${app.origin}`)

  // ---- 4. sign in (the real OIDC flow) and API tokens ---------------------------------------------
  const staff: { cookie: string; userId: string; email: string }[] = []
  const referrers: { cookie: string; userId: string; email: string }[] = []
  for (const user of [...seeded.staff, ...seeded.referrers]) {
    const cookie = await signInThroughApp({ appOrigin: app.origin, email: user.email, redirectTo: user.role === 'staff' ? '/queue' : '/referrals/new' })
    ;(user.role === 'staff' ? staff : referrers).push({ cookie, userId: user.id, email: user.email })
  }
  const tokens: string[] = []
  for (const user of seeded.staff) {
    const set = await getTokensFor({ issuer: idp.issuer, email: user.email, clientId: CLI_CLIENT_ID, redirectUri: CLI_REDIRECT_URI })
    tokens.push(set.access_token)
  }
  const firstStaff = staff[0]!
  const firstAccount = bigClinicAccounts().find((a) => a.email === firstStaff.email)!
  say(`signed in ${staff.length} staff and ${referrers.length} referrers of the big clinic through /auth/microsoft; ${tokens.length} API tokens`)

  // ---- 5. what the requests need: the deep cursor, referral ids, submissions -----------------------
  const clinicId = seeded.bigClinic.id
  const open = await admin.query<{ n: string }>(`select count(*) as n from referrals where clinic_id = $1 and status in ('received','in_review','info_requested','accepted','scheduled')`, [clinicId])
  const openCount = Number(open.rows[0]!.n)
  const depth = Math.max(1, Math.min(DEEP_PAGES, Math.floor(openCount / 25) - 1))
  const cursorAfter = async (pages: number) => {
    const row = await admin.query<{ r: number; t: string; id: string }>(
      `select (case priority when 'emergent' then 0 when 'urgent' then 1 else 2 end) as r, received_at::text as t, id from referrals
        where clinic_id = $1 and status in ('received','in_review','info_requested','accepted','scheduled')
        order by received_at desc, id desc offset $2 limit 1`, [clinicId, pages * 25 - 1])
    const c = row.rows[0]!
    return Buffer.from(JSON.stringify({ r: Number(c.r), t: c.t, id: c.id })).toString('base64').replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
  }
  // The computed cursor must be the one the queue's own Next link carries.
  const firstPage = await getPage(app.origin, '/queue', firstStaff.cookie)
  const nextLink = /href="\/queue\?cursor=([^"&]+)"/.exec(firstPage)?.[1]
  const expected = await cursorAfter(1)
  if (nextLink !== expected) throw new Error(`the queue's Next link (${nextLink}) is not the cursor computed from the database (${expected})`)
  const deepCursor = await cursorAfter(depth)
  const deepPage = await getPage(app.origin, `/queue?cursor=${deepCursor}`, firstStaff.cookie)
  const deepRows = (deepPage.match(/data-testid="queue-row"/g) ?? []).length
  if (deepRows !== 25) throw new Error(`the page ${depth} deep shows ${deepRows} rows, not 25`)
  say(`deep page: ${depth} pages deep (${openCount.toLocaleString('en')} open referrals); cursor checked against the app's Next link`)
  const ids = (await admin.query<{ id: string }>(`select id from referrals where clinic_id = $1 order by random() limit 500`, [clinicId])).rows.map((r) => r.id)
  const random = createRandom(8)
  const submissions: FormValues[] = Array.from({ length: 500 }, () =>
    fakeReferralValues(random, { clinicSlug: seeded.bigClinic.template, services: seeded.bigClinic.services, clinician: { name: 'Dr. Amara Okafor', practice: 'Maple Family Health Team' } }),
  )
  const formBodies = submissions.map((values) => {
    const form = new URLSearchParams({ idempotencyKey: '__KEY__', formVersion: '1' })
    for (const [k, v] of Object.entries(values)) if (v === true) form.set(k, 'on'); else if (v !== false && v !== null && v !== '') form.set(k, String(v))
    return form.toString()
  })
  const html = { accept: 'text/html', 'user-agent': 'IntakePilot-bench' }
  const specs: Record<PageKind, { expect: number; users: number; next: (i: number) => RequestSpec }> = {
    queue: { expect: 200, users: staff.length, next: (i) => ({ path: '/queue', headers: { ...html, cookie: staff[i % staff.length]!.cookie } }) },
    'queue-deep': { expect: 200, users: staff.length, next: (i) => ({ path: `/queue?cursor=${deepCursor}`, headers: { ...html, cookie: staff[i % staff.length]!.cookie } }) },
    detail: { expect: 200, users: staff.length, next: (i) => ({ path: `/referrals/${ids[i % ids.length]}`, headers: { ...html, cookie: staff[i % staff.length]!.cookie } }) },
    submit: {
      expect: 302,
      users: referrers.length,
      next: (i) => ({
        method: 'POST', path: '/referrals/new',
        headers: { ...html, cookie: referrers[i % referrers.length]!.cookie, 'content-type': 'application/x-www-form-urlencoded', origin: app.origin },
        body: formBodies[i % formBodies.length]!.replace('__KEY__', crypto.randomUUID()),
      }),
    },
    'api-list': { expect: 200, users: tokens.length, next: (i) => ({ path: '/api/v1/referrals', headers: { accept: 'application/json', 'user-agent': 'IntakePilot-bench', authorization: `Bearer ${tokens[i % tokens.length]}` } }) },
  }
  // The API route is being written as this runs: bench it only if it is there and answers.
  const apiProbe = await fetchSpec(app.origin, specs['api-list'].next(0))
  const pages = PAGES.filter((p) => p !== 'api-list' || apiProbe.status === 200)
  if (!pages.includes('api-list')) say(`GET /api/v1/referrals answered ${apiProbe.status}: the API list is left out`)
  for (const p of pages) {
    const r = await fetchSpec(app.origin, specs[p].next(1))
    if (r.status !== specs[p].expect) throw new Error(`${PAGE_LABELS[p]}: expected ${specs[p].expect}, got ${r.status}: ${r.body.slice(0, 300)}`)
  }
  phase('sign_in_prepare')

  // ---- 6. round trips for one request of each kind --------------------------------------------------
  const env = bindings as unknown as Env
  const inputs: BaselineInputs = {
    env, origin: app.origin, clinicId,
    staff: { cookie: firstStaff.cookie, userId: firstStaff.userId, tid: DEMO_TENANT_ID, oid: firstAccount.oid },
    referrer: { cookie: referrers[0]!.cookie, userId: referrers[0]!.userId },
    deepCursor, referralIds: ids, submission: (i) => submissions[i % submissions.length]!,
  }
  const work = pageWork(inputs)
  const statsNoise = await calibrate(relay, postgres.superuserUrl)
  const roundTrips = {} as Record<PageKind, RoundTrips>
  const median = (values: (number | null)[]) => {
    const sorted = values.filter((v): v is number => v !== null).sort((a, b) => a - b)
    return sorted.length ? sorted[Math.floor(sorted.length / 2)]! : null
  }
  const statementDrift: Record<string, { onlyInApp: string[]; onlyInBaseline: string[] }> = {}
  const statementLists: Record<string, string[]> = {}
  for (const p of pages) {
    for (let i = 0; i < 3; i++) await fetchSpec(app.origin, specs[p].next(i)) // warm; also opens the referral the counts use
    const appCounts = []
    const nodeCounts = []
    for (let k = 0; k < 3; k++) {
      appCounts.push(await countDbWork(relay, postgres.superuserUrl, statsNoise, async () => {
        const r = await fetchSpec(app.origin, specs[p].next(0))
        if (r.status !== specs[p].expect) throw new Error(`${p}: ${r.status}`)
      }))
      nodeCounts.push(await countDbWork(relay, postgres.superuserUrl, statsNoise, () => perRequest(postgres.appUrl, wsProxy, (db, i) => work[p](db, 'rls', i))(0)))
    }
    roundTrips[p] = {
      app: median(appCounts.map((c) => c.roundTrips))!,
      connections: median(appCounts.map((c) => c.connections)),
      transactions: median(appCounts.map((c) => c.transactions)),
      baseline: median(nodeCounts.map((c) => c.roundTrips)),
    }
    // The same statements? (SQL text; the order of parallel loaders may differ)
    // Values the app writes as literals (the begin message's scope, the audit row sent with the
    // commit: request id, user agent) differ between the two; the statements are compared without them.
    const withoutLiterals = (statements: string[]) => statements.map((text) => text.replace(/E?'(?:[^']|'')*'|\bNULL\b/g, "'…'"))
    const appStatements = withoutLiterals(appCounts.at(-1)!.statements)
    const nodeStatements = withoutLiterals(nodeCounts.at(-1)!.statements)
    statementLists[p] = appStatements
    roundTrips[p].statements = appStatements.length
    const drift = { onlyInApp: multisetMinus(appStatements, nodeStatements), onlyInBaseline: multisetMinus(nodeStatements, appStatements) }
    if (drift.onlyInApp.length || drift.onlyInBaseline.length) statementDrift[p] = drift
    const t = roundTrips[p]
    say(`round trips, ${PAGE_LABELS[p]}: app ${t.app} (${t.connections} connections, ${t.transactions} transactions, ${appStatements.length} statements), same SQL from Node ${t.baseline}`)
    for (const sql of drift.onlyInApp) say(`  BASELINE DRIFT: the app runs, the baseline does not: ${sql.slice(0, 140)}`)
    for (const sql of drift.onlyInBaseline) say(`  BASELINE DRIFT: the baseline runs, the app does not: ${sql.slice(0, 140)}`)
  }
  phase('round_trips')

  // ---- 7. load on the app ----------------------------------------------------------------------
  const load = {} as Results['load']
  const limit = rateLimit.perUser
  for (const p of pages) {
    load[p] = {}
    for (const c of concurrencies) {
      await resetRateLimits(admin)
      await runAutocannon({ origin: app.origin, connections: c, durationSeconds: 60, maxRequests: Math.max(c * 3, 20), expectStatus: specs[p].expect, next: specs[p].next })
      await resetRateLimits(admin)
      // Stay inside the per-user budget of this minute window (users rotate every request).
      const cap = rateLimit.overrides.length || !limit ? 10_000_000 : Math.floor(specs[p].users * limit * 0.95)
      const stats = await runAutocannon({ origin: app.origin, connections: c, durationSeconds: duration, maxRequests: cap, expectStatus: specs[p].expect, next: specs[p].next })
      load[p][String(c)] = stats
      say(`app  ${PAGE_LABELS[p].padEnd(22)} c${String(c).padEnd(3)} ${stats.rps.toFixed(1).padStart(7)} req/s  p50 ${stats.p50} ms  p95 ${stats.p95} ms  p99 ${stats.p99} ms  errors ${stats.errors}  unexpected ${JSON.stringify(stats.unexpected)}${stats.capped ? '  (capped)' : ''}  CPU busy ${stats.machine?.busy} (others ${stats.machine?.others})`)
    }
  }
  // Connection set-up as `npm start` has it: PostgreSQL's default 4096 SCRAM iterations.
  let scramDefault: { iterations: number; stats: Stats } | null = null
  if (scramIterations !== 4096) {
    await setScramIterations(4096)
    await resetRateLimits(admin)
    await runAutocannon({ origin: app.origin, connections: 1, durationSeconds: 60, maxRequests: 5, expectStatus: 200, next: specs.queue.next })
    const stats = await runAutocannon({ origin: app.origin, connections: 1, durationSeconds: duration, maxRequests: Math.floor(staff.length * (limit || 100) * 0.9), expectStatus: 200, next: specs.queue.next })
    scramDefault = { iterations: 4096, stats }
    say(`app  Queue, first page with 4096 SCRAM iterations, c1: ${stats.rps.toFixed(1)} req/s  p50 ${stats.p50} ms  p95 ${stats.p95} ms`)
    await setScramIterations(scramIterations)
  }
  await resetRateLimits(admin)
  phase('load')

  // ---- 8. baselines: the same SQL from Node -----------------------------------------------------------
  const baseline: Results['baseline'] = { perRequest: {} as Results['baseline']['perRequest'], warm: { rls: {} as Results['baseline']['perRequest'], norls: {} as Results['baseline']['perRequest'] } }
  // The floor (RLS) and the same without RLS, interleaved (RLS, no RLS, RLS, no RLS: half the time
  // each) so that a change in the machine's other load does not land on one side only.
  for (const p of pages) {
    baseline.warm.rls[p] = {}
    baseline.warm.norls[p] = {}
    for (const c of concurrencies) {
      const pools = { rls: connectAs(postgres.appUrl, wsProxy, 2 * c), norls: connectAs(postgres.ownerUrl, wsProxy, 2 * c) }
      try {
        const runs: Record<Mode, RawRun[]> = { rls: [], norls: [] }
        for (const mode of ['rls', 'norls'] as Mode[]) await runLoopRaw({ concurrency: c, durationSeconds: 0.5, fn: (i) => work[p](pools[mode].db, mode, i) }) // open the pools' connections
        for (const mode of ['rls', 'norls', 'rls', 'norls'] as Mode[]) {
          runs[mode].push(await runLoopRaw({ concurrency: c, durationSeconds: baselineDuration / 2, fn: (i) => work[p](pools[mode].db, mode, i) }))
        }
        for (const mode of ['rls', 'norls'] as Mode[]) {
          const stats = fromRaw(runs[mode])
          baseline.warm[mode][p][String(c)] = stats
          say(`sql  ${PAGE_LABELS[p].padEnd(22)} c${String(c).padEnd(3)} ${stats.rps.toFixed(1).padStart(7)} req/s  p50 ${stats.p50} ms  p95 ${stats.p95} ms  (warm connection, ${mode === 'rls' ? 'RLS: the floor' : 'no RLS'})  CPU busy ${stats.machine?.busy} (others ${stats.machine?.others})`)
        }
      } finally {
        await pools.rls.end()
        await pools.norls.end()
      }
    }
  }
  // A new connection for every page, as the app has on Workers (Node's Web Crypto makes SCRAM dearer than workerd's).
  for (const p of pages) {
    baseline.perRequest[p] = {}
    const c = Math.min(...concurrencies)
    const stats = await runLoop({ concurrency: c, durationSeconds: rlsDuration, fn: perRequest(postgres.appUrl, wsProxy, (db, i) => work[p](db, 'rls', i)) })
    baseline.perRequest[p][String(c)] = stats
    say(`node ${PAGE_LABELS[p].padEnd(22)} c${String(c).padEnd(3)} ${stats.rps.toFixed(1).padStart(7)} req/s  p50 ${stats.p50} ms  p95 ${stats.p95} ms  (new connection per page, RLS)  CPU busy ${stats.machine?.busy} (others ${stats.machine?.others})`)
  }
  phase('baselines')

  // ---- 9. query plans and the database's own time per page, with and without RLS --------------------
  const plans: Record<string, PlanReport[]> = {}
  const serverTime = { rls: {}, norls: {} } as Record<Mode, Record<string, ServerTime>>
  for (const p of pages) {
    for (const mode of ['rls', 'norls'] as Mode[]) {
      const url = mode === 'rls' ? postgres.appUrl : postgres.ownerUrl
      const result = await explainPage({ driverUrl: url, directUrl: url, wsProxy, mode, repeats: 9, run: (db, m, i) => work[p](db, m, i) })
      serverTime[mode][p] = result.server
      if (mode === 'rls') plans[p] = result.plans
    }
    for (const plan of plans[p]!.filter((q) => q.warning)) say(`plan warning, ${PAGE_LABELS[p]}: ${plan.warning} (${plan.executionMs} ms): ${plan.sql.slice(0, 160)}…`)
    say(`database time, ${PAGE_LABELS[p]}: ${serverTime.rls[p]!.totalMs} ms with RLS, ${serverTime.norls[p]!.totalMs} ms without (planning + execution of its ${serverTime.rls[p]!.statements.length} statements)`)
  }
  phase('explain')

  // ---- 10. the chain still verifies after the app appended to it -----------------------------------------
  let verifyAfter: { clinic: string; rows: number; ok: boolean; ms: number } | null = null
  if (!args['no-verify-after']) {
    const t = performance.now()
    const v = (await admin.query<{ ok: boolean; checked: string; reason: string | null }>('select ok, checked, reason from audit_verify($1::uuid)', [clinicId])).rows[0]!
    verifyAfter = { clinic: seeded.bigClinic.slug, rows: Number(v.checked), ok: v.ok, ms: Math.round(performance.now() - t) }
    say(`audit_verify(${seeded.bigClinic.slug}) after the load: ${v.ok ? 'ok' : `BROKEN: ${v.reason}`}, ${verifyAfter.rows.toLocaleString('en')} rows in ${verifyAfter.ms} ms`)
    if (!v.ok) throw new Error(`the big clinic's audit chain does not verify after the load: ${v.reason}`)
  }
  phase('verify_after')

  // ---- 11. client JavaScript ---------------------------------------------------------------------------
  const clientDir = join(appDir, 'build', 'client')
  await resetRateLimits(admin) // the baselines counted against the same users
  const newForm = await getPage(app.origin, '/referrals/new', referrers[0]!.cookie)
  const referralPage = await getPage(app.origin, `/referrals/${ids[0]}`, firstStaff.cookie)
  const { file: manifestFile } = readRemixManifest(clientDir)
  const clientJs: Results['clientJs'] = {}
  for (const [route, label, html] of [
    ['routes/_app.referrals.new', 'GET /referrals/new', newForm],
    ['routes/_app.queue', 'GET /queue', firstPage],
    ['routes/_app.referrals.$id', 'GET /referrals/:id', referralPage],
  ] as const) {
    const rendered = fromHtml(clientDir, label, html)
    // With lazy route discovery the page inlines the part of the manifest it needs (and names
    // the file's url in it without loading it): count the file only if the page loads it.
    clientJs[route] = { ...pageJavaScript(clientDir, route, { includeManifest: rendered.files.some((f) => f.file === manifestFile) }), fromHtml: rendered }
  }

  // ---- 12. report --------------------------------------------------------------------------------------
  phase('report')
  const results: Results = {
    meta: {
      date: new Date().toISOString(),
      connectionPath,
      scale,
      durationSeconds: duration,
      baselineDurationSeconds: baselineDuration,
      rlsDurationSeconds: rlsDuration,
      concurrencies,
      bigClinicReferrals: seeded.bigClinic.referrals.toLocaleString('en'),
      counts: seeded.counts,
      seedTimingsMs: seeded.timings,
      auditVerify: { afterLoad: seeded.verify, afterBench: verifyAfter },
      deepPage: { pages: depth, openReferrals: openCount },
      rateLimit,
      scramIterations,
      queueWithDefaultScram: scramDefault,
      statementsPerPage: statementLists,
      baselineDrift: statementDrift,
      pagesBenched: pages,
      apiListStatus: apiProbe.status,
      machine: { cpus: cpus().length, loadAverageAtStart, loadAverageAtEnd: loadavg(), cpuPressureAtStart, cpuPressureAtEnd: cpuPressure(), node: process.version },
      phasesSeconds: phases,
      totalSeconds: Math.round((performance.now() - startedAt) / 100) / 10,
    },
    load,
    baseline,
    roundTrips,
    serverTime,
    clientJs,
  }
  const verdictList = verdicts(results, pages, concurrencies)
  const table = markdown(results, pages, concurrencies, verdictList)
  mkdirSync(join(REPO, 'bench'), { recursive: true })
  writeFileSync(join(REPO, 'bench', 'results.json'), JSON.stringify({ ...results, verdicts: verdictList, plans, table }, null, 2))
  console.log(`\n${table}\n`)
  say(`phases (s): ${Object.entries(phases).map(([k, v]) => `${k} ${v}`).join(', ')}`)
  say(`wrote bench/results.json; total ${results.meta.totalSeconds} s`)
}

// ---------------------------------------------------------------------------------------------------

async function assertPortsFree() {
  for (const [name, port] of Object.entries(PORTS)) {
    const free = await new Promise<boolean>((resolve) => {
      const server = createServer()
      server.once('error', () => resolve(false))
      server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)))
    })
    if (!free) throw new Error(`port ${port} (${name}) is in use: is another bench running?`)
  }
}

function run(command: string, commandArgs: string[], logFile: string) {
  return new Promise<void>((resolve, reject) => {
    const child = spawn(command, commandArgs, { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'], detached: true })
    const output: Buffer[] = []
    child.stdout!.on('data', (d: Buffer) => output.push(d))
    child.stderr!.on('data', (d: Buffer) => output.push(d))
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

/** Whether the rate limiter can be set from a binding (then it is set very high), and its per-user limit. */
function rateLimitSettings(appDir: string) {
  const file = join(appDir, 'app', 'server', 'rate-limit.server.ts')
  if (!existsSync(file)) return { present: false, perUser: 0, overrides: [] as string[], note: 'no rate limiter in this build' }
  const source = readFileSync(file, 'utf8') + readFileSync(join(appDir, 'app', 'server', 'env.server.ts'), 'utf8')
  const overrides = [...new Set([...source.matchAll(/env\??\.(RATE_LIMIT\w*)/g, ), ...source.matchAll(/^\s*(RATE_LIMIT\w*)\??:/gm)].map((m) => m[1]!))]
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

async function resetRateLimits(admin: Awaited<ReturnType<typeof connectPg>>) {
  await admin.query('delete from rate_limits').catch(() => {})
}

async function getPage(origin: string, path: string, cookie: string) {
  const response = await fetch(`${origin}${path}`, { headers: { cookie, accept: 'text/html' }, redirect: 'manual' })
  const text = await response.text()
  if (response.status !== 200) throw new Error(`GET ${path} answered ${response.status}: ${text.slice(0, 300)}`)
  return text
}

async function fetchSpec(origin: string, spec: RequestSpec) {
  const response = await fetch(`${origin}${spec.path}`, { method: spec.method ?? 'GET', headers: spec.headers, body: spec.body, redirect: 'manual' })
  return { status: response.status, body: await response.text() }
}

/** Waits until the relay has seen no message for 400 ms (the pool ends after the response). */
async function settle(relay: RelayHandle) {
  let last = await relay.roundTrips()
  let quietSince = performance.now()
  while (performance.now() - quietSince < 400) {
    await sleep(50)
    const now = await relay.roundTrips()
    if (now !== last) {
      last = now
      quietSince = performance.now()
    }
  }
  return last
}

type DbStats = { sessions: number; xacts: number }
async function dbStats(superuserUrl: string): Promise<DbStats> {
  // A fresh connection each time, so that no session's unflushed statistics linger in between.
  const client = await connectPg(superuserUrl)
  try {
    const r = await client.query<{ sessions: string; xacts: string }>(`select sessions, xact_commit + xact_rollback as xacts from pg_stat_database where datname = current_database()`)
    return { sessions: Number(r.rows[0]!.sessions), xacts: Number(r.rows[0]!.xacts) }
  } finally {
    await client.end()
  }
}

/** What two back-to-back readings differ by with nothing in between (the readings' own connections). */
async function calibrate(relay: RelayHandle, superuserUrl: string): Promise<DbStats> {
  const samples: DbStats[] = []
  for (let i = 0; i < 3; i++) {
    const c = await countDbWork(relay, superuserUrl, { sessions: 0, xacts: 0 }, async () => {})
    samples.push({ sessions: c.connections ?? 0, xacts: c.transactions ?? 0 })
  }
  return { sessions: Math.min(...samples.map((s) => s.sessions)), xacts: Math.min(...samples.map((s) => s.xacts)) }
}

async function countDbWork(relay: RelayHandle, superuserUrl: string, noise: DbStats, fn: () => Promise<void>) {
  const before = await settle(relay)
  await relay.takeStatements()
  const s0 = await dbStats(superuserUrl)
  await fn()
  const after = await settle(relay)
  const statements = await relay.takeStatements()
  await sleep(300)
  const s1 = await dbStats(superuserUrl)
  return { roundTrips: after - before, connections: s1.sessions - s0.sessions - noise.sessions, transactions: s1.xacts - s0.xacts - noise.xacts, statements }
}

function multisetMinus(a: string[], b: string[]) {
  const left = new Map<string, number>()
  for (const s of b) left.set(s, (left.get(s) ?? 0) + 1)
  const out: string[] = []
  for (const s of a) {
    const n = left.get(s) ?? 0
    if (n > 0) left.set(s, n - 1)
    else out.push(s)
  }
  return out
}

