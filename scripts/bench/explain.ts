/**
 * Each page's statements as PostgreSQL runs them: one page's work is run once through a logging
 * Drizzle (the exact SQL text and parameters the app's query code produces, in order, on one
 * connection), then every statement is replayed under EXPLAIN ANALYZE, after the same set_config
 * its transaction had, inside a transaction that is rolled back (so writes can be measured too).
 *
 * - plans: the first replay, with BUFFERS; a sequential scan of a clinic table, or a scan that
 *   throws most of what it reads away, is flagged.
 * - server time: planning + execution, the median of `repeats` replays (TIMING OFF). This is the
 *   database's own cost of the page with no round trips in it, which is where row-level security
 *   can show: the same statements as the runtime role (RLS) and as the owner (no RLS, with the
 *   clinic predicate written in; see baseline.ts).
 */
import type { Database } from '../../app/db/client.server'
import type { Mode, QueryLog } from './baseline'
import { connectAs } from './baseline'
import { connectPg } from './pg'

export type PlanReport = {
  sql: string
  planningMs: number
  executionMs: number
  plan: string
  seqScans: string[]
  /** The largest "Rows Removed by Filter" of any node. */
  rowsRemovedByFilter: number
  warning: string | null
}

/**
 * totalMs: planning + execution; executionMs alone is what a statement prepared once per
 * connection would pay each time (its plan reused), where RLS's planning share drops out.
 */
export type ServerTime = { totalMs: number; executionMs?: number; statements: { sql: string; ms: number; executionMs?: number }[] }

const BIG_TABLES = new Set(['referrals', 'referral_events', 'audit_logs', 'users'])
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? NaN

export async function explainPage(options: {
  /** Neon-driver URL and direct (TCP) URL of the role to run as: the runtime role for RLS, the owner for none. */
  driverUrl: string
  directUrl: string
  wsProxy: string
  mode: Mode
  repeats: number
  run: (db: Database, mode: Mode, i: number) => Promise<void>
}): Promise<{ plans: PlanReport[]; server: ServerTime }> {
  const log: QueryLog = []
  const connection = connectAs(options.driverUrl, options.wsProxy, 1, log)
  try {
    await options.run(connection.db, options.mode, 0)
  } finally {
    await connection.end()
  }
  const client = await connectPg(options.directUrl)
  const plans: PlanReport[] = []
  const statements: ServerTime['statements'] = []
  try {
    let context: { sql: string; params: unknown[] } | null = null
    // db.tenant sends the audit rows with the commit, as one message: replay each INSERT on its own.
    const statementsOf = (query: { sql: string; params: unknown[] }) =>
      query.sql
        .trim()
        .replace(/;\ncommit$/, '')
        .split(/;\n(?=insert into audit_logs )/)
        .map((sql) => ({ sql, params: query.params }))
    for (const query of log.flatMap(statementsOf)) {
      const text = query.sql.trim()
      if (/set_config\('app\.clinic_id'/.test(text)) {
        context = query
        continue
      }
      if (!/^(select|insert|update|delete|with)\b/i.test(text)) continue
      const replay = async (explain: string) => {
        await client.query('begin')
        try {
          if (context) await client.query(context.sql, context.params)
          const result = await client.query<{ 'QUERY PLAN': string }>(`explain (${explain}) ${text}`, query.params)
          return result.rows.map((r) => r['QUERY PLAN']).join('\n')
        } finally {
          await client.query('rollback')
        }
      }
      const plan = await replay('analyze, buffers')
      const times: number[] = []
      const executions: number[] = []
      for (let i = 0; i < options.repeats; i++) {
        const quick = await replay('analyze, timing off, summary on')
        const execution = Number(/Execution Time: ([\d.]+) ms/.exec(quick)?.[1] ?? 0)
        times.push(Number(/Planning Time: ([\d.]+) ms/.exec(quick)?.[1] ?? 0) + execution)
        executions.push(execution)
      }
      statements.push({ sql: text, ms: median(times), executionMs: median(executions) })
      const seqScans = [...plan.matchAll(/Seq Scan on (\w+)/g)].map((m) => m[1]!).filter((t) => BIG_TABLES.has(t))
      const removed = Math.max(0, ...[...plan.matchAll(/Rows Removed by Filter: (\d+)/g)].map((m) => Number(m[1])))
      const warning = seqScans.length
        ? `sequential scan on ${[...new Set(seqScans)].join(', ')}`
        : removed > 1000
          ? `reads and discards ${removed.toLocaleString('en')} rows`
          : null
      plans.push({
        sql: text,
        planningMs: Number(/Planning Time: ([\d.]+) ms/.exec(plan)?.[1] ?? NaN),
        executionMs: Number(/Execution Time: ([\d.]+) ms/.exec(plan)?.[1] ?? NaN),
        plan,
        seqScans,
        rowsRemovedByFilter: removed,
        warning,
      })
    }
  } finally {
    await client.end()
  }
  const sum = (f: (s: (typeof statements)[number]) => number) => Math.round(statements.reduce((n, s) => n + f(s), 0) * 1000) / 1000
  return { plans, server: { totalMs: sum((s) => s.ms), executionMs: sum((s) => s.executionMs ?? 0), statements } }
}
