/**
 * db.tenant(fn): the ONLY way request code reaches the database (DESIGN §2).
 * One transaction; first the tenant context, with bound parameters and transaction-local
 * (is_local = true) so that it cannot leak to the next user of the pooled connection;
 * then fn(tx); then commit. Row-level security policies read these settings.
 */
import { sql } from 'drizzle-orm'
import type { Database } from '~/db/client.server'
import type { UserRole } from '~/db/schema'

export type TenantScope = {
  clinicId: string | null
  userId: string | null
  role: UserRole | null
}

export const NO_SCOPE: TenantScope = { clinicId: null, userId: null, role: null }

export type TenantTx = Parameters<Parameters<Database['transaction']>[0]>[0]

export type TenantDatabase = {
  readonly scope: TenantScope
  tenant<T>(fn: (tx: TenantTx) => Promise<T>): Promise<T>
  /** The same connection, another scope: sign-in (before a user is known) and clinic switch. */
  withScope(scope: TenantScope): TenantDatabase
}

export function createTenantDatabase(db: Database, scope: TenantScope): TenantDatabase {
  return {
    scope,
    tenant: (fn) =>
      db.transaction(async (tx) => {
        await tx.execute(sql`select
          set_config('app.clinic_id', ${scope.clinicId ?? ''}, true),
          set_config('app.user_id', ${scope.userId ?? ''}, true),
          set_config('app.role', ${scope.role ?? ''}, true)`)
        return fn(tx)
      }),
    withScope: (next) => createTenantDatabase(db, next),
  }
}
