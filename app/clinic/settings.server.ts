/**
 * Saving a clinic's settings (clinics.settings, jsonb): each section of the clinic settings page
 * saves its own keys and leaves the others as they are, and the change is in the clinic's trail
 * (the setting's name and new value: settings hold no PHI).
 */
import { eq, sql } from 'drizzle-orm'
import type { AuditEvent } from '~/audit/audit.server'
import { clinics, type ClinicSettings } from '~/db/schema'
import type { TenantTx } from '~/tenancy/tenant.server'

type Audit = (tx: TenantTx, event: AuditEvent) => Promise<void>

/**
 * Merges `patch` into the clinic's settings, audited as `section`. False when nothing was saved:
 * RLS lets only the clinic's own admins change its settings (not a superadmin who switched in).
 */
export async function saveClinicSettings(tx: TenantTx, audit: Audit, clinicId: string, section: string, patch: Partial<ClinicSettings>): Promise<boolean> {
  const saved = await tx
    .update(clinics)
    .set({ settings: sql`${clinics.settings} || ${JSON.stringify(patch)}::jsonb` })
    .where(eq(clinics.id, clinicId))
    .returning({ id: clinics.id })
  if (saved.length === 0) return false
  await audit(tx, { action: 'clinic.settings', entityType: 'clinic', entityId: clinicId, details: { section, ...patch } })
  return true
}
