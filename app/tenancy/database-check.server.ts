/** Whether request code can reach the database: one query through db.tenant, in a bounded time. */
import { sql } from 'drizzle-orm'
import type { TenantDatabase } from './tenant.server'

/** 'down': the query failed; 'timeout': no answer within `ms` (a database that hangs must not hang its caller). */
export async function checkDatabase(db: TenantDatabase, ms: number): Promise<'ok' | 'down' | 'timeout'> {
  const check = db
    .tenant((tx) => tx.execute(sql`select 1`))
    .then(
      () => 'ok' as const,
      () => 'down' as const,
    )
  let timer: ReturnType<typeof setTimeout> | undefined
  const late = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), ms)))
  const answer = await Promise.race([check, late])
  clearTimeout(timer)
  return answer
}
