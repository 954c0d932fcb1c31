/** Database handles for integration tests: the runtime role through db.tenant, and the owner. */
import { inject } from 'vitest'
import { afterAll } from 'vitest'
import { eq } from 'drizzle-orm'
import { connectDatabase } from '../../app/db/client.server'
import * as schema from '../../app/db/schema'
import { createTenantDatabase, NO_SCOPE, type TenantDatabase, type TenantScope, type TenantTx } from '../../app/tenancy/tenant.server'

export function useTestDatabase() {
  const config = inject('database')
  const app = connectDatabase({ url: config.appUrl, wsProxy: config.wsProxy })
  const owner = connectDatabase({ url: config.ownerUrl, wsProxy: config.wsProxy })
  afterAll(async () => {
    await app.end()
    await owner.end()
  })
  return {
    config,
    /** Requests' view: the runtime role, one transaction per call, RLS in force. */
    as: (scope: Partial<TenantScope>) => createTenantDatabase(app.db, { ...NO_SCOPE, ...scope }),
    /** The owner bypasses RLS: for setup and for checking what really is in a table. */
    owner: owner.db,
    /** The tenant context of a clinic's demo staff member (`staff@<slug>.test`). */
    staffScopeOf: async (slug: string): Promise<TenantScope> => {
      const [clinic] = await owner.db.select().from(schema.clinics).where(eq(schema.clinics.slug, slug))
      const [staff] = await owner.db
        .select()
        .from(schema.users)
        .where(eq(schema.users.email, `staff@${slug}.test`))
      return { clinicId: clinic!.id, userId: staff!.id, role: 'staff' }
    },
  }
}

/**
 * The SQLSTATE a statement failed with ('42501' for an RLS or grant refusal), or 'no error'.
 * Drizzle wraps driver errors in DrizzleQueryError, so the code may sit on `cause`.
 */
export async function sqlState(work: Promise<unknown>): Promise<string> {
  try {
    await work
  } catch (error) {
    const e = error as { code?: string; cause?: { code?: string } }
    return e.code ?? e.cause?.code ?? `no SQLSTATE: ${String(error)}`
  }
  return 'no error'
}

const ROLLBACK = Symbol('rollback')

/**
 * Runs fn in a tenant transaction and always rolls it back: positive controls (an insert or
 * update that must succeed) prove the probe works without changing the shared demo data.
 */
export async function rolledBack<T>(db: TenantDatabase, fn: (tx: TenantTx) => Promise<T>): Promise<T> {
  let result: T | undefined
  await db
    .tenant(async (tx) => {
      result = await fn(tx)
      throw ROLLBACK
    })
    .catch((error: unknown) => {
      if (error !== ROLLBACK) throw error
    })
  return result as T
}
