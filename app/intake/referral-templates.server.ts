/**
 * Templates: a named set of a form's non-patient values (service, urgency, the clinician's
 * details), to start a referral from (docs/decisions/031-referrer-profile-drafts-and-templates.md).
 * A template never holds PHI: only fields the form version marks as not PHI are kept, and no
 * checkbox (a consent is given per patient, per referral). Rows are their user's alone (RLS).
 */
import { and, asc, eq, sql } from 'drizzle-orm'
import { referralTemplates, type IntakeField, type IntakeFormDefinition } from '~/db/schema'
import type { TenantTx } from '~/tenancy/tenant.server'
import { intakeFields } from './form-schema'

export type TemplateOwner = { clinicId: string; userId: string }
export const MAX_TEMPLATES = 20
const MAX_VALUE_LENGTH = 300

/** May a template carry this field? Not PHI, and not a box ticked for one patient. */
export const templateMayHold = (field: IntakeField) => !field.phi && field.type !== 'checkbox'

/** What of a form's values a template keeps (from a posted form, or a stored template read under a newer form). */
export function templateValues(source: FormData | Record<string, unknown>, definition: IntakeFormDefinition): Record<string, string> {
  const read = (key: string) => (source instanceof FormData ? source.get(key) : source[key])
  const values: Record<string, string> = {}
  for (const field of intakeFields(definition).filter(templateMayHold)) {
    const value = read(field.key)
    if (typeof value !== 'string' || value.trim() === '') continue
    if (field.type === 'select' && !field.options?.includes(value)) continue
    values[field.key] = value.replaceAll('\u0000', '').slice(0, MAX_VALUE_LENGTH)
  }
  return values
}

export type SavedTemplate = { kind: 'saved'; id: string } | { kind: 'full' } | { kind: 'empty' }

/** Saved under its name; the same name again replaces that template's values. One statement. */
export async function saveTemplate(
  tx: TenantTx,
  owner: TemplateOwner,
  template: { name: string; formVersion: number; values: Record<string, string> },
): Promise<SavedTemplate> {
  if (!Object.keys(template.values).length) return { kind: 'empty' }
  const values = JSON.stringify(template.values)
  const saved = await tx.execute(sql`insert into ${referralTemplates} (clinic_id, user_id, name, form_version, "values")
    select ${owner.clinicId}::uuid, ${owner.userId}::uuid, ${template.name}, ${template.formVersion}, ${values}::jsonb
    where (select count(*) from ${referralTemplates} where ${mine(owner)} and lower(name) <> lower(${template.name})) < ${MAX_TEMPLATES}
    on conflict (clinic_id, user_id, lower(name)) do update set form_version = excluded.form_version, "values" = excluded."values", updated_at = now()
    returning id`)
  const id = (saved.rows[0] as { id?: string } | undefined)?.id
  return id ? { kind: 'saved', id } : { kind: 'full' }
}

const mine = (owner: TemplateOwner) => and(eq(referralTemplates.clinicId, owner.clinicId), eq(referralTemplates.userId, owner.userId))

export function listTemplates(tx: TenantTx, owner: TemplateOwner) {
  return tx
    .select({ id: referralTemplates.id, name: referralTemplates.name, values: referralTemplates.values })
    .from(referralTemplates)
    .where(mine(owner))
    .orderBy(asc(sql`lower(${referralTemplates.name})`))
    .limit(MAX_TEMPLATES)
}

export async function deleteTemplate(tx: TenantTx, owner: TemplateOwner, id: string) {
  const deleted = await tx
    .delete(referralTemplates)
    .where(and(mine(owner), eq(referralTemplates.id, id)))
    .returning({ id: referralTemplates.id })
  return deleted.length > 0
}
