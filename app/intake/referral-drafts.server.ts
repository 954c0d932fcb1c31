/**
 * Referrals saved to finish later (docs/decisions/031-referrer-profile-drafts-and-templates.md).
 * A draft's values are PHI: they are sealed as one value under the clinic's data key, bound to
 * clinic | draft | user, so a ciphertext copied to another row, clinic or person does not open.
 * Rows are their user's alone (RLS); every query names the user too. Incomplete values are
 * fine (that is what a draft is), but only the form's own fields, bounded, are kept.
 */
import { and, desc, eq, sql } from 'drizzle-orm'
import { PhiDecryptError, type PhiCipher } from '~/crypto/phi.server'
import { referralDrafts, type IntakeFormDefinition } from '~/db/schema'
import { writeWithCommit, type TenantTx } from '~/tenancy/tenant.server'
import { intakeFields } from './form-schema'

export type DraftOwner = { clinicId: string; userId: string }
export type DraftSummary = { id: string; formVersion: number; updatedAt: Date; patient: string | null }

/** A referrer keeps at most this many; the list shows them all. */
export const MAX_DRAFTS = 20
const MAX_VALUE_LENGTH = 4000

const binding = (owner: DraftOwner, draftId: string) => ({ clinicId: owner.clinicId, recordId: draftId, field: `referral-draft|${owner.userId}` })
const mine = (owner: DraftOwner) => and(eq(referralDrafts.clinicId, owner.clinicId), eq(referralDrafts.userId, owner.userId))

/** What of a posted form a draft keeps: the form's fields, as text, within the form's own limits. */
export function draftValues(formData: FormData, definition: IntakeFormDefinition): Record<string, string> {
  const values: Record<string, string> = {}
  for (const field of intakeFields(definition)) {
    const value = formData.get(field.key)
    if (typeof value !== 'string' || value === '') continue
    values[field.key] = value.replaceAll('\u0000', '').slice(0, MAX_VALUE_LENGTH)
  }
  return values
}

export type SavedDraft = { kind: 'saved'; id: string } | { kind: 'full' } | { kind: 'gone' }

/** A new draft, or the same draft again (its id from the form); one statement either way. */
export async function saveDraft(
  tx: TenantTx,
  cipher: PhiCipher,
  owner: DraftOwner,
  draft: { id: string | null; formVersion: number; values: Record<string, string> },
): Promise<SavedDraft> {
  const id = draft.id ?? crypto.randomUUID()
  const content = await cipher.encrypt(JSON.stringify(draft.values), binding(owner, id))
  if (draft.id) {
    const updated = await tx
      .update(referralDrafts)
      .set({ content, formVersion: draft.formVersion, updatedAt: sql`now()` })
      .where(and(mine(owner), eq(referralDrafts.id, id)))
      .returning({ id: referralDrafts.id })
    return updated.length ? { kind: 'saved', id } : { kind: 'gone' }
  }
  // The count and the insert in one statement: nothing is inserted past the limit.
  const inserted = await tx.execute(sql`insert into ${referralDrafts} (id, clinic_id, user_id, form_version, content)
    select ${id}::uuid, ${owner.clinicId}::uuid, ${owner.userId}::uuid, ${draft.formVersion}, ${JSON.stringify(content)}::jsonb
    where (select count(*) from ${referralDrafts} where ${mine(owner)}) < ${MAX_DRAFTS}
    returning id`)
  return inserted.rows.length ? { kind: 'saved', id } : { kind: 'full' }
}

/** The draft's values, or null when it is not theirs (or not there). Fails closed on a value that does not open. */
export async function openDraft(tx: TenantTx, cipher: PhiCipher, owner: DraftOwner, id: string) {
  const [row] = await tx
    .select({ id: referralDrafts.id, formVersion: referralDrafts.formVersion, content: referralDrafts.content })
    .from(referralDrafts)
    .where(and(mine(owner), eq(referralDrafts.id, id)))
  if (!row) return null
  const values = parseValues(await cipher.decrypt(row.content, binding(owner, row.id)))
  return { id: row.id, formVersion: row.formVersion, values }
}

/** The referrer's drafts, newest first, each named by its patient (decrypted: the list is audited). */
export async function listDrafts(tx: TenantTx, cipher: PhiCipher, owner: DraftOwner): Promise<DraftSummary[]> {
  const rows = await tx
    .select({ id: referralDrafts.id, formVersion: referralDrafts.formVersion, updatedAt: referralDrafts.updatedAt, content: referralDrafts.content })
    .from(referralDrafts)
    .where(mine(owner))
    .orderBy(desc(referralDrafts.updatedAt), desc(referralDrafts.id))
    .limit(MAX_DRAFTS)
  return Promise.all(
    rows.map(async (row) => {
      // One draft that no longer opens (its key gone from the ring, or not sealed for this user) is
      // listed unnamed, so that it can still be discarded; it does not take the whole list down.
      const opened = await cipher.decrypt(row.content, binding(owner, row.id)).catch((error: unknown) => {
        if (error instanceof PhiDecryptError) return null
        throw error
      })
      if (opened === null) return { id: row.id, formVersion: row.formVersion, updatedAt: row.updatedAt, patient: null }
      const values = parseValues(opened)
      const patient = [values.patient_first_name, values.patient_last_name].filter(Boolean).join(' ').slice(0, 80)
      return { id: row.id, formVersion: row.formVersion, updatedAt: row.updatedAt, patient: patient || null }
    }),
  )
}

/** The draft a referral was finished from goes with that referral's commit: no round trip of its own. */
export function deleteDraftWithCommit(tx: TenantTx, owner: DraftOwner, id: string) {
  return writeWithCommit(tx, tx.delete(referralDrafts).where(and(mine(owner), eq(referralDrafts.id, id))))
}

/** Discarded by its owner: true when there was such a draft of theirs. */
export async function deleteDraft(tx: TenantTx, owner: DraftOwner, id: string) {
  const deleted = await tx
    .delete(referralDrafts)
    .where(and(mine(owner), eq(referralDrafts.id, id)))
    .returning({ id: referralDrafts.id })
  return deleted.length > 0
}

function parseValues(plain: string): Record<string, string> {
  const parsed = JSON.parse(plain) as unknown
  const values: Record<string, string> = {}
  if (!parsed || typeof parsed !== 'object') return values
  for (const [key, value] of Object.entries(parsed)) if (typeof value === 'string') values[key] = value
  return values
}
