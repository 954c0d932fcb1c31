import type { LoaderFunctionArgs } from '@remix-run/cloudflare'
import { sql } from 'drizzle-orm'

/**
 * How long the database check may take. `npm start`'s watchdog restarts an app that gives no
 * answer within 5 s (scripts/lib/app-watchdog.ts); a database that hangs must make this say 503,
 * not make the app look hung.
 */
const DATABASE_CHECK_MS = 2_000

/** Liveness with the database: 200 only when a query through db.tenant succeeds, in time. */
export async function loader({ context }: LoaderFunctionArgs) {
  const check = context.db.tenant((tx) => tx.execute(sql`select 1`)).then(() => 'ok' as const, () => 'down' as const)
  let timer: ReturnType<typeof setTimeout> | undefined
  const late = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), DATABASE_CHECK_MS)))
  const db = await Promise.race([check, late])
  clearTimeout(timer)
  if (db === 'ok') return Response.json({ status: 'ok', db: 'ok' }, { headers: { 'Cache-Control': 'no-store' } })
  return Response.json(
    { error: 'Database unavailable', details: { db }, code: 'UNAVAILABLE', status: 'error', db },
    { status: 503, headers: { 'Cache-Control': 'no-store', 'Retry-After': '5' } },
  )
}
