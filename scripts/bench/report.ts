/** The markdown table printed at the end (and the target verdicts stored in results.json). */
import type { PageProfile } from './profile'
import type { Stats } from './load'
import type { PageJs } from './client-js'
import type { PageKind } from './baseline'
import type { ServerTime } from './explain'

export const PAGE_LABELS: Record<PageKind, string> = {
  queue: 'Queue, first page',
  'queue-deep': 'Queue, page 500 deep',
  detail: 'Referral detail',
  submit: 'Submit a referral',
  'api-list': 'API list',
  turnaround: 'Turnaround dashboard',
}

export type RoundTrips = { app: number; connections: number | null; transactions: number | null; statements?: number; baseline: number | null }

export type Results = {
  meta: Record<string, unknown>
  load: Record<PageKind, Record<string, Stats>>
  baseline: { perRequest: Record<PageKind, Record<string, Stats>>; warm: Record<'rls' | 'norls', Record<PageKind, Record<string, Stats>>> }
  roundTrips: Record<PageKind, RoundTrips>
  /** The database's own time per page (planning + execution of its statements), with and without RLS. */
  serverTime: Record<'rls' | 'norls', Record<string, ServerTime>>
  clientJs: Record<string, PageJs & { fromHtml?: PageJs }>
  /** --profile: where workerd's CPU went, per page (profile.ts). */
  profiles?: Record<string, PageProfile>
}

export type Verdict = { measure: string; target: string; result: string; met: boolean | null }

const ms = (n: number | undefined) => (n === undefined || Number.isNaN(n) ? '—' : n < 1 ? n.toFixed(3) : n < 10 ? n.toFixed(2) : n.toFixed(1))
const ratio = (a: number | undefined, b: number | undefined) => (a && b ? a / b : NaN)
const x = (n: number) => (Number.isNaN(n) ? '—' : `${n.toFixed(2)}×`)
const pct = (n: number | null | undefined) => (n === null || n === undefined ? '—' : `${Math.round(n * 100)}%`)
const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`

export function verdicts(r: Results, pages: PageKind[], concurrencies: number[]): Verdict[] {
  const hi = String(Math.max(...concurrencies))
  const lo = String(Math.min(...concurrencies))
  const out: Verdict[] = []
  const queueHi = r.load.queue?.[hi]
  out.push({ measure: `queue p95 at concurrency ${hi}`, target: '≤ 50 ms', result: `${ms(queueHi?.p95)} ms`, met: queueHi ? queueHi.p95 <= 50 : null })
  const deepLo = ratio(r.load['queue-deep']?.[lo]?.p50, r.load.queue?.[lo]?.p50)
  const deepHi = ratio(r.load['queue-deep']?.[hi]?.p95, r.load.queue?.[hi]?.p95)
  out.push({
    measure: 'the deep page vs the first page',
    target: '≤ 1.2×',
    result: `p50 at c${lo}: ${x(deepLo)}, p95 at c${hi}: ${x(deepHi)}`,
    met: Number.isNaN(deepLo) ? null : deepLo <= 1.2 && (Number.isNaN(deepHi) || deepHi <= 1.2),
  })
  const det = concurrencies.map((c) => r.load.detail?.[String(c)]).filter(Boolean) as Stats[]
  out.push({
    measure: 'referral detail p95',
    target: '≤ 60 ms',
    result: concurrencies.map((c) => `c${c}: ${ms(r.load.detail?.[String(c)]?.p95)} ms`).join(', '),
    met: det.length ? det.every((s) => s.p95 <= 60) : null,
  })
  const rls = pages.map((p) => ({ p, v: ratio(r.serverTime.rls[p]?.totalMs, r.serverTime.norls[p]?.totalMs) })).filter((e) => !Number.isNaN(e.v))
  const worst = rls.reduce((a, b) => (b.v > a.v ? b : a), rls[0] ?? { p: 'queue' as PageKind, v: NaN })
  const e2e = pages.map((p) => ratio(r.baseline.warm.rls[p]?.[lo]?.p50, r.baseline.warm.norls[p]?.[lo]?.p50)).filter((v) => !Number.isNaN(v))
  out.push({
    measure: 'RLS overhead (database time per page, RLS / no RLS)',
    target: '≤ 1.15×',
    result: rls.length
      ? `worst ${x(worst.v)} (${PAGE_LABELS[worst.p]}); end to end on a warm connection, p50 at c${lo}: ${e2e.length ? `${x(Math.min(...e2e))} to ${x(Math.max(...e2e))}` : '—'}`
      : '—',
    met: rls.length ? rls.every((e) => e.v <= 1.15) : null,
  })
  const trips = pages.map((p) => ({ p, n: r.roundTrips[p]?.app ?? NaN })).filter((e) => !Number.isNaN(e.n))
  const most = trips.reduce((a, b) => (b.n > a.n ? b : a), trips[0] ?? { p: 'queue' as PageKind, n: NaN })
  out.push({
    measure: 'database round trips per page',
    target: '≤ 3',
    result: trips.length ? `${trips.map((t) => t.n).join(' / ')} (worst ${most.n}: ${PAGE_LABELS[most.p]})` : '—',
    met: trips.length ? trips.every((t) => t.n <= 3) : null,
  })
  let errors = 0
  let unexpected = 0
  for (const p of pages) for (const s of Object.values(r.load[p] ?? {})) ((errors += s.errors), (unexpected += s.unexpectedCount))
  out.push({ measure: 'errors', target: '0', result: `${errors} errors, ${unexpected} unexpected statuses`, met: errors + unexpected === 0 })
  const form = r.clientJs['routes/_app.referrals.new']
  out.push({ measure: "referrer's form JavaScript", target: '≤ 120 KB gzip', result: form ? kb(form.gzip) : '—', met: form ? form.gzip <= 120 * 1024 : null })
  return out
}

/** What each page may cost: workerd CPU per request (ms) and app / floor (p50 at the lowest concurrency). */
const CPU_TARGETS: Partial<Record<PageKind, number>> = { queue: 8, 'queue-deep': 8, detail: 8, 'api-list': 5 }
const APP_FLOOR_TARGET = 1.5
const ROUND_TRIP_TARGET = 4

/**
 * The first table the bench prints: what a page costs (workerd and PostgreSQL CPU per request,
 * app / floor, round trips) beside its target, and the run-wide targets under it.
 */
export function headline(r: Results, pages: PageKind[], concurrencies: number[]): string {
  const lo = String(Math.min(...concurrencies))
  const hi = String(Math.max(...concurrencies))
  const mark = (met: boolean | null) => (met === null ? '' : met ? 'met' : '**missed**')
  const cpu = (s: Stats | undefined, part: string) => (s?.machine?.cpuMs && s.requests ? (s.machine.cpuMs[part] ?? 0) / s.requests : NaN)
  const lines = [
    `### Headline: what a page costs (c${lo}; CPU from /proc; app -> database path: ${r.meta.connectionPath ?? 'direct'})`,
    '',
    `| page | workerd CPU ms / request | target | PostgreSQL CPU ms / request | app p50 / floor p50 | target | round trips | target | others' CPU during the run |`,
    '|---|---:|---|---:|---:|---|---:|---|---:|',
  ]
  for (const p of pages) {
    const s = r.load[p]?.[lo]
    const workerd = cpu(s, 'workerd')
    const target = CPU_TARGETS[p]
    const appFloor = ratio(s?.p50, r.baseline.warm.rls[p]?.[lo]?.p50)
    const trips = r.roundTrips[p]?.app
    lines.push(
      `| ${PAGE_LABELS[p]} | ${ms(workerd)} | ${target ? `≤ ${target} ${mark(Number.isNaN(workerd) ? null : workerd <= target)}` : '—'} | ${ms(cpu(s, 'postgres'))} | ${x(appFloor)} | ≤ ${APP_FLOOR_TARGET}× ${mark(Number.isNaN(appFloor) ? null : appFloor <= APP_FLOOR_TARGET)} | ${trips ?? '—'} | ≤ ${ROUND_TRIP_TARGET} ${mark(trips === undefined ? null : trips <= ROUND_TRIP_TARGET)} | ${pct(s?.machine?.others)} |`,
    )
  }
  const queueHi = r.load.queue?.[hi]
  const rls = pages.map((p) => ratio(r.serverTime.rls[p]?.totalMs, r.serverTime.norls[p]?.totalMs)).filter((v) => !Number.isNaN(v))
  const rlsExecution = pages.map((p) => ratio(r.serverTime.rls[p]?.executionMs, r.serverTime.norls[p]?.executionMs)).filter((v) => !Number.isNaN(v))
  const form = r.clientJs['routes/_app.referrals.new']
  lines.push(
    '',
    '| run-wide measure | result | target | |',
    '|---|---:|---|---|',
    `| queue throughput at c${hi} | ${queueHi ? `${queueHi.rps.toFixed(1)} req/s (others ${pct(queueHi.machine?.others)})` : '—'} | ≥ 80 req/s | ${mark(queueHi ? queueHi.rps >= 80 : null)} |`,
    `| RLS / no RLS, database time, worst page | ${rls.length ? x(Math.max(...rls)) : '—'} | ≤ 1.15× | ${mark(rls.length ? Math.max(...rls) <= 1.15 : null)} |`,
    `| the same, execution alone (plans reused, as a statement prepared per connection) | ${rlsExecution.length ? x(Math.max(...rlsExecution)) : '—'} | ≤ 1.15× | ${mark(rlsExecution.length ? Math.max(...rlsExecution) <= 1.15 : null)} |`,
    `| JavaScript on the referrer's form | ${form ? `${kb(form.gzip)} gzip` : '—'} | ≤ 80 KB gzip | ${mark(form ? form.gzip <= 80 * 1024 : null)} |`,
  )
  return lines.join('\n')
}

export function markdown(r: Results, pages: PageKind[], concurrencies: number[], verdictList: Verdict[]): string {
  const lines: string[] = [headline(r, pages, concurrencies), '']
  const lo = String(Math.min(...concurrencies))
  lines.push(
    `### Load on the app (workerd), clinic of ${r.meta.bigClinicReferrals} referrals, ${r.meta.durationSeconds} s per row; floor = the same SQL from Node on a warm connection`,
  )
  lines.push('')
  lines.push(
    '| page | conc. | req/s | p50 ms | p95 ms | p99 ms | errors | unexpected status | floor req/s | floor p50 ms | app/floor (p50) | CPU busy (others) |',
  )
  lines.push('|---|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|')
  for (const p of pages) {
    for (const c of concurrencies) {
      const s = r.load[p]?.[String(c)]
      const f = r.baseline.warm.rls[p]?.[String(c)]
      if (!s) continue
      const bad =
        Object.entries(s.unexpected)
          .map(([code, n]) => `${n}× ${code}`)
          .join(', ') || '0'
      lines.push(
        `| ${PAGE_LABELS[p]} | ${c} | ${s.rps.toFixed(1)}${s.capped ? '*' : ''} | ${ms(s.p50)} | ${ms(s.p95)} | ${ms(s.p99)} | ${s.errors} | ${bad} | ${f ? f.rps.toFixed(1) : '—'} | ${ms(f?.p50)} | ${x(ratio(s.p50, f?.p50))} | ${pct(s.machine?.busy)} (${pct(s.machine?.others)}) |`,
      )
    }
  }
  if (pages.some((p) => Object.values(r.load[p] ?? {}).some((s) => s.capped)))
    lines.push('', '\\* stopped at its request cap (the per-user rate-limit budget) before the full duration.')
  lines.push('')
  lines.push('### CPU time per request during the app runs (ms, all cores; from /proc)')
  lines.push('')
  lines.push('| page | conc. | workerd (app) | postgres | pgbouncer | relay | load generator | total |')
  lines.push('|---|---:|---:|---:|---:|---:|---:|---:|')
  for (const p of pages) {
    for (const c of concurrencies) {
      const s = r.load[p]?.[String(c)]
      const cpu = s?.machine?.cpuMs
      if (!s || !cpu || !s.requests) continue
      const per = (k: string) => (cpu[k] ?? 0) / s.requests
      const total = Object.keys(cpu).reduce((n, k) => n + per(k), 0)
      lines.push(
        `| ${PAGE_LABELS[p]} | ${c} | ${per('workerd').toFixed(1)} | ${per('postgres').toFixed(1)} | ${per('pgbouncer').toFixed(1)} | ${per('relay').toFixed(1)} | ${per('bench').toFixed(1)} | ${total.toFixed(1)} |`,
      )
    }
  }
  lines.push('')
  lines.push(`PostgreSQL CPU per page at c${lo} (ms): what a new connection costs the server. The app's path: ${r.meta.connectionPath ?? 'direct'}`)
  lines.push('')
  lines.push('| page | app | (PgBouncer, app) | same SQL from Node, new connection per page | same SQL from Node, warm connection |')
  lines.push('|---|---:|---:|---:|---:|')
  const pgPer = (s: Stats | undefined, part = 'postgres') => (s?.machine?.cpuMs && s.requests ? ((s.machine.cpuMs[part] ?? 0) / s.requests).toFixed(1) : '—')
  for (const p of pages)
    lines.push(
      `| ${PAGE_LABELS[p]} | ${pgPer(r.load[p]?.[lo])} | ${pgPer(r.load[p]?.[lo], 'pgbouncer')} | ${pgPer(r.baseline.perRequest[p]?.[lo])} | ${pgPer(r.baseline.warm.rls[p]?.[lo])} |`,
    )
  lines.push('')
  lines.push('### The same SQL without the app (Node, Neon driver): RLS overhead, and a new connection per page')
  lines.push('')
  lines.push(
    '| page | conc. | RLS p50 ms | RLS p95 ms | no-RLS p50 ms | no-RLS p95 ms | RLS / no-RLS (p50) | new connection per page, p50 ms | database time, RLS ms | database time, no RLS ms | RLS / no-RLS (database) | of it execution, RLS / no RLS ms | RLS / no-RLS (execution) |',
  )
  lines.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|')
  for (const p of pages) {
    for (const c of concurrencies) {
      const a = r.baseline.warm.rls[p]?.[String(c)]
      const b = r.baseline.warm.norls[p]?.[String(c)]
      if (!a && !b) continue
      const first = c === concurrencies[0]
      const sa = r.serverTime.rls[p]?.totalMs
      const sb = r.serverTime.norls[p]?.totalMs
      lines.push(
        `| ${PAGE_LABELS[p]} | ${c} | ${ms(a?.p50)} | ${ms(a?.p95)} | ${ms(b?.p50)} | ${ms(b?.p95)} | ${x(ratio(a?.p50, b?.p50))} | ${ms(r.baseline.perRequest[p]?.[String(c)]?.p50)} | ${first ? ms(sa) : ''} | ${first ? ms(sb) : ''} | ${first ? x(ratio(sa, sb)) : ''} | ${first ? `${ms(r.serverTime.rls[p]?.executionMs)} / ${ms(r.serverTime.norls[p]?.executionMs)}` : ''} | ${first ? x(ratio(r.serverTime.rls[p]?.executionMs, r.serverTime.norls[p]?.executionMs)) : ''} |`,
      )
    }
  }
  const scram = r.meta.queueWithDefaultScram as { iterations: number; stats: Stats } | null
  if (scram) {
    const base = r.load.queue?.[lo]
    lines.push('')
    lines.push(
      `Connection set-up: with the roles' SCRAM verifiers at ${scram.iterations} iterations (PostgreSQL's default, as \`npm start\` runs) instead of ${r.meta.scramIterations}, the queue's first page at c1 takes p50 ${ms(scram.stats.p50)} ms / p95 ${ms(scram.stats.p95)} ms (${scram.stats.rps.toFixed(1)} req/s) instead of p50 ${ms(base?.p50)} ms.`,
    )
  }
  lines.push('')
  lines.push('### Database round trips for one request')
  lines.push('')
  lines.push('| page | round trips (relay, client→server messages) | connections opened | transactions | SQL statements | same SQL from Node (round trips) |')
  lines.push('|---|---:|---:|---:|---:|---:|')
  for (const p of pages) {
    const t = r.roundTrips[p]
    if (t) lines.push(`| ${PAGE_LABELS[p]} | ${t.app} | ${t.connections ?? '—'} | ${t.transactions ?? '—'} | ${t.statements ?? '—'} | ${t.baseline ?? '—'} |`)
  }
  lines.push('')
  lines.push('### Client JavaScript per page (gzip -9, from the build manifest)')
  lines.push('')
  lines.push('| page | route | files | raw | gzip | rendered page references (gzip) |')
  lines.push('|---|---|---:|---:|---:|---:|')
  const names: Record<string, string> = {
    'routes/_app.referrals.new': "Referrer's form",
    'routes/_app.queue': 'Queue',
    'routes/_app.referrals.$id': 'Referral',
  }
  for (const [route, js] of Object.entries(r.clientJs)) {
    lines.push(
      `| ${names[route] ?? route} | \`${route}\` | ${js.files.length} | ${kb(js.bytes)} | ${kb(js.gzip)} | ${js.fromHtml ? kb(js.fromHtml.gzip) : '—'} |`,
    )
  }
  lines.push('')
  lines.push('### Targets')
  lines.push('')
  lines.push('| measure | target | result | |')
  lines.push('|---|---|---|---|')
  for (const v of verdictList) lines.push(`| ${v.measure} | ${v.target} | ${v.result} | ${v.met === null ? 'not measured' : v.met ? 'met' : '**missed**'} |`)
  return lines.join('\n')
}
