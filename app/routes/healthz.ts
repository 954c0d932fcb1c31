import type { LoaderFunctionArgs } from '@remix-run/cloudflare'
import { sql } from 'drizzle-orm'

/** Liveness with the database: 200 only when a query through db.tenant succeeds. */
export async function loader({ context }: LoaderFunctionArgs) {
  try {
    await context.db.tenant((tx) => tx.execute(sql`select 1`))
    return Response.json({ status: 'ok', db: 'ok' }, { headers: { 'Cache-Control': 'no-store' } })
  } catch {
    return Response.json(
      { error: 'Database unavailable', details: { db: 'down' }, code: 'UNAVAILABLE', status: 'error', db: 'down' },
      { status: 503, headers: { 'Cache-Control': 'no-store', 'Retry-After': '5' } },
    )
  }
}
