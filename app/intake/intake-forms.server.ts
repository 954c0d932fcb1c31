/** A clinic's intake form: the current published version, or a given one (old referrals). */
import { and, desc, eq, isNotNull } from 'drizzle-orm'
import { intakeForms, type IntakeFormDefinition } from '~/db/schema'
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

/**
 * A version once written never changes (the runtime role may only SELECT and INSERT
 * intake_forms: drizzle/0001), so an isolate keeps the versions it has read. A submit then
 * sends its insert as its transaction's first statement: one round trip less. The key is the
 * clinic of the signed-in request, whose own RLS-checked read filled it; a miss reads as before.
 */
const versions = new Map<string, { version: number; definition: IntakeFormDefinition }>()
const KEPT_VERSIONS = 64

export async function intakeFormVersion(tx: TenantTx, clinicId: string, version: number) {
  const key = `${clinicId}:${version}`
  const kept = versions.get(key)
  if (kept) return kept
  const [form] = await tx
    .select({ version: intakeForms.version, definition: intakeForms.definition })
    .from(intakeForms)
    .where(and(eq(intakeForms.clinicId, clinicId), eq(intakeForms.version, version)))
    .limit(1)
  if (!form) return null
  // Bounded: the oldest kept goes first.
  if (versions.size >= KEPT_VERSIONS) versions.delete(versions.keys().next().value!)
  versions.set(key, form)
  return form
}
