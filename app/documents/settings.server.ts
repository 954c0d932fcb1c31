/** A clinic's own, lower, document limits (clinics.settings.documentLimits); the clinic's other settings stay as they are. */
import { eq, sql } from 'drizzle-orm'
import { clinics } from '~/db/schema'
import type { TenantTx } from '~/tenancy/tenant.server'
import type { DocumentLimits } from './limits'

/** False when nothing was saved: RLS lets only the clinic's own admins change its settings (not a superadmin who switched in). */
export async function saveDocumentLimits(tx: TenantTx, clinicId: string, limits: DocumentLimits): Promise<boolean> {
  const saved = await tx
    .update(clinics)
    .set({ settings: sql`${clinics.settings} || ${JSON.stringify({ documentLimits: limits })}::jsonb` })
    .where(eq(clinics.id, clinicId))
    .returning({ id: clinics.id })
  return saved.length > 0
}
