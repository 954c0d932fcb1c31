/**
 * A clinic admin's work on the clinic's users: the list, an invitation, a role change,
 * disabling and enabling. Each is one transaction, recorded in the audit trail. A clinic
 * always keeps one active admin: the changes that could take the last one away lock the
 * clinic's admins first, so two admins demoting each other at once cannot both win.
 */
import { and, asc, eq, sql } from 'drizzle-orm'
import type { AuditEvent } from '~/audit/audit.server'
import { users } from '~/db/schema'
import type { TenantDatabase, TenantTx } from '~/tenancy/tenant.server'
import type { ClinicRole } from './roles'

/** The request's database and audit trail (a loader's `context` is one). */
export type UserDesk = {
  db: TenantDatabase
  audit: (tx: TenantTx, event: AuditEvent) => Promise<void>
}

/** The clinic's users for its admin: by role, then name. */
export function clinicUsers(desk: Pick<UserDesk, 'db'>, clinicId: string) {
  return desk.db.tenant((tx) =>
    tx
      .select({ id: users.id, email: users.email, displayName: users.displayName, role: users.role, status: users.status, lastSignInAt: users.lastSignInAt })
      .from(users)
      .where(eq(users.clinicId, clinicId))
      .orderBy(asc(users.role), asc(users.displayName)),
  )
}

export type Invitation = { email: string; displayName: string; role: ClinicRole }

/**
 * 'exists': this clinic has someone with this email already. 'elsewhere': another clinic has
 * (one account per email, users_email_key, drizzle/0015). The invitee becomes active at their
 * first sign-in, which binds the row to their identity.
 */
export async function inviteUser(desk: UserDesk, clinicId: string, invitation: Invitation): Promise<'invited' | 'exists' | 'elsewhere'> {
  const { email, displayName, role } = invitation
  return desk.db
    .tenant(async (tx) => {
      const existing = await tx
        .select({ id: users.id })
        .from(users)
        .where(and(eq(users.clinicId, clinicId), sql`lower(${users.email}) = ${email}`))
        .limit(1)
      if (existing.length) return 'exists' as const
      const [invited] = await tx.insert(users).values({ clinicId, email, displayName, role, status: 'invited' }).returning({ id: users.id })
      await desk.audit(tx, { action: 'user.invite', entityType: 'user', entityId: invited!.id, details: { role } })
      return 'invited' as const
    })
    .catch((error: unknown) => (isUniqueViolation(error, 'users_email_key') ? ('elsewhere' as const) : Promise.reject(error)))
}

/** 'not-in-clinic': no such user in this clinic. 'last-admin': the change would leave the clinic without an active admin. */
export type UserChangeOutcome = 'done' | 'not-in-clinic' | 'last-admin'

export function changeRole(desk: UserDesk, clinicId: string, userId: string, role: ClinicRole): Promise<UserChangeOutcome> {
  return desk.db.tenant(async (tx) => {
    const target = await lockedTarget(tx, clinicId, userId, (user) => user.role === 'admin' && role !== 'admin')
    if (typeof target === 'string') return target
    if (role === target.role) return 'done'
    await tx.update(users).set({ role, updatedAt: new Date() }).where(eq(users.id, target.id))
    await desk.audit(tx, { action: 'user.role', entityType: 'user', entityId: target.id, details: { from: target.role, to: role } })
    return 'done'
  })
}

export function disableUser(desk: UserDesk, clinicId: string, userId: string): Promise<UserChangeOutcome> {
  return desk.db.tenant(async (tx) => {
    const target = await lockedTarget(tx, clinicId, userId, (user) => user.role === 'admin')
    if (typeof target === 'string') return target
    await tx.update(users).set({ status: 'disabled', updatedAt: new Date() }).where(eq(users.id, target.id))
    await desk.audit(tx, { action: 'user.disable', entityType: 'user', entityId: target.id })
    return 'done'
  })
}

/** Back to active, or to invited for someone who has never signed in (no identity bound yet). */
export function enableUser(desk: UserDesk, clinicId: string, userId: string): Promise<UserChangeOutcome> {
  return desk.db.tenant(async (tx) => {
    const target = await lockedTarget(tx, clinicId, userId, () => false)
    if (typeof target === 'string') return target
    await tx
      .update(users)
      .set({ status: target.idpObjectId ? 'active' : 'invited', updatedAt: new Date() })
      .where(eq(users.id, target.id))
    await desk.audit(tx, { action: 'user.enable', entityType: 'user', entityId: target.id })
    return 'done'
  })
}

type User = typeof users.$inferSelect

/**
 * The user to change, with the clinic's active admins locked (FOR UPDATE) until the
 * transaction ends; a refusal when there is no such user, or when `losesAdmin` says an active
 * admin stops being one and they are the last.
 */
async function lockedTarget(
  tx: TenantTx,
  clinicId: string,
  userId: string,
  losesAdmin: (user: User) => boolean,
): Promise<User | Exclude<UserChangeOutcome, 'done'>> {
  const admins = await tx
    .select({ id: users.id })
    .from(users)
    .where(and(eq(users.clinicId, clinicId), eq(users.role, 'admin'), eq(users.status, 'active')))
    .for('update')
  const [target] = await tx
    .select()
    .from(users)
    .where(and(eq(users.id, userId), eq(users.clinicId, clinicId)))
    .limit(1)
  if (!target) return 'not-in-clinic'
  if (target.status === 'active' && losesAdmin(target) && admins.length <= 1) return 'last-admin'
  return target
}

/** A unique-constraint refusal (23505) of that index; Drizzle wraps driver errors, so it may sit on `cause`. */
function isUniqueViolation(error: unknown, constraint: string) {
  const e = error as { code?: string; constraint?: string; cause?: { code?: string; constraint?: string } }
  const driver = e?.code ? e : e?.cause
  return driver?.code === '23505' && driver.constraint === constraint
}
