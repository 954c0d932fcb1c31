/**
 * A referrer's drafts and templates (app/intake/referral-drafts.server.ts, referral-templates.server.ts)
 * through the runtime role with RLS in force: a draft is sealed (no plaintext in the row), opens
 * for its own user only, and not when moved to another user; another referrer of the same clinic
 * neither sees nor uses, changes or deletes them; a template keeps no PHI field, whatever is posted.
 */
import { eq, sql } from 'drizzle-orm'
import { describe, expect, inject, test } from 'vitest'
import { createPhiCipher, parseKeyRing, PhiDecryptError } from '../../app/crypto/phi.server'
import * as s from '../../app/db/schema'
import { defaultIntakeForm } from '../../app/intake/default-form'
import { deleteDraft, draftValues, listDrafts, openDraft, saveDraft } from '../../app/intake/referral-drafts.server'
import { deleteTemplate, listTemplates, saveTemplate, templateValues } from '../../app/intake/referral-templates.server'
import type { TenantScope } from '../../app/tenancy/tenant.server'
import { useTestDatabase } from '../support/db'

const db = useTestDatabase()
const secrets = inject('secrets')
const cipher = createPhiCipher({ keyRing: parseKeyRing(secrets.phiKeyRing), blindIndexKey: secrets.phiBlindIndexKey })
const definition = defaultIntakeForm(['Physiotherapy assessment'])
const PATIENT = { patient_first_name: 'Wilhelmina', patient_last_name: 'Draftkeeper', health_card_number: '4821-093-771-KD', reason: 'Vertigo since March' }

async function referrers(): Promise<[TenantScope & { userId: string; clinicId: string }, TenantScope & { userId: string; clinicId: string }]> {
  const [clinic] = await db.owner.select().from(s.clinics).where(eq(s.clinics.slug, 'lakeview'))
  const user = async (email: string) => (await db.owner.select().from(s.users).where(eq(s.users.email, email)))[0]!
  const one = await user('referrer@lakeview.test')
  const two = await user('referrer2@lakeview.test')
  return [
    { clinicId: clinic!.id, userId: one.id, role: 'referrer' },
    { clinicId: clinic!.id, userId: two.id, role: 'referrer' },
  ]
}

const posted = (values: Record<string, string>) => {
  const data = new FormData()
  for (const [k, v] of Object.entries(values)) data.set(k, v)
  return data
}

describe('drafts', () => {
  test('sealed at rest: the row holds no value that was typed, and opens again for its user', async () => {
    const [me] = await referrers()
    const values = draftValues(posted({ ...PATIENT, clinician_name: 'Dr. Keeper', not_a_field: 'dropped' }), definition)
    expect(values).not.toHaveProperty('not_a_field')
    const saved = await db.as(me).tenant((tx) => saveDraft(tx, cipher, me, { id: null, formVersion: 1, values }))
    expect(saved.kind).toBe('saved')
    const id = (saved as { id: string }).id
    const [row] = (await db.owner.execute(sql`select to_jsonb(d)::text as text from referral_drafts d where id = ${id}`)).rows as { text: string }[]
    for (const typed of [...Object.values(PATIENT), 'Dr. Keeper', '4821093771']) expect(row!.text).not.toContain(typed)
    expect(row!.text).toContain('"ct"')
    const opened = await db.as(me).tenant((tx) => openDraft(tx, cipher, me, id))
    expect(opened?.values).toEqual(values)
    const listed = await db.as(me).tenant((tx) => listDrafts(tx, cipher, me))
    expect(listed.find((d) => d.id === id)?.patient).toBe('Wilhelmina Draftkeeper')
  })

  test('another referrer of the same clinic neither sees, opens, overwrites nor discards it; moved to them, it does not open', async () => {
    const [me, colleague] = await referrers()
    const saved = await db.as(me).tenant((tx) => saveDraft(tx, cipher, me, { id: null, formVersion: 1, values: PATIENT }))
    const id = (saved as { id: string }).id
    const theirs = db.as(colleague)
    expect((await theirs.tenant((tx) => listDrafts(tx, cipher, colleague))).map((d) => d.id)).not.toContain(id)
    expect(await theirs.tenant((tx) => openDraft(tx, cipher, colleague, id))).toBeNull()
    // Even naming the owner, RLS hides the row from anyone else.
    expect(await theirs.tenant((tx) => openDraft(tx, cipher, me, id))).toBeNull()
    expect(await theirs.tenant((tx) => saveDraft(tx, cipher, colleague, { id, formVersion: 1, values: { reason: 'overwritten' } }))).toEqual({ kind: 'gone' })
    expect(await theirs.tenant((tx) => deleteDraft(tx, colleague, id))).toBe(false)
    expect(await db.as(me).tenant((tx) => openDraft(tx, cipher, me, id))).toMatchObject({ values: PATIENT })
    // The ciphertext is bound to its user: given to the colleague by the owner role, it fails closed.
    await db.owner.update(s.referralDrafts).set({ userId: colleague.userId }).where(eq(s.referralDrafts.id, id))
    await expect(theirs.tenant((tx) => openDraft(tx, cipher, colleague, id))).rejects.toBeInstanceOf(PhiDecryptError)
    // Their list still opens: the draft is there unnamed, so it can be discarded.
    expect((await theirs.tenant((tx) => listDrafts(tx, cipher, colleague))).find((d) => d.id === id)).toMatchObject({ patient: null })
    await db.owner.update(s.referralDrafts).set({ userId: me.userId }).where(eq(s.referralDrafts.id, id))
    expect(await db.as(me).tenant((tx) => deleteDraft(tx, me, id))).toBe(true)
    expect(await db.as(me).tenant((tx) => openDraft(tx, cipher, me, id))).toBeNull()
  })
})

describe('templates', () => {
  test('keep only the non-PHI fields, never a consent box, whatever is posted', async () => {
    const [me] = await referrers()
    const values = templateValues(
      posted({
        ...PATIENT,
        patient_dob: '1970-01-01',
        urgency: 'urgent',
        requested_service: 'Physiotherapy assessment',
        clinician_name: 'Dr. Keeper',
        consent: 'on',
      }),
      definition,
    )
    expect(values).toEqual({ urgency: 'urgent', requested_service: 'Physiotherapy assessment', clinician_name: 'Dr. Keeper' })
    const name = `Vertigo ${Date.now()}`
    const saved = await db.as(me).tenant((tx) => saveTemplate(tx, me, { name, formVersion: 1, values }))
    expect(saved.kind).toBe('saved')
    const [row] = (await db.owner.execute(sql`select to_jsonb(t)::text as text from referral_templates t where name = ${name}`)).rows as { text: string }[]
    for (const typed of [...Object.values(PATIENT), '1970-01-01']) expect(row!.text).not.toContain(typed)
  })

  test("another referrer's templates are not listed, used or removed", async () => {
    const [me, colleague] = await referrers()
    const name = `Mine ${Date.now()}`
    const saved = await db.as(me).tenant((tx) => saveTemplate(tx, me, { name, formVersion: 1, values: { urgency: 'routine' } }))
    const id = (saved as { id: string }).id
    expect((await db.as(colleague).tenant((tx) => listTemplates(tx, colleague))).map((t) => t.id)).not.toContain(id)
    expect(await db.as(colleague).tenant((tx) => deleteTemplate(tx, colleague, id))).toBe(false)
    expect((await db.as(me).tenant((tx) => listTemplates(tx, me))).map((t) => t.id)).toContain(id)
  })
})
