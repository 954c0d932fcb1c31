/** A clinic's intake form: the current published version, or a given one (old referrals). */
import { and, desc, eq, isNotNull } from 'drizzle-orm'
import { intakeForms } from '~/db/schema'
import type { TenantTx } from '~/tenancy/tenant.server'

export async function currentIntakeForm(tx: TenantTx, clinicId: string) {
  const [form] = await tx
    .select({ version: intakeForms.version, definition: intakeForms.definition, publishedAt: intakeForms.publishedAt })
    .from(intakeForms)
    .where(and(eq(intakeForms.clinicId, clinicId), isNotNull(intakeForms.publishedAt)))
    .orderBy(desc(intakeForms.version))
    .limit(1)
  return form ?? null
}

export async function intakeFormVersion(tx: TenantTx, clinicId: string, version: number) {
  const [form] = await tx
    .select({ version: intakeForms.version, definition: intakeForms.definition })
    .from(intakeForms)
    .where(and(eq(intakeForms.clinicId, clinicId), eq(intakeForms.version, version)))
    .limit(1)
  return form ?? null
}
