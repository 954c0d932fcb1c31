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
 *   --pages a,b               only these pages (queue, queue-deep, detail, submit, api-list, turnaround)
 *   --no-build                use the existing build/ instead of running `npm run build` first
 *   --no-verify-after         skip verifying the big clinic's audit chain after the load
 *   --profile                 after the load, profile workerd's CPU per page (profile.ts): writes
 *                             bench/profiles/<page>.cpuprofile and prints where the time went
 *
 * Everything runs on loopback, on its own ports (app 9800, PostgreSQL 59432, relay 59433,
 * provider 59434, PgBouncer 59435; APP_PORT, PG_PORT, RELAY_PORT, IDP_PORT and
 * PGBOUNCER_PORT move them) and in its own temp folder, all removed at the
 * end, on failure and on Ctrl-C. The app reaches PostgreSQL through PgBouncer (transaction mode)
 * when it is installed, as `npm start` runs it (PGBOUNCER=off: directly); the Node baselines
 * connect directly. The run prints which path it measured.
 *
 * The phases, in order: build and snapshot, database, stack (stack.ts); sign-in and the requests
 * (requests.ts); round trips (round-trips.ts); load, baselines, plans (measure.ts); the chain
 * check; client JavaScript (client-js.ts); the report (report.ts).
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { cpus, loadavg } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { localConfig } from '../lib/config'
import { DEMO_TENANT_ID } from '../lib/demo-accounts'
import type { Env } from '../../app/utils/env.server'
import { auditVerify } from './audit-chain'
import { pageWork, type PageKind } from './baseline'
import { benchTempFolder, runBench } from './cleanup'
import { clientJavaScript } from './client-js'
import type { PlanReport } from './explain'
import { cpuPressure } from './machine'
import { explainPages, loadTheApp, resetRateLimits, runBaselines } from './measure'
import type { PgClient } from './pg'
import { assertPortsFree } from './ports'
import { markdown, verdicts, type Results } from './report'
import { profilePages, profileTable, type PageProfile } from './profile'
import { prepareRequests, signIn } from './requests'
import { countRoundTrips } from './round-trips'
import type { SeededClinic } from './seed'
import { buildAndSnapshot, setScramIterations, startDatabase, startStack } from './stack'

const REPO = resolve(import.meta.dirname, '../..')
// Fixed so that two benches refuse to share a machine's ports; each can be moved by its variable.
const port = (name: string, fallback: number) => Number(process.env[name] ?? fallback)
const PORTS = {
  app: port('APP_PORT', 9800),
  pg: port('PG_PORT', 59432),
  relay: port('RELAY_PORT', 59433),
  idp: port('IDP_PORT', 59434),
  pgbouncer: port('PGBOUNCER_PORT', 59435),
  inspector: port('INSPECTOR_PORT', 59436),
}

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
    profile: { type: 'boolean', default: false },
    pages: { type: 'string' },
  },
})
const scale = Number(args.scale)
const duration = Number(args.duration)
const baselineDuration = Number(args['baseline-duration'])
const rlsDuration = Number(args['rls-duration'])
const concurrencies = args.concurrency!.split(',').map(Number)
const scramIterations = Number(args['scram-iterations'])
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
  await assertPortsFree(PORTS, 'bench')
  const tmp = benchTempFolder('intakepilot-bench-')
  say(
    `scale ${scale}, temp folder ${tmp}, ${cpus().length} CPUs, load average ${loadavg()
      .map((n) => n.toFixed(2))
      .join(' ')}`,
  )
  const config = localConfig({
    APP_PORT: String(PORTS.app),
    PG_PORT: String(PORTS.pg),
    RELAY_PORT: String(PORTS.relay),
    IDP_PORT: String(PORTS.idp),
    DATA_DIR: tmp,
    // Long enough that no session refreshes at the provider in the middle of a run (90 minutes: Entra's longest).
    IDP_ACCESS_TOKEN_TTL: '5400',
  })

  const appDir = await buildAndSnapshot({ repo: REPO, tmp, build: !args['no-build'], say })
  phase('build')
  say('build snapshotted')

  const db = await startDatabase({ tmp, ports: PORTS, scale, say, onSeeded: () => (phase('seed'), say(`seeded in ${phases.seed} s`)) })
  const { postgres, relay, wsProxy, seeded, admin } = db
  await setScramIterations(admin, scramIterations)

  const profile = args.profile ? { inspectorPort: PORTS.inspector, bundleDir: join(tmp, 'worker') } : undefined
  const { idp, rateLimit, bindings, app } = await startStack({ tmp, appDir, config, secrets: db.secrets, database: { appUrl: db.appUrl, wsProxy }, profile })
  phase('start')
  say(`app ready at ${app.origin}`)

  const users = await signIn({ appOrigin: app.origin, issuer: idp.issuer, seeded, say })
  const requests = await prepareRequests({ appOrigin: app.origin, admin, seeded, users, say })
  const only = args.pages?.split(',')
  const pages = only ? requests.pages.filter((p) => only.includes(p)) : requests.pages
  const { specs } = requests
  phase('sign_in_prepare')

  const { firstStaff, firstAccount, referrers } = users
  const work = pageWork({
    env: bindings as unknown as Env,
    origin: app.origin,
    clinicId: requests.clinicId,
    staff: { cookie: firstStaff.cookie, userId: firstStaff.userId, tid: DEMO_TENANT_ID, oid: firstAccount.oid },
    referrer: { cookie: referrers[0]!.cookie, userId: referrers[0]!.userId },
    deepCursor: requests.deepCursor,
    referralIds: requests.ids,
    submission: (i) => requests.submissions[i % requests.submissions.length]!,
  })
  const counted = await countRoundTrips({
    appOrigin: app.origin,
    relay,
    superuserUrl: postgres.superuserUrl,
    appUrl: postgres.appUrl,
    wsProxy,
    pages,
    specs,
    work,
    say,
  })
  phase('round_trips')

  const { load, scramDefault } = await loadTheApp({
    appOrigin: app.origin,
    admin,
    pages,
    specs,
    concurrencies,
    duration,
    rateLimit,
    scramIterations,
    staffCount: users.staff.length,
    say,
  })
  phase('load')

  let profiles: Record<string, PageProfile> | undefined
  if (profile) {
    profiles = await profilePages({
      ...profile,
      outDir: join(REPO, 'bench', 'profiles'),
      appOrigin: app.origin,
      pages,
      specs,
      durationSeconds: duration,
      capFor: (p) => (rateLimit.overrides.length || !rateLimit.perUser ? 10_000_000 : Math.floor(specs[p].users * rateLimit.perUser * 0.95)),
      beforeEach: () => resetRateLimits(admin),
      say,
    })
    phase('profile')
  }

  const database = { appUrl: postgres.appUrl, ownerUrl: postgres.ownerUrl, wsProxy }
  const baseline = await runBaselines({ database, pages, work, concurrencies, baselineDuration, rlsDuration, say })
  phase('baselines')

  const { plans, serverTime } = await explainPages({ database, pages, work, say })
  phase('explain')

  const verifyAfter = args['no-verify-after'] ? null : await verifyChainAfterLoad(admin, seeded.bigClinic)
  phase('verify_after')

  const clientJs = await clientJavaScript({
    appDir,
    appOrigin: app.origin,
    admin,
    queuePage: requests.firstPage,
    referrerCookie: referrers[0]!.cookie,
    staffCookie: firstStaff.cookie,
    referralId: requests.ids[0]!,
  })

  phase('report')
  writeReport(
    {
      meta: {
        date: new Date().toISOString(),
        connectionPath: db.connectionPath,
        scale,
        durationSeconds: duration,
        baselineDurationSeconds: baselineDuration,
        rlsDurationSeconds: rlsDuration,
        concurrencies,
        bigClinicReferrals: seeded.bigClinic.referrals.toLocaleString('en'),
        counts: seeded.counts,
        seedTimingsMs: seeded.timings,
        auditVerify: { afterLoad: seeded.verify, afterBench: verifyAfter },
        deepPage: { pages: requests.depth, openReferrals: requests.openCount },
        rateLimit,
        scramIterations,
        queueWithDefaultScram: scramDefault,
        statementsPerPage: counted.statementLists,
        baselineDrift: counted.statementDrift,
        pagesBenched: pages,
        apiListStatus: requests.apiStatus,
        machine: {
          cpus: cpus().length,
          loadAverageAtStart,
          loadAverageAtEnd: loadavg(),
          cpuPressureAtStart,
          cpuPressureAtEnd: cpuPressure(),
          node: process.version,
        },
        phasesSeconds: phases,
        totalSeconds: Math.round((performance.now() - startedAt) / 100) / 10,
      },
      load,
      baseline,
      roundTrips: counted.roundTrips,
      serverTime,
      clientJs,
      ...(profiles ? { profiles } : {}),
    },
    pages,
    plans,
  )
}

// ---------------------------------------------------------------------------------------------------

/** The big clinic's chain still verifies after the app appended to it. */
async function verifyChainAfterLoad(admin: PgClient, clinic: SeededClinic) {
  const v = await auditVerify(admin, clinic.id)
  const verifyAfter = { clinic: clinic.slug, rows: v.rows, ok: v.ok, ms: v.ms }
  say(
    `audit_verify(${clinic.slug}) after the load: ${v.ok ? 'ok' : `BROKEN: ${v.reason}`}, ${verifyAfter.rows.toLocaleString('en')} rows in ${verifyAfter.ms} ms`,
  )
  if (!v.ok) throw new Error(`the big clinic's audit chain does not verify after the load: ${v.reason}`)
  return verifyAfter
}

/** bench/results.json (with the verdicts, the plans and the table) and the table on stdout. */
function writeReport(results: Results, pages: PageKind[], plans: Record<string, PlanReport[]>) {
  const verdictList = verdicts(results, pages, concurrencies)
  const table = markdown(results, pages, concurrencies, verdictList)
  mkdirSync(join(REPO, 'bench'), { recursive: true })
  writeFileSync(join(REPO, 'bench', 'results.json'), JSON.stringify({ ...results, verdicts: verdictList, plans, table }, null, 2))
  console.log(`\n${table}\n`)
  if (results.profiles) console.log(`## Where workerd's CPU went (--profile; sampled after the measured runs)\n\n${profileTable(results.profiles)}`)
  say(
    `phases (s): ${Object.entries(phases)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
  )
  say(`wrote bench/results.json; total ${results.meta.totalSeconds} s`)
}
