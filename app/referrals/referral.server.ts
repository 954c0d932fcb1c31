/**
 * One referral as a person opens it: the row (through RLS), its form version, the PHI
 * decrypted, and its history with notes and messages decrypted. Every open is audited in
 * the same transaction; a referral that is not there (or not theirs) is audited as denied.
 */
import { and, asc, eq, inArray, or } from 'drizzle-orm'
import { deniedEvent, type AuditEvent } from '~/audit/audit.server'
import type { PhiCipher } from '~/crypto/phi.server'
import { referralEvents, referrals, users } from '~/db/schema'
import { intakeFormVersion } from '~/intake/intake-forms.server'
import type { TenantTx } from '~/tenancy/tenant.server'
import { openFormData } from './form-data.server'

export { isUuid } from '~/utils/keyset'

export async function openReferral(
  tx: TenantTx,
  cipher: PhiCipher,
  audit: (tx: TenantTx, event: AuditEvent) => Promise<void>,
  options: {
    id: string
    staff: boolean
    action?: 'referral.read' | 'referral.print'
    /** The clinic's people, when the caller has them already: the history's names come from them (one query fewer). */
    people?: { id: string; displayName: string; role: string }[]
  },
) {
  const [row] = await tx.select().from(referrals).where(eq(referrals.id, options.id)).limit(1)
  if (!row) {
    await audit(tx, deniedEvent({ action: options.action ?? 'referral.read', entityId: options.id }, 404))
    return null
  }
  const form = await intakeFormVersion(tx, row.clinicId, row.formVersion)
  if (!form) throw new Error('referral form version missing')
  const values = await openFormData(cipher, form.definition, { clinicId: row.clinicId, referralId: row.id }, row.formData)

  const eventRows = await tx.select().from(referralEvents).where(eq(referralEvents.referralId, row.id)).orderBy(asc(referralEvents.createdAt))
  const actorIds = [...new Set(eventRows.map((e) => e.actorId).filter((v): v is string => !!v))]
  const actors = options.people
    ? options.people.filter((p) => actorIds.includes(p.id)).map(({ id, displayName, role }) => ({ id, displayName, role }))
    : actorIds.length
      ? await tx.select({ id: users.id, displayName: users.displayName, role: users.role }).from(users).where(inArray(users.id, actorIds))
      : []
  const events = await Promise.all(
    eventRows.map(async (e) => ({
      id: e.id,
      type: e.type,
      data: e.data,
      visibleToReferrer: e.visibleToReferrer,
      createdAt: e.createdAt.toISOString(),
      actor: actors.find((a) => a.id === e.actorId) ?? null,
      body: e.body ? await cipher.decrypt(e.body, { clinicId: row.clinicId, recordId: e.id, field: 'body' }) : null,
    })),
  )

  let duplicates: { id: string; referenceNumber: string; status: string }[] = []
  if (options.staff) {
    if (!row.firstOpenedAt) await tx.update(referrals).set({ firstOpenedAt: new Date() }).where(eq(referrals.id, row.id))
    const links = [eq(referrals.possibleDuplicateOf, row.id), row.possibleDuplicateOf ? eq(referrals.id, row.possibleDuplicateOf) : undefined]
    duplicates = await tx
      .select({ id: referrals.id, referenceNumber: referrals.referenceNumber, status: referrals.status })
      .from(referrals)
      .where(and(or(...links)))
  }
  await audit(tx, { action: options.action ?? 'referral.read', entityType: 'referral', entityId: row.id })
  return { row, form, values, events, duplicates }
}

/** The referral's own fields as pages and the API show them (its form data is separate). */
export function referralFacts(row: typeof referrals.$inferSelect) {
  return {
    id: row.id,
    referenceNumber: row.referenceNumber,
    status: row.status,
    priority: row.priority,
    version: row.version,
    formVersion: row.formVersion,
    receivedAt: row.receivedAt.toISOString(),
    assignedTo: row.assignedTo,
  }
}
