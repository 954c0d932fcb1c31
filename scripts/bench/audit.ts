/**
 * `npm run bench:audit` (not part of `npm test`; decision 016): what recording an audit
 * row, hash chain included, adds to a request, on a near-empty trail and on a big one
 * (target: under 2 ms with 10 million rows in the trail). See bench/README.md.
 *
 *   --rows N           audit rows in the big trail (default 10000000)
 *   --clinics N        clinics, one hash chain each (default 20)
 *   --requests N       rounds of one-at-a-time requests per trail size, each round one request
 *                      without the audit row, one with it, one with it not waiting for the WAL
 *                      flush (default 3000)
 *   --seconds S        ... or fewer rounds, if these seconds run out first (default 60)
 *   --writers N        concurrent writers (default 10)
 *   --writer-seconds S seconds per concurrent run, with and without the row each (default 6)
 *   --explain N        EXPLAIN ANALYZE repeats of the insert (default 300)
 *
 * A throwaway embedded PostgreSQL (port 59532) and the Neon relay (59533) in a temp folder, all
 * removed at the end, on failure and on Ctrl-C. The ports must be free: it refuses otherwise.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { cpus, loadavg } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { runMigrations } from '../lib/migrate'
import { startLocalPostgres } from '../lib/postgres'
import { concurrentCost, insertTime, request, sequentialCost, type Concurrent, type InsertTime, type Scope, type Sequential } from './audit-cost'
import { auditVerify } from './audit-chain'
import { loadAuditTrail, type AuditClinic, type AuditLoadResult } from './audit-load'
import { connectAs } from './baseline'
import { benchTempFolder, onCleanup, runBench } from './cleanup'
import { cpuPressure } from './machine'
import { connectPg, type PgClient } from './pg'
import { startRelayProcess } from './relay-process'
import { insertJson } from './seed'
import { assertPortsFree } from './ports'

const REPO = resolve(import.meta.dirname, '../..')
const PORTS = { pg: 59532, relay: 59533 }
const TARGET_MS = 2

const { values: args } = parseArgs({
  options: {
    rows: { type: 'string', default: '10000000' },
    clinics: { type: 'string', default: '20' },
    requests: { type: 'string', default: '3000' },
    seconds: { type: 'string', default: '60' },
    writers: { type: 'string', default: '10' },
    'writer-seconds': { type: 'string', default: '6' },
    explain: { type: 'string', default: '300' },
  },
})
const rows = Number(args.rows)
const clinicCount = Number(args.clinics)
const requests = Number(args.requests)
const maxSeconds = Number(args.seconds)
const writers = Number(args.writers)
const writerSeconds = Number(args['writer-seconds'])
const explainRepeats = Number(args.explain)
if (
  ![rows, clinicCount, requests, maxSeconds, writers, writerSeconds, explainRepeats].every((n) => (Number.isInteger(n) ? n >= 1 : n > 0)) ||
  clinicCount < 2
) {
  console.error(
    'usage: npm run bench:audit -- [--rows 10000000] [--clinics 20] [--requests 3000] [--seconds 60] [--writers 10] [--writer-seconds 6] [--explain 300]',
  )
  process.exit(2)
}

type Phase = { trailRows: number; sequential: Sequential; insert: InsertTime; sameClinic: Concurrent; spread: Concurrent }
const startedAt = performance.now()
const say = (line: string) => console.log(`[bench:audit ${((performance.now() - startedAt) / 1000).toFixed(1).padStart(6)} s] ${line}`)

await runBench('bench:audit', main, say)

async function main() {
  await assertPortsFree(PORTS, 'bench:audit')
  const tmp = benchTempFolder('intakepilot-bench-audit-')
  say(
    `${rows.toLocaleString('en')} rows over ${clinicCount} clinics; temp folder ${tmp}; ${cpus().length} CPUs, load average ${loadavg()
      .map((n) => n.toFixed(2))
      .join(' ')}`,
  )

  const postgres = await startLocalPostgres({ dataDir: join(tmp, 'postgres'), port: PORTS.pg, persistent: false })
  onCleanup('postgres', () => postgres.stop())
  const relay = await startRelayProcess({ port: PORTS.relay, postgresPort: PORTS.pg })
  const wsProxy = `127.0.0.1:${relay.port}`
  await runMigrations({ url: postgres.ownerUrl, wsProxy })
  const admin = await connectPg(postgres.superuserUrl)
  onCleanup('superuser connection', () => admin.end())
  const clinics = await createClinics(admin, clinicCount)
  say(`PostgreSQL started and migrated; ${clinics.length} clinics with their users`)

  // The same statements as the app, the audit row sent with the commit: checked, not assumed.
  const measured = clinics[0]!
  const scope: Scope = { clinicId: measured.id, userId: measured.staff[0]!, role: 'staff' }
  const statements = await statementsOf(relay, postgres.appUrl, wsProxy, scope)
  say(`a request runs ${statements.without.length} statements; with its audit row, ${statements.with.length}: + ${statements.added.join(' ')}`)

  const phases: Phase[] = []
  const measure = async (label: string) => {
    const trailRows = Number((await admin.query<{ n: string }>('select count(*) as n from audit_logs')).rows[0]!.n)
    say(`${label}: ${trailRows.toLocaleString('en')} rows in the trail`)
    const sequential = await sequentialCost({ appUrl: postgres.appUrl, wsProxy, scope, requests, maxSeconds, warmup: 150 })
    say(
      `  one at a time, ${sequential.with.requests} rounds: without ${fmt(sequential.without)}; with ${fmt(sequential.with)}; added p50 ${sequential.added.p50} ms, p95 ${sequential.added.p95} ms, p99 ${sequential.added.p99} ms (median of pairs ${sequential.added.pairedMedian} ms); commit not waiting for the flush ${fmt(sequential.noFlush)}; CPU busy ${sequential.with.machine?.busy} (others ${sequential.with.machine?.others})`,
    )
    const insert = await insertTime({ appUrl: postgres.appUrl, wsProxy, scope, repeats: explainRepeats })
    say(
      `  the INSERT in the database: execution p50 ${insert.executionMs.p50} ms, p95 ${insert.executionMs.p95} ms (triggers ${Object.entries(insert.triggerMs)
        .map(([n, t]) => `${n} p50 ${t.p50} ms`)
        .join(', ')}), planning p50 ${insert.planningMs.p50} ms`,
    )
    const sameClinicScopes = measured.staff.map((userId): Scope => ({ clinicId: measured.id, userId, role: 'staff' }))
    const sameClinic = await concurrentCost({ appUrl: postgres.appUrl, wsProxy, scopes: sameClinicScopes, writers, seconds: writerSeconds })
    say(`  ${writers} writers, one clinic: without ${fmtRate(sameClinic.without)}; with ${fmtRate(sameClinic.with)}`)
    const spreadScopes = clinics.slice(0, writers).map((c): Scope => ({ clinicId: c.id, userId: c.staff[0]!, role: 'staff' }))
    const spread = await concurrentCost({ appUrl: postgres.appUrl, wsProxy, scopes: spreadScopes, writers, seconds: writerSeconds })
    say(`  ${writers} writers, ${spread.clinics} clinics: without ${fmtRate(spread.without)}; with ${fmtRate(spread.with)}`)
    await relay.takeStatements() // the relay keeps what it saw until asked
    phases.push({ trailRows, sequential, insert, sameClinic, spread })
  }

  await measure('near-empty trail')
  say(`loading ${rows.toLocaleString('en')} audit rows…`)
  const load: AuditLoadResult = await loadAuditTrail({ superuserUrl: postgres.superuserUrl, clinics, rows, log: (l) => say(l) })
  await measure('big trail')

  const v = await auditVerify(admin, measured.id)
  const verify = { clinic: measured.slug, ok: v.ok, rows: v.rows, reason: v.reason, ms: v.ms }
  say(`audit_verify(${measured.slug}): ${v.ok ? 'ok' : `BROKEN: ${v.reason}`}, ${verify.rows.toLocaleString('en')} rows in ${verify.ms} ms`)
  if (!v.ok) throw new Error(`the measured clinic's audit chain does not verify: ${v.reason}`)

  const big = phases[1]!
  const results = {
    meta: {
      date: new Date().toISOString(),
      rows,
      clinics: clinicCount,
      requests,
      maxSeconds,
      writers,
      writerSeconds,
      explainRepeats,
      request: { statements: statements.without, auditStatements: statements.added },
      load,
      machine: { cpus: cpus().length, loadAverageAtEnd: loadavg(), cpuPressureAtEnd: cpuPressure(), node: process.version },
      totalSeconds: Math.round((performance.now() - startedAt) / 100) / 10,
    },
    targetMs: TARGET_MS,
    met: big.sequential.added.p50 < TARGET_MS && big.sequential.added.p95 < TARGET_MS,
    phases,
    verify,
  }
  const table = markdown(phases, verify)
  mkdirSync(join(REPO, 'bench'), { recursive: true })
  writeFileSync(join(REPO, 'bench', 'audit-results.json'), JSON.stringify({ ...results, table }, null, 2))
  console.log(`\n${table}\n`)
  say(`wrote bench/audit-results.json; total ${results.meta.totalSeconds} s`)
}

// ---------------------------------------------------------------------------------------------------

/** Clinics, each with an admin, staff and referrers (the loaded rows' actors), loaded as the superuser. */
async function createClinics(admin: PgClient, n: number): Promise<(AuditClinic & { slug: string })[]> {
  const clinics = Array.from({ length: n }, (_, c) => ({
    id: crypto.randomUUID(),
    slug: `audit-${String(c + 1).padStart(2, '0')}`,
    staff: Array.from({ length: Math.max(writers, 3) }, () => crypto.randomUUID()),
    referrers: Array.from({ length: 6 }, () => crypto.randomUUID()),
  }))
  const users = clinics.flatMap((c) => [
    ...c.staff.map((id, i) => ({
      id,
      clinic_id: c.id,
      email: `staff${i + 1}@${c.slug}.test`,
      display_name: `Staff ${i + 1}`,
      role: 'staff',
      status: 'active',
    })),
    ...c.referrers.map((id, i) => ({
      id,
      clinic_id: c.id,
      email: `referrer${i + 1}@${c.slug}.test`,
      display_name: `Referrer ${i + 1}`,
      role: 'referrer',
      status: 'active',
    })),
  ])
  await admin.query('begin')
  // Setup, not the code under test: no trigger rows in the trail before the first measurement.
  await admin.query('set local session_replication_role = replica')
  await insertJson(
    admin,
    'clinics',
    clinics.map((c) => ({ id: c.id, slug: c.slug, name: `Audit Bench ${c.slug.slice(6)}`, settings: {} })),
  )
  await insertJson(admin, 'users', users)
  await admin.query('commit')
  return clinics
}

/** The statements of one request without and one with its audit row, as the relay saw them. */
async function statementsOf(relay: Awaited<ReturnType<typeof startRelayProcess>>, appUrl: string, wsProxy: string, scope: Scope) {
  const { db, end } = connectAs(appUrl, wsProxy, 1)
  try {
    await request(db, scope, false) // the connection's own set-up
    await relay.takeStatements()
    await request(db, scope, false)
    const without = await relay.takeStatements()
    await request(db, scope, true)
    const withAudit = await relay.takeStatements()
    // db.tenant sends the row with the commit: as many messages (round trips), the last one carrying the INSERT.
    const added = withAudit.filter((s) => !without.includes(s))
    if (withAudit.length !== without.length || added.length !== 1 || !/^insert into audit_logs [\s\S]*;\s*commit$/i.test(added[0]!)) {
      throw new Error(
        `expected the audited request to send its audit INSERT with the commit:\n  without: ${without.join('\n           ')}\n  with:    ${withAudit.join('\n           ')}`,
      )
    }
    return { without, with: withAudit, added }
  } finally {
    await end()
  }
}

function fmt(s: { p50: number; p95: number; p99: number }) {
  return `p50 ${s.p50} / p95 ${s.p95} / p99 ${s.p99} ms`
}
function fmtRate(s: { rps: number; p50: number; p95: number; p99: number }) {
  return `${s.rps.toFixed(0)} req/s, ${fmt(s)}`
}

function markdown(phases: Phase[], verify: { clinic: string; ok: boolean; rows: number; ms: number }) {
  const [small, big] = phases as [Phase, Phase]
  const head = (p: Phase) => `${p.trailRows.toLocaleString('en')} rows at start`
  const ms = (n: number) => `${n.toFixed(2)} ms`
  const trio = (s: { p50: number; p95: number; p99: number }) => `${ms(s.p50)} / ${ms(s.p95)} / ${ms(s.p99)}`
  const met = (n: number) => (n < TARGET_MS ? 'met' : 'NOT met')
  const rest = (p: Phase) => p.sequential.added.p50 - p.sequential.flushWait.p50 - p.insert.executionMs.p50
  const trigger = (p: Phase) =>
    Object.entries(p.insert.triggerMs)
      .map(([name, t]) => `${name} ${ms(t.p50)}`)
      .join(', ')
  const lines = [
    `| audit row cost (p50 / p95 / p99) | trail: ${head(small)} | trail: ${head(big)} | target |`,
    '|---|---|---|---|',
    `| **added to a request** (with - without, one at a time) | ${trio(small.sequential.added)} | ${trio(big.sequential.added)} | < ${TARGET_MS} ms: p50 ${met(big.sequential.added.p50)}, p95 ${met(big.sequential.added.p95)} |`,
    `| added, median of the pairs | ${ms(small.sequential.added.pairedMedian)} | ${ms(big.sequential.added.pairedMedian)} | |`,
    `| request without the audit row | ${trio(small.sequential.without)} | ${trio(big.sequential.without)} | |`,
    `| request with the audit row | ${trio(small.sequential.with)} | ${trio(big.sequential.with)} | |`,
    `| request with the audit row, commit not waiting for the WAL flush (analysis only) | ${trio(small.sequential.noFlush)} | ${trio(big.sequential.noFlush)} | |`,
    `| of the added time, the commit's WAL flush (with - not waiting) | ${trio(small.sequential.flushWait)} | ${trio(big.sequential.flushWait)} | |`,
    `| the rest, p50: added - flush - execution (the row goes with the commit: no round trip of its own) | ${ms(rest(small))} | ${ms(rest(big))} | |`,
    `| INSERT, database execution time (EXPLAIN ANALYZE) | ${trio(small.insert.executionMs)} | ${trio(big.insert.executionMs)} | |`,
    `| of which triggers, p50 | ${trigger(small)} | ${trigger(big)} | |`,
    `| ${writers} writers, one clinic, without: req/s; latency | ${concurrent(small.sameClinic.without)} | ${concurrent(big.sameClinic.without)} | |`,
    `| ${writers} writers, one clinic, with: req/s; latency | ${concurrent(small.sameClinic.with)} | ${concurrent(big.sameClinic.with)} | |`,
    `| ${writers} writers, ${small.spread.clinics} clinics, without | ${concurrent(small.spread.without)} | ${concurrent(big.spread.without)} | |`,
    `| ${writers} writers, ${small.spread.clinics} clinics, with | ${concurrent(small.spread.with)} | ${concurrent(big.spread.with)} | |`,
    '',
    `Machine during the one-at-a-time runs: CPU busy ${small.sequential.with.machine?.busy} / ${big.sequential.with.machine?.busy}, of which not this bench ${small.sequential.with.machine?.others} / ${big.sequential.with.machine?.others} (near-empty / big).`,
    `audit_verify(${verify.clinic}) at the end: ${verify.ok ? 'ok' : 'BROKEN'}, ${verify.rows.toLocaleString('en')} rows in ${verify.ms} ms.`,
  ]
  return lines.join('\n')

  function concurrent(s: { rps: number; p50: number; p95: number; p99: number }) {
    return `${s.rps.toFixed(0)} req/s; ${trio(s)}`
  }
}
