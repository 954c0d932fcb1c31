/**
 * Round trips, connections and transactions for one request of each page, from the app and from
 * the same SQL in Node (baseline.ts), counted at the relay and in pg_stat_database; and whether the
 * two send the same statements (a baseline that drifted from the app measures something else).
 */
import { perRequest, type PageKind, type PageWork } from './baseline'
import { sleep } from './cleanup'
import { connectPg } from './pg'
import type { RelayHandle } from './relay-process'
import { PAGE_LABELS, type RoundTrips } from './report'
import { fetchSpec, type PageSpec } from './requests'

type DbStats = { sessions: number; xacts: number }
export type StatementDrift = { onlyInApp: string[]; onlyInBaseline: string[] }

export async function countRoundTrips(o: {
  appOrigin: string
  relay: RelayHandle
  superuserUrl: string
  appUrl: string
  wsProxy: string
  pages: PageKind[]
  specs: Record<PageKind, PageSpec>
  work: PageWork
  say: (line: string) => void
}) {
  const { appOrigin, relay, superuserUrl, specs, work, say } = o
  const statsNoise = await calibrate(relay, superuserUrl)
  const roundTrips = {} as Record<PageKind, RoundTrips>
  const median = (values: (number | null)[]) => {
    const sorted = values.filter((v): v is number => v !== null).sort((a, b) => a - b)
    return sorted.length ? sorted[Math.floor(sorted.length / 2)]! : null
  }
  const statementDrift: Record<string, StatementDrift> = {}
  const statementLists: Record<string, string[]> = {}
  for (const p of o.pages) {
    for (let i = 0; i < 3; i++) await fetchSpec(appOrigin, specs[p].next(i)) // warm; also opens the referral the counts use
    const appCounts = []
    const nodeCounts = []
    for (let k = 0; k < 3; k++) {
      appCounts.push(
        await countDbWork(relay, superuserUrl, statsNoise, async () => {
          const r = await fetchSpec(appOrigin, specs[p].next(0))
          if (r.status !== specs[p].expect) throw new Error(`${p}: ${r.status}`)
        }),
      )
      nodeCounts.push(await countDbWork(relay, superuserUrl, statsNoise, () => perRequest(o.appUrl, o.wsProxy, (db, i) => work[p](db, 'rls', i))(0)))
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
    say(
      `round trips, ${PAGE_LABELS[p]}: app ${t.app} (${t.connections} connections, ${t.transactions} transactions, ${appStatements.length} statements), same SQL from Node ${t.baseline}`,
    )
    for (const sql of drift.onlyInApp) say(`  BASELINE DRIFT: the app runs, the baseline does not: ${sql.slice(0, 140)}`)
    for (const sql of drift.onlyInBaseline) say(`  BASELINE DRIFT: the baseline runs, the app does not: ${sql.slice(0, 140)}`)
  }
  return { roundTrips, statementDrift, statementLists }
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

async function dbStats(superuserUrl: string): Promise<DbStats> {
  // A fresh connection each time, so that no session's unflushed statistics linger in between.
  const client = await connectPg(superuserUrl)
  try {
    const r = await client.query<{ sessions: string; xacts: string }>(
      `select sessions, xact_commit + xact_rollback as xacts from pg_stat_database where datname = current_database()`,
    )
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
