/**
 * What recording an audit row adds to a request (decision 016), measured with the app's own code:
 * createTenantDatabase(...).tenant (the set_config transaction) and recordAudit, through the Neon
 * driver and the relay, as the runtime role (RLS on, the chain trigger running as it does in
 * production).
 *
 * A "request" is one tenant transaction that reads the clinic's row, as every page reads
 * something; the audited request is the same transaction plus recordAudit. The difference is what
 * the audit row costs: the INSERT, sent with the commit in one message (no round trip of its
 * own), the chain trigger (head row locked FOR UPDATE until commit, sha256 of the canonical row,
 * head updated), the index insertions, and a commit that now has WAL to flush (a read-only
 * transaction has none).
 */
import { Pool } from '@neondatabase/serverless'
import { eq, sql } from 'drizzle-orm'
import { recordAudit, type AuditRequest } from '../../app/audit/audit.server'
import type { Database } from '../../app/db/client.server'
import { clinics } from '../../app/db/schema'
import { createTenantDatabase, type TenantScope } from '../../app/tenancy/tenant.server'
import { connectAs, type QueryLog } from './baseline'
import { fromRaw, percentile, runLoopRaw, summarize, type RawRun, type Stats } from './load'
import { machineMeter } from './machine'

export type Scope = TenantScope & { clinicId: string; userId: string }
export type Added = { p50: number; p95: number; p99: number; pairedMedian: number }
export type Sequential = {
  without: Stats
  with: Stats
  /** With the audit row, the commit not waiting for the WAL flush (analysis only). */
  noFlush: Stats
  added: Added
  /** with - noFlush: the part of the added time that is the commit's WAL flush. */
  flushWait: Percentiles
}
export type Concurrent = { writers: number; clinics: number; without: Stats; with: Stats }
export type InsertTime = { repeats: number; planningMs: Percentiles; executionMs: Percentiles; triggerMs: Record<string, Percentiles> }
type Percentiles = { p50: number; p95: number; p99: number }

const round = (n: number) => Math.round(n * 1000) / 1000

const auditRequest = (): AuditRequest => ({ requestId: crypto.randomUUID(), ip: '10.0.0.7', userAgent: 'IntakePilot-bench-audit/1.0' })

/** One request's transaction, with or without its audit row. */
export async function request(db: Database, scope: Scope, withAudit: boolean) {
  await createTenantDatabase(db, scope).tenant(async (tx) => {
    const [clinic] = await tx.select({ id: clinics.id, name: clinics.name }).from(clinics).where(eq(clinics.id, scope.clinicId))
    if (!clinic) throw new Error('the clinic is not visible in its own tenant context')
    if (withAudit) await recordAudit(tx, scope, auditRequest(), { action: 'referral.read', entityType: 'referral', entityId: crypto.randomUUID() })
  })
}

/**
 * One connection, requests one after another: without the audit row, with it, and with it on a
 * second connection whose commits do not wait for the WAL flush (synchronous_commit off, for the
 * analysis only: it splits the added time into the flush a writing commit waits for and the
 * rest). The order rotates every round, so that anything else the machine does lands on all.
 * `requests` rounds, or fewer if `maxSeconds` runs out first (a busy machine).
 */
export async function sequentialCost(options: {
  appUrl: string
  wsProxy: string
  scope: Scope
  requests: number
  maxSeconds: number
  warmup: number
}): Promise<Sequential> {
  const sync = connectAs(options.appUrl, options.wsProxy, 1)
  const async = connectAs(options.appUrl, options.wsProxy, 1)
  try {
    await async.db.execute(sql`set synchronous_commit = off`)
    const kinds = {
      without: () => request(sync.db, options.scope, false),
      with: () => request(sync.db, options.scope, true),
      noFlush: () => request(async.db, options.scope, true),
    }
    const order = Object.keys(kinds) as (keyof typeof kinds)[]
    for (let i = 0; i < options.warmup; i++) await kinds[order[i % 3]!]()
    const times = { without: [] as number[], with: [] as number[], noFlush: [] as number[] }
    const meter = machineMeter()
    const started = performance.now()
    const deadline = started + options.maxSeconds * 1000
    for (let i = 0; i < options.requests && performance.now() < deadline; i++) {
      for (let k = 0; k < 3; k++) {
        const kind = order[(i + k) % 3]!
        const t = performance.now()
        await kinds[kind]()
        times[kind].push(performance.now() - t)
      }
    }
    const seconds = (performance.now() - started) / 1000
    const machine = meter()
    const setting = await async.db.execute<{ synchronous_commit: string }>(sql`show synchronous_commit`)
    if (setting.rows[0]?.synchronous_commit !== 'off') throw new Error('the no-flush connection lost its setting: the split is void')
    const extra = { errors: 0, unexpected: {}, unexpectedCount: 0, statuses: {}, capped: false, machine }
    const [without, withAudit, noFlush] = [times.without, times.with, times.noFlush].map((t) => summarize(t, seconds / 3, extra)) as [Stats, Stats, Stats]
    const diffs = times.with.map((t, i) => t - times.without[i]!).sort((a, b) => a - b)
    return {
      without,
      with: withAudit,
      noFlush,
      added: {
        p50: round(withAudit.p50 - without.p50),
        p95: round(withAudit.p95 - without.p95),
        p99: round(withAudit.p99 - without.p99),
        pairedMedian: round(percentile(diffs, 50)),
      },
      flushWait: { p50: round(withAudit.p50 - noFlush.p50), p95: round(withAudit.p95 - noFlush.p95), p99: round(withAudit.p99 - noFlush.p99) },
    }
  } finally {
    await sync.end()
    await async.end()
  }
}

/**
 * `writers` connections at once, each request on the next of `scopes` (one clinic: every writer
 * waits for the chain head that the one before holds until its commit; several clinics: heads
 * apart). Without and with the audit row in alternating halves.
 */
export async function concurrentCost(options: { appUrl: string; wsProxy: string; scopes: Scope[]; writers: number; seconds: number }): Promise<Concurrent> {
  const { db, end } = connectAs(options.appUrl, options.wsProxy, options.writers)
  try {
    const run = (withAudit: boolean, seconds: number) =>
      runLoopRaw({ concurrency: options.writers, durationSeconds: seconds, fn: (i) => request(db, options.scopes[i % options.scopes.length]!, withAudit) })
    await run(true, 0.5) // opens the pool's connections
    const runs: Record<'without' | 'with', RawRun[]> = { without: [], with: [] }
    for (const withAudit of [false, true, false, true]) runs[withAudit ? 'with' : 'without'].push(await run(withAudit, options.seconds / 2))
    for (const r of [...runs.with, ...runs.without]) if (r.errors) throw new Error(`${r.errors} requests failed with ${options.writers} writers`)
    return { writers: options.writers, clinics: new Set(options.scopes.map((s) => s.clinicId)).size, without: fromRaw(runs.without), with: fromRaw(runs.with) }
  } finally {
    await end()
  }
}

/**
 * The database's own time for the audit INSERT that recordAudit sends (captured from Drizzle,
 * then run again as EXPLAIN ANALYZE with the same parameters, in the same tenant context, as the
 * runtime role, in a transaction that is rolled back): planning, execution, and the triggers'
 * share of it (the chain trigger runs inside the statement).
 */
export async function insertTime(options: { appUrl: string; wsProxy: string; scope: Scope; repeats: number }): Promise<InsertTime> {
  const log: QueryLog = []
  const logged = connectAs(options.appUrl, options.wsProxy, 1, log)
  try {
    await createTenantDatabase(logged.db, options.scope).tenant((tx) =>
      recordAudit(tx, options.scope, auditRequest(), { action: 'referral.read', entityType: 'referral', entityId: crypto.randomUUID() }),
    )
  } finally {
    await logged.end()
  }
  const context = log.find((q) => /set_config\('app\.clinic_id'/.test(q.sql))
  // Sent with the commit (db.tenant): the INSERT is the message without its trailing commit, values as literals.
  const carried = log.find((q) => /^insert into audit_logs /i.test(q.sql))
  const insert = carried && { sql: carried.sql.replace(/;\ncommit$/, ''), params: carried.params }
  if (!context || !insert) throw new Error(`recordAudit's statements were not captured: ${log.map((q) => q.sql.slice(0, 40)).join(' / ')}`)

  const pool = new Pool({ connectionString: options.appUrl, max: 1 })
  pool.on('error', () => {})
  const client = await pool.connect()
  const samples = { planning: [] as number[], execution: [] as number[], triggers: {} as Record<string, number[]> }
  try {
    for (let i = 0; i < options.repeats + 10; i++) {
      await client.query('begin')
      try {
        await client.query(context.sql, context.params)
        const result = await client.query(`explain (analyze, format json) ${insert.sql}`, insert.params)
        const plan = (result.rows[0] as { 'QUERY PLAN': ExplainJson[] })['QUERY PLAN'][0]!
        if (i < 10) continue // the connection's first plans and cache misses
        samples.planning.push(plan['Planning Time'])
        samples.execution.push(plan['Execution Time'])
        for (const trigger of plan.Triggers ?? []) (samples.triggers[trigger['Trigger Name']] ??= []).push(trigger.Time)
      } finally {
        await client.query('rollback')
      }
    }
  } finally {
    client.release()
    await pool.end()
  }
  const pct = (values: number[]): Percentiles => {
    const sorted = [...values].sort((a, b) => a - b)
    return { p50: round(percentile(sorted, 50)), p95: round(percentile(sorted, 95)), p99: round(percentile(sorted, 99)) }
  }
  return {
    repeats: options.repeats,
    planningMs: pct(samples.planning),
    executionMs: pct(samples.execution),
    triggerMs: Object.fromEntries(Object.entries(samples.triggers).map(([name, values]) => [name, pct(values)])),
  }
}

type ExplainJson = { 'Planning Time': number; 'Execution Time': number; Triggers?: { 'Trigger Name': string; Time: number; Calls: number }[] }
