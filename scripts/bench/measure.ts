/**
 * The measurements proper: load on the app (autocannon), the same SQL from Node (the floor with
 * RLS, and without), and each page's query plans and database time.
 */
import { connectAs, perRequest, type Mode, type PageKind, type PageWork } from './baseline'
import { explainPage, type PlanReport, type ServerTime } from './explain'
import { fromRaw, runAutocannon, runLoop, runLoopRaw, type RawRun, type Stats } from './load'
import type { PgClient } from './pg'
import { PAGE_LABELS, type Results } from './report'
import type { PageSpec } from './requests'
import { setScramIterations, type RateLimitSettings } from './stack'

type Say = (line: string) => void
type Database = { appUrl: string; ownerUrl: string; wsProxy: string }

/** Autocannon on every page at every concurrency, then the queue with PostgreSQL's default SCRAM iterations. */
export async function loadTheApp(o: {
  appOrigin: string
  admin: PgClient
  pages: PageKind[]
  specs: Record<PageKind, PageSpec>
  concurrencies: number[]
  duration: number
  rateLimit: RateLimitSettings
  scramIterations: number
  staffCount: number
  say: Say
}) {
  const { appOrigin, admin, specs, duration, rateLimit, say } = o
  const load = {} as Results['load']
  const limit = rateLimit.perUser
  for (const p of o.pages) {
    load[p] = {}
    for (const c of o.concurrencies) {
      await resetRateLimits(admin)
      await runAutocannon({
        origin: appOrigin,
        connections: c,
        durationSeconds: 60,
        maxRequests: Math.max(c * 3, 20),
        expectStatus: specs[p].expect,
        next: specs[p].next,
      })
      await resetRateLimits(admin)
      // Stay inside the per-user budget of this minute window (users rotate every request).
      const cap = rateLimit.overrides.length || !limit ? 10_000_000 : Math.floor(specs[p].users * limit * 0.95)
      const stats = await runAutocannon({
        origin: appOrigin,
        connections: c,
        durationSeconds: duration,
        maxRequests: cap,
        expectStatus: specs[p].expect,
        next: specs[p].next,
      })
      load[p][String(c)] = stats
      say(
        `app  ${PAGE_LABELS[p].padEnd(22)} c${String(c).padEnd(3)} ${stats.rps.toFixed(1).padStart(7)} req/s  p50 ${stats.p50} ms  p95 ${stats.p95} ms  p99 ${stats.p99} ms  errors ${stats.errors}  unexpected ${JSON.stringify(stats.unexpected)}${stats.capped ? '  (capped)' : ''}  CPU busy ${stats.machine?.busy} (others ${stats.machine?.others})`,
      )
    }
  }
  // Connection set-up as `npm start` has it: PostgreSQL's default 4096 SCRAM iterations.
  let scramDefault: { iterations: number; stats: Stats } | null = null
  if (o.scramIterations !== 4096) {
    await setScramIterations(admin, 4096)
    await resetRateLimits(admin)
    await runAutocannon({ origin: appOrigin, connections: 1, durationSeconds: 60, maxRequests: 5, expectStatus: 200, next: specs.queue.next })
    const stats = await runAutocannon({
      origin: appOrigin,
      connections: 1,
      durationSeconds: duration,
      maxRequests: Math.floor(o.staffCount * (limit || 100) * 0.9),
      expectStatus: 200,
      next: specs.queue.next,
    })
    scramDefault = { iterations: 4096, stats }
    say(`app  Queue, first page with 4096 SCRAM iterations, c1: ${stats.rps.toFixed(1)} req/s  p50 ${stats.p50} ms  p95 ${stats.p95} ms`)
    await setScramIterations(admin, o.scramIterations)
  }
  await resetRateLimits(admin)
  return { load, scramDefault }
}

/** The same SQL from Node: on warm connections with and without RLS, then a new connection per page. */
export async function runBaselines(o: {
  database: Database
  pages: PageKind[]
  work: PageWork
  concurrencies: number[]
  baselineDuration: number
  rlsDuration: number
  say: Say
}) {
  const { database, work, concurrencies, say } = o
  const baseline: Results['baseline'] = {
    perRequest: {} as Results['baseline']['perRequest'],
    warm: { rls: {} as Results['baseline']['perRequest'], norls: {} as Results['baseline']['perRequest'] },
  }
  // The floor (RLS) and the same without RLS, interleaved (RLS, no RLS, RLS, no RLS: half the time
  // each) so that a change in the machine's other load does not land on one side only.
  for (const p of o.pages) {
    baseline.warm.rls[p] = {}
    baseline.warm.norls[p] = {}
    for (const c of concurrencies) {
      const pools = { rls: connectAs(database.appUrl, database.wsProxy, 2 * c), norls: connectAs(database.ownerUrl, database.wsProxy, 2 * c) }
      try {
        const runs: Record<Mode, RawRun[]> = { rls: [], norls: [] }
        for (const mode of ['rls', 'norls'] as Mode[]) await runLoopRaw({ concurrency: c, durationSeconds: 0.5, fn: (i) => work[p](pools[mode].db, mode, i) }) // open the pools' connections
        for (const mode of ['rls', 'norls', 'rls', 'norls'] as Mode[]) {
          runs[mode].push(await runLoopRaw({ concurrency: c, durationSeconds: o.baselineDuration / 2, fn: (i) => work[p](pools[mode].db, mode, i) }))
        }
        for (const mode of ['rls', 'norls'] as Mode[]) {
          const stats = fromRaw(runs[mode])
          baseline.warm[mode][p][String(c)] = stats
          say(
            `sql  ${PAGE_LABELS[p].padEnd(22)} c${String(c).padEnd(3)} ${stats.rps.toFixed(1).padStart(7)} req/s  p50 ${stats.p50} ms  p95 ${stats.p95} ms  (warm connection, ${mode === 'rls' ? 'RLS: the floor' : 'no RLS'})  CPU busy ${stats.machine?.busy} (others ${stats.machine?.others})`,
          )
        }
      } finally {
        await pools.rls.end()
        await pools.norls.end()
      }
    }
  }
  // A new connection for every page, as the app has on Workers (Node's Web Crypto makes SCRAM dearer than workerd's).
  for (const p of o.pages) {
    baseline.perRequest[p] = {}
    const c = Math.min(...concurrencies)
    const stats = await runLoop({
      concurrency: c,
      durationSeconds: o.rlsDuration,
      fn: perRequest(database.appUrl, database.wsProxy, (db, i) => work[p](db, 'rls', i)),
    })
    baseline.perRequest[p][String(c)] = stats
    say(
      `node ${PAGE_LABELS[p].padEnd(22)} c${String(c).padEnd(3)} ${stats.rps.toFixed(1).padStart(7)} req/s  p50 ${stats.p50} ms  p95 ${stats.p95} ms  (new connection per page, RLS)  CPU busy ${stats.machine?.busy} (others ${stats.machine?.others})`,
    )
  }
  return baseline
}

/** Query plans and the database's own time per page, with and without RLS. */
export async function explainPages(o: { database: Database; pages: PageKind[]; work: PageWork; say: Say }) {
  const { database, work, say } = o
  const plans: Record<string, PlanReport[]> = {}
  const serverTime = { rls: {}, norls: {} } as Record<Mode, Record<string, ServerTime>>
  for (const p of o.pages) {
    for (const mode of ['rls', 'norls'] as Mode[]) {
      const url = mode === 'rls' ? database.appUrl : database.ownerUrl
      const result = await explainPage({ driverUrl: url, directUrl: url, wsProxy: database.wsProxy, mode, repeats: 9, run: (db, m, i) => work[p](db, m, i) })
      serverTime[mode][p] = result.server
      if (mode === 'rls') plans[p] = result.plans
    }
    for (const plan of plans[p]!.filter((q) => q.warning))
      say(`plan warning, ${PAGE_LABELS[p]}: ${plan.warning} (${plan.executionMs} ms): ${plan.sql.slice(0, 160)}…`)
    say(
      `database time, ${PAGE_LABELS[p]}: ${serverTime.rls[p]!.totalMs} ms with RLS, ${serverTime.norls[p]!.totalMs} ms without (planning + execution of its ${serverTime.rls[p]!.statements.length} statements)`,
    )
  }
  return { plans, serverTime }
}

export async function resetRateLimits(admin: PgClient) {
  await admin.query('delete from rate_limits').catch(() => {})
}
