/**
 * Who signs in: the provisioned user for a verified identity, keyed on Entra's (tid, oid),
 * never on email. sign_in_user (drizzle/0002) is the one narrow way to find them before any
 * clinic is known: a user bound to the identity, else the one invitation with that email, which
 * this first sign-in binds and makes active. It never creates an account.
 */
import { sql } from 'drizzle-orm'
import type { UserRole, UserStatus } from '~/db/schema'
import type { TenantDatabase } from '~/tenancy/tenant.server'

export type SigningInUser = { id: string; clinic_id: string | null; role: UserRole; status: UserStatus }

/** The user, or null: nobody provisioned this identity. A disabled user comes back too (the caller refuses them). */
export async function signInUser(desk: { db: TenantDatabase }, identity: { tid: string; oid: string; email: string }): Promise<SigningInUser | null> {
  const result = await desk.db.tenant((tx) => tx.execute<SigningInUser>(sql`select * from sign_in_user(${identity.tid}, ${identity.oid}, ${identity.email})`))
  return result.rows[0] ?? null
}
