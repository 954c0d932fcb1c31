import type { LoaderFunctionArgs } from '@remix-run/cloudflare'
import { checkDatabase } from '~/tenancy/database-check.server'

/**
 * How long the database check may take. `npm start`'s watchdog restarts an app that gives no
 * answer within 5 s (scripts/lib/app-watchdog.ts); a database that hangs must make this say 503,
 * not make the app look hung.
 */
const DATABASE_CHECK_MS = 2_000

/** Liveness with the database: 200 only when a query through db.tenant succeeds, in time. */
export async function loader({ context }: LoaderFunctionArgs) {
  const db = await checkDatabase(context.db, DATABASE_CHECK_MS)
  if (db === 'ok') return Response.json({ status: 'ok', db: 'ok' }, { headers: { 'Cache-Control': 'no-store' } })
  return Response.json(
    { error: 'Database unavailable', details: { db }, code: 'UNAVAILABLE', status: 'error', db },
    { status: 503, headers: { 'Cache-Control': 'no-store', 'Retry-After': '5' } },
  )
}
