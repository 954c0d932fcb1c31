/**
 * The superadmin's clinic switch: the clinics they can work in, and the switch itself, with its
 * reason recorded in the trail of the clinic they switch to (that clinic's admins see who came
 * in and why). The switch lives in the session cookie, which the caller seals.
 */
import { asc, eq } from 'drizzle-orm'
import { recordAudit, type AuditRequest } from '~/audit/audit.server'
import { clinics, type UserRole } from '~/db/schema'
import type { TenantDatabase } from '~/tenancy/tenant.server'

/** Every clinic, by name: RLS lets only a superadmin see them all. */
export function switchableClinics(desk: { db: TenantDatabase }) {
  return desk.db.tenant((tx) => tx.select({ id: clinics.id, name: clinics.name, slug: clinics.slug }).from(clinics).orderBy(asc(clinics.name)))
}

export async function switchClinic(
  desk: { db: TenantDatabase; auditRequest: AuditRequest },
  user: { id: string; role: UserRole; clinicId: string | null },
  to: { clinicId: string; reason: string },
): Promise<'switched' | 'no-such-clinic'> {
  const target = await desk.db.tenant((tx) => tx.select({ id: clinics.id }).from(clinics).where(eq(clinics.id, to.clinicId)).limit(1))
  if (!target.length) return 'no-such-clinic'
  // Recorded as the user working in the clinic they switch to, in that clinic's chain.
  const scope = { clinicId: to.clinicId, userId: user.id, role: user.role }
  await desk.db.withScope(scope).tenant((tx) =>
    recordAudit(tx, scope, desk.auditRequest, {
      action: 'clinic.switch',
      entityType: 'clinic',
      entityId: to.clinicId,
      details: { reason: to.reason, from: user.clinicId },
    }),
  )
  return 'switched'
}
