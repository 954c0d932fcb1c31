/**
 * Forwarding a referral to another clinic (docs/decisions/032-forwarding-between-clinics.md),
 * against the real database as the runtime role: every isolation property of the hand-off.
 * Northside forwards; Lakeview accepts forwards; Riverbend does not.
 */
import { randomUUID } from 'node:crypto'
import { and, desc, eq, sql } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest'
import { recordAudit } from '../../app/audit/audit.server'
import { createDocumentCipher, createPhiCipher, isEncryptedValue, normalizeHealthCard, parseKeyRing, PhiDecryptError } from '../../app/crypto/phi.server'
import * as s from '../../app/db/schema'
import { documentContent } from '../../app/documents/content.server'
import { recordDocuments } from '../../app/documents/documents.server'
import { MAX_FILE_BYTES, MAX_REFERRAL_BYTES } from '../../app/documents/limits'
import { CHUNK_BYTES, chunkKey, receiveUpload, type DocumentBucket } from '../../app/documents/upload.server'
import { createReferral, type NewReferral } from '../../app/referrals/create-referral.server'
import { openFormData, type FormValues } from '../../app/referrals/form-data.server'
import { forwardTargets, performForward, type ForwardRequest } from '../../app/referrals/forward.server'
import type { TenantScope, TenantTx } from '../../app/tenancy/tenant.server'
import { fakeReferralValues } from '../factories/patients'
import { createRandom } from '../factories/random'
import { DEMO_TENANT_ID } from '../../scripts/lib/demo-accounts'
import { sqlState, useTestDatabase } from '../support/db'

const db = useTestDatabase()
const secrets = inject('secrets')
const cipher = createPhiCipher({ keyRing: parseKeyRing(secrets.phiKeyRing), blindIndexKey: secrets.phiBlindIndexKey })
const random = createRandom(Date.now() >>> 0)
const documentCipher = createDocumentCipher({ keyRing: parseKeyRing(secrets.phiKeyRing) })

type Clinic = { id: string; slug: string; name: string; staff: string; referrer: string; form: NewReferral['form']; settings: s.ClinicSettings }
const c = {} as Record<'northside' | 'lakeview' | 'riverbend', Clinic>

async function loadClinic(slug: keyof typeof c): Promise<Clinic> {
  const [clinic] = await db.owner.select().from(s.clinics).where(eq(s.clinics.slug, slug))
  const members = await db.owner.select().from(s.users).where(eq(s.users.clinicId, clinic!.id))
  const user = (prefix: string) => members.find((m) => m.email === `${prefix}@${slug}.test`)!.id
  const [form] = await db.owner.select().from(s.intakeForms).where(eq(s.intakeForms.clinicId, clinic!.id)).orderBy(desc(s.intakeForms.version)).limit(1)
  return { id: clinic!.id, slug, name: clinic!.name, staff: user('staff'), referrer: user('referrer'), form: form!, settings: clinic!.settings }
}

const setAccepts = (clinic: Clinic, acceptsForwards: boolean) =>
  db.owner
    .update(s.clinics)
    .set({ settings: { ...clinic.settings, acceptsForwards } })
    .where(eq(s.clinics.id, clinic.id))

beforeAll(async () => {
  for (const slug of ['northside', 'lakeview', 'riverbend'] as const) c[slug] = await loadClinic(slug)
  await setAccepts(c.lakeview, true)
  await setAccepts(c.riverbend, false)
  await setAccepts(c.northside, false)
})
afterAll(async () => {
  for (const clinic of Object.values(c)) await db.owner.update(s.clinics).set({ settings: clinic.settings }).where(eq(s.clinics.id, clinic.id))
})

const staffOf = (clinic: Clinic): TenantScope => ({ clinicId: clinic.id, userId: clinic.staff, role: 'staff' })
const referrerOf = (clinic: Clinic): TenantScope => ({ clinicId: clinic.id, userId: clinic.referrer, role: 'referrer' })
const audit = (who: TenantScope) => (tx: TenantTx, event: Parameters<typeof recordAudit>[3]) =>
  recordAudit(tx, who, { requestId: randomUUID(), ip: null, userAgent: null }, event)

/** A new referral from Northside's referrer, with a health card no other test has. */
async function sent(clinic = c.northside) {
  const values: FormValues = {
    ...fakeReferralValues(random, {
      clinicSlug: clinic.slug,
      services: ['Physiotherapy assessment'],
      clinician: { name: 'Dr. Test', practice: 'Test practice' },
    }),
    health_card_number: `${randomUUID().slice(0, 8)}-FW`,
  }
  const as = referrerOf(clinic)
  const created = await db
    .as(as)
    .tenant((tx) => createReferral(tx, cipher, audit(as), { clinic, submittedBy: clinic.referrer, form: clinic.form, values, idempotencyKey: randomUUID() }))
  return { id: created.id, values }
}

const forward = (who: TenantScope, request: Partial<ForwardRequest> & { referralId: string }, documents?: DocumentBucket) =>
  db
    .as(who)
    .tenant((tx) =>
      performForward(
        tx,
        { clinicId: who.clinicId!, cipher, audit: audit(who), requestId: randomUUID(), documents: documents && { bucket: documents, cipher: documentCipher } },
        { version: 1, toClinic: c.lakeview.id, reason: 'Closer to home for the patient', ...request },
      ),
    )

const ownerRow = async (id: string) => (await db.owner.select().from(s.referrals).where(eq(s.referrals.id, id)))[0]
const seen = (who: TenantScope, id: string) => db.as(who).tenant((tx) => tx.select({ id: s.referrals.id }).from(s.referrals).where(eq(s.referrals.id, id)))
const eventsSeen = (who: TenantScope, id: string) =>
  db.as(who).tenant((tx) => tx.select({ id: s.referralEvents.id }).from(s.referralEvents).where(eq(s.referralEvents.referralId, id)))
const countIn = async (clinic: Clinic) =>
  Number((await db.owner.execute<{ n: string }>(sql`select count(*) as n from referrals where clinic_id = ${clinic.id}::uuid`)).rows[0]!.n)
const verify = async (clinic: Clinic) => (await db.owner.execute<{ ok: boolean }>(sql`select * from audit_verify(${clinic.id}::uuid)`)).rows[0]!

describe('the clinics a referral can go to', () => {
  test('staff see the other clinics that accept forwards, by name and id only; never their own, never one that does not accept', async () => {
    await setAccepts(c.northside, true)
    try {
      const targets = await db.as(staffOf(c.northside)).tenant(forwardTargets)
      expect(targets).toEqual([{ id: c.lakeview.id, name: c.lakeview.name }])
      const fromLakeview = await db.as(staffOf(c.lakeview)).tenant(forwardTargets)
      expect(fromLakeview).toEqual([{ id: c.northside.id, name: c.northside.name }])
    } finally {
      await setAccepts(c.northside, false)
    }
  })

  test('a referrer, or a request with no tenant context, or a forged role, is given none', async () => {
    expect(await db.as(referrerOf(c.northside)).tenant(forwardTargets)).toEqual([])
    expect(await db.as({}).tenant(forwardTargets)).toEqual([])
    // The referrer's id with the staff role: the role must be the user's own.
    expect(await db.as({ ...referrerOf(c.northside), role: 'staff' }).tenant(forwardTargets)).toEqual([])
    // Staff of Northside claiming Lakeview's clinic.
    expect(await db.as({ ...staffOf(c.northside), clinicId: c.lakeview.id }).tenant(forwardTargets)).toEqual([])
  })

  test("the receiving clinic's form: only an accepting clinic's, never one's own", async () => {
    const form = (who: TenantScope, clinic: Clinic) =>
      db.as(who).tenant(async (tx) => (await tx.execute(sql`select version from forward_target_form(${clinic.id}::uuid)`)).rows)
    expect(await form(staffOf(c.northside), c.lakeview)).toEqual([{ version: c.lakeview.form.version }])
    expect(await form(staffOf(c.northside), c.riverbend)).toEqual([])
    expect(await form(staffOf(c.lakeview), c.lakeview)).toEqual([])
    expect(await form(referrerOf(c.northside), c.lakeview)).toEqual([])
  })
})

describe('a forward', () => {
  test('creates the receiving clinic’s referral, sealed under its key, and closes the sender’s as Forwarded; neither reads the other’s', async () => {
    const { id, values } = await sent()
    const before = await ownerRow(id)
    const result = await forward(staffOf(c.northside), { referralId: id })
    expect(result).toMatchObject({ outcome: 'forwarded', referenceNumber: expect.stringMatching(/^LAK-[0-9A-Z]{7}$/), clinicName: c.lakeview.name })
    const reference = result.outcome === 'forwarded' ? result.referenceNumber : ''

    // The sender's record: closed, terminal, saying where it went.
    const sender = (await ownerRow(id))!
    expect(sender).toMatchObject({
      status: 'forwarded',
      version: before!.version + 1,
      forwardedToClinicId: c.lakeview.id,
      forwardedToName: c.lakeview.name,
      forwardedToReference: reference,
    })
    expect(sender.closedAt).not.toBeNull()

    // The receiving clinic's new referral, found only as the owner.
    const [received] = await db.owner
      .select()
      .from(s.referrals)
      .where(and(eq(s.referrals.clinicId, c.lakeview.id), eq(s.referrals.referenceNumber, reference)))
    expect(received).toMatchObject({
      status: 'received',
      submittedBy: null,
      forwardedFromClinicId: c.northside.id,
      forwardedFromName: c.northside.name,
      formVersion: c.lakeview.form.version,
      priority: before!.priority,
    })
    const [referrer] = await db.owner.select().from(s.users).where(eq(s.users.id, c.northside.referrer))
    expect(received!.referrerName).toBe(referrer!.displayName)

    // Sealed under Lakeview's key, bound to the new row: it opens there and nowhere else.
    for (const key of ['patient_first_name', 'patient_last_name', 'health_card_number']) {
      expect(isEncryptedValue(received!.formData[key]), key).toBe(true)
      expect(JSON.stringify(received!.formData)).not.toContain(String(values[key]))
    }
    const opened = await openFormData(cipher, c.lakeview.form.definition, { clinicId: c.lakeview.id, referralId: received!.id }, received!.formData)
    expect(opened.patient_last_name).toBe(values.patient_last_name)
    expect(opened.health_card_number).toBe(values.health_card_number)
    await expect(openFormData(cipher, c.lakeview.form.definition, { clinicId: c.northside.id, referralId: received!.id }, received!.formData)).rejects.toThrow(
      /could not be decrypted/,
    )
    // Blind indexes keyed for Lakeview, not copied from Northside.
    const card = normalizeHealthCard(String(values.health_card_number))
    expect(received!.healthCardIndex).toBe(await cipher.blindIndex('health_card', c.lakeview.id, card))
    expect(received!.healthCardIndex).not.toBe(sender.healthCardIndex)

    // Isolation: the sender cannot read the new row or its history; the receiver cannot read the original.
    expect(await seen(staffOf(c.northside), received!.id)).toEqual([])
    expect(await eventsSeen(staffOf(c.northside), received!.id)).toEqual([])
    expect(await seen(staffOf(c.lakeview), id)).toEqual([])
    expect(await eventsSeen(staffOf(c.lakeview), id)).toEqual([])
    expect(await seen(staffOf(c.lakeview), received!.id)).toEqual([{ id: received!.id }])
    // The original referrer still sees their referral, and where it went.
    const mine = await db
      .as(referrerOf(c.northside))
      .tenant((tx) => tx.select({ to: s.referrals.forwardedToName, ref: s.referrals.forwardedToReference }).from(s.referrals).where(eq(s.referrals.id, id)))
    expect(mine).toEqual([{ to: c.lakeview.name, ref: reference }])

    // Both histories: the reason, sealed in each clinic under its own key.
    const [moved] = await db.owner
      .select()
      .from(s.referralEvents)
      .where(and(eq(s.referralEvents.referralId, id), eq(s.referralEvents.type, 'status')))
      .orderBy(desc(s.referralEvents.createdAt))
      .limit(1)
    expect(moved).toMatchObject({
      actorId: c.northside.staff,
      visibleToReferrer: true,
      data: { to: 'forwarded', toClinic: c.lakeview.id, referenceNumber: reference },
    })
    expect(await cipher.decrypt(moved!.body, { clinicId: c.northside.id, recordId: moved!.id, field: 'body' })).toBe('Closer to home for the patient')
    const [first] = await db.owner.select().from(s.referralEvents).where(eq(s.referralEvents.referralId, received!.id))
    expect(first).toMatchObject({ clinicId: c.lakeview.id, type: 'created', actorId: null, data: { forwardedFrom: c.northside.id } })
    expect(await cipher.decrypt(first!.body, { clinicId: c.lakeview.id, recordId: first!.id, field: 'body' })).toBe('Closer to home for the patient')

    // Both trails, and both chains still verify.
    const trail = (clinic: Clinic, action: string, entity: string) =>
      db.owner
        .select()
        .from(s.auditLogs)
        .where(and(eq(s.auditLogs.clinicId, clinic.id), eq(s.auditLogs.action, action), eq(s.auditLogs.entityId, entity)))
    expect(await trail(c.northside, 'referral.forward', id)).toMatchObject([
      { actorId: c.northside.staff, details: { toClinic: c.lakeview.id, toReferral: received!.id } },
    ])
    // The receiver's trail names the other clinic, never one of its users: not the hand-off's row,
    // nor the rows the write triggers added for the new referral and its first event.
    expect(await trail(c.lakeview, 'referral.receive', received!.id)).toMatchObject([
      { actorId: null, actorRole: 'other-clinic', details: { fromClinic: c.northside.id, fromReferral: id, documentIds: [] } },
    ])
    const written = await db.owner
      .select()
      .from(s.auditLogs)
      .where(and(eq(s.auditLogs.clinicId, c.lakeview.id), eq(s.auditLogs.action, 'record.write'), eq(s.auditLogs.entityId, received!.id)))
    expect(written.map((r) => [r.actorId, r.actorRole])).toEqual([[null, 'other-clinic']])
    const naming = await db.owner.execute<{ n: string }>(
      sql`select count(*) as n from audit_logs where clinic_id = ${c.lakeview.id}::uuid and actor_id = ${c.northside.staff}::uuid`,
    )
    expect(naming.rows[0]!.n).toBe('0')
    expect(await verify(c.northside)).toMatchObject({ ok: true })
    expect(await verify(c.lakeview)).toMatchObject({ ok: true })

    // Terminal: forwarding again is refused, and no move leads out of it.
    expect(await forward(staffOf(c.northside), { referralId: id, version: sender.version })).toEqual({ outcome: 'bad-move' })
    expect(await sqlState(db.as(staffOf(c.northside)).tenant((tx) => tx.update(s.referrals).set({ status: 'in_review' }).where(eq(s.referrals.id, id))))).toBe(
      '42501',
    )
  })

  test('a referral an EHR system sent arrives named by that EHR system, not as an unknown referrer (drizzle/0040)', async () => {
    const [ehr] = await db.owner
      .insert(s.ehrIntegrations)
      .values({
        clinicId: c.northside.id,
        name: 'Forwarding Test EHR',
        idpTenantId: DEMO_TENANT_ID,
        clientId: `forward-${randomUUID()}`,
        roles: ['Referral.Submit'],
      })
      .returning()
    const as: TenantScope = { clinicId: c.northside.id, userId: ehr!.id, role: 'integration' }
    const values: FormValues = {
      ...fakeReferralValues(random, {
        clinicSlug: c.northside.slug,
        services: ['Physiotherapy assessment'],
        clinician: { name: 'Dr. Test', practice: 'Test practice' },
      }),
      health_card_number: `${randomUUID().slice(0, 8)}-FW`,
    }
    const created = await db.as(as).tenant((tx) =>
      createReferral(tx, cipher, audit(as), {
        clinic: c.northside,
        submittedBy: { integration: ehr!.id },
        form: c.northside.form,
        values,
        idempotencyKey: randomUUID(),
      }),
    )
    const result = await forward(staffOf(c.northside), { referralId: created.id })
    expect(result).toMatchObject({ outcome: 'forwarded' })
    const reference = result.outcome === 'forwarded' ? result.referenceNumber : ''
    const [received] = await db.owner
      .select()
      .from(s.referrals)
      .where(and(eq(s.referrals.clinicId, c.lakeview.id), eq(s.referrals.referenceNumber, reference)))
    expect(received).toMatchObject({
      referrerName: 'Forwarding Test EHR',
      submittedBy: null,
      submittedByIntegration: null,
      forwardedFromClinicId: c.northside.id,
    })
  })

  test('to a clinic that does not accept forwards, a forged clinic id, or its own clinic: refused, nothing written', async () => {
    const { id } = await sent()
    const counts = [await countIn(c.lakeview), await countIn(c.riverbend)]
    for (const toClinic of [c.riverbend.id, randomUUID(), c.northside.id]) {
      expect(await forward(staffOf(c.northside), { referralId: id, toClinic })).toEqual({ outcome: 'not-accepting' })
    }
    expect(await ownerRow(id)).toMatchObject({ status: 'received', version: 1, forwardedToClinicId: null })
    expect([await countIn(c.lakeview), await countIn(c.riverbend)]).toEqual(counts)
    const refusals = await db.owner
      .select()
      .from(s.auditLogs)
      .where(and(eq(s.auditLogs.clinicId, c.northside.id), eq(s.auditLogs.action, 'referral.forward'), eq(s.auditLogs.entityId, id)))
    expect(refusals.map((r) => r.outcome)).toEqual(['denied', 'denied', 'denied'])
  })

  test('another clinic’s referral is not found; a stale version conflicts; a booked referral stays', async () => {
    const { id } = await sent()
    expect(await forward(staffOf(c.lakeview), { referralId: id, toClinic: c.lakeview.id })).toEqual({ outcome: 'not-found' })
    expect(await forward(staffOf(c.northside), { referralId: id, version: 7 })).toEqual({ outcome: 'conflict' })
    await db.owner.update(s.referrals).set({ status: 'scheduled' }).where(eq(s.referrals.id, id))
    expect(await forward(staffOf(c.northside), { referralId: id })).toEqual({ outcome: 'bad-move' })
    expect(await ownerRow(id)).toMatchObject({ status: 'scheduled', forwardedToClinicId: null })
  })
})

describe('forward_referral() called directly cannot write arbitrary rows', () => {
  /** A call with well-formed arguments for a referral of Northside's, any of which a test replaces. */
  async function call(
    who: Partial<TenantScope>,
    referralId: string,
    change: Partial<Record<'formData' | 'reasonForSender' | 'toClinic' | 'healthCardIndex' | 'documents', unknown>> = {},
  ) {
    const newReferral = randomUUID()
    const newEvent = randomUUID()
    const senderEvent = randomUUID()
    const formData = change.formData ?? {
      patient_last_name: await cipher.encrypt('Tremblay', { clinicId: c.lakeview.id, recordId: newReferral, field: 'patient_last_name' }),
    }
    const forSender = change.reasonForSender ?? (await cipher.encrypt('why', { clinicId: c.northside.id, recordId: senderEvent, field: 'body' }))
    const forReceiver = await cipher.encrypt('why', { clinicId: c.lakeview.id, recordId: newEvent, field: 'body' })
    const toClinic = (change.toClinic as string | undefined) ?? c.lakeview.id
    const healthCardIndex = (change.healthCardIndex as string | undefined) ?? null
    return db.as(who).tenant(async (tx) => {
      const result = await tx.execute<{ outcome: string }>(sql`select outcome from forward_referral(${referralId}::uuid, 1, ${toClinic}::uuid,
        ${c.lakeview.form.version}::integer, ${newReferral}::uuid, ${newEvent}::uuid, ${senderEvent}::uuid, ${JSON.stringify(formData)}::jsonb,
        ${healthCardIndex}::text, null::text, ${JSON.stringify(forSender)}::jsonb, ${JSON.stringify(forReceiver)}::jsonb, 'test',
        ${JSON.stringify(change.documents ?? [])}::jsonb)`)
      return result.rows[0]!.outcome
    })
  }

  test('a positive control: the same call, well formed, forwards', async () => {
    const { id } = await sent()
    expect(await call(staffOf(c.northside), id)).toBe('forwarded')
  })

  test('the function itself refuses a clinic that does not accept forwards, a forged one, and the caller’s own (the app’s check is not the only one)', async () => {
    const { id } = await sent()
    for (const toClinic of [c.riverbend.id, randomUUID(), c.northside.id]) expect(await call(staffOf(c.northside), id, { toClinic })).toBe('not-accepting')
    expect(await ownerRow(id)).toMatchObject({ status: 'received', version: 1 })
  })

  test('form data the receiving form has no field for, plaintext PHI, a nested value, an unsealed reason, a malformed index: refused (22023), nothing written', async () => {
    const { id } = await sent()
    const before = await countIn(c.lakeview)
    const sealedName = await cipher.encrypt('x', { clinicId: c.lakeview.id, recordId: randomUUID(), field: 'patient_last_name' })
    const cases = [
      { formData: { patient_last_name: sealedName, status: 'accepted' } },
      { formData: { patient_last_name: 'Tremblay' } },
      { formData: { reason: { nested: ['anything'] } } },
      { formData: { patient_last_name: { ...sealedName, extra: 'x' } } },
      { formData: ['not', 'an', 'object'] },
      { reasonForSender: 'a plaintext reason' },
      // An object without a sealed value's keys once passed as sealed (its check answered null).
      { reasonForSender: {} },
      { formData: { patient_last_name: {} } },
      { documents: { not: 'a list' } },
      { documents: [{}] },
      { documents: [{ from: randomUUID(), id: randomUUID(), name: 'plaintext name' }] },
      { documents: [{ from: 'x', id: randomUUID(), name: sealedName }] },
      { documents: [{ from: randomUUID(), id: randomUUID(), name: sealedName, uploadedBy: c.northside.staff }] },
      { healthCardIndex: "x' or 1=1 --" },
    ]
    for (const change of cases) expect(await sqlState(call(staffOf(c.northside), id, change)), JSON.stringify(change)).toBe('22023')
    expect(await countIn(c.lakeview)).toBe(before)
    expect(await ownerRow(id)).toMatchObject({ status: 'received', version: 1 })
  })

  test('a referrer, no tenant context, or staff claiming another clinic: refused (42501)', async () => {
    const { id } = await sent()
    expect(await sqlState(call(referrerOf(c.northside), id))).toBe('42501')
    expect(await sqlState(call({}, id))).toBe('42501')
    expect(await sqlState(call({ ...staffOf(c.northside), clinicId: c.lakeview.id }, id))).toBe('42501')
    expect(await sqlState(call({ ...referrerOf(c.northside), role: 'staff' }, id))).toBe('42501')
    expect(await ownerRow(id)).toMatchObject({ status: 'received', version: 1 })
  })

  test('the runtime role cannot forward by itself: no move to forwarded, no forwarded row inserted, no hand-off column changed', async () => {
    const { id } = await sent()
    const staff = staffOf(c.northside)
    const update = (set: Partial<typeof s.referrals.$inferInsert>) =>
      sqlState(db.as(staff).tenant((tx) => tx.update(s.referrals).set(set).where(eq(s.referrals.id, id))))
    expect(await update({ status: 'forwarded', forwardedToClinicId: c.lakeview.id })).toBe('42501')
    expect(await update({ forwardedFromClinicId: c.lakeview.id })).toBe('42501')
    expect(await update({ forwardedToName: 'Somewhere' })).toBe('42501')
    // A positive control: an ordinary update of the same row goes through.
    expect(await update({ priority: 'urgent' })).toBe('no error')
    const row = (await ownerRow(id))!
    const insert = sqlState(
      db.as(staff).tenant((tx) =>
        tx.insert(s.referrals).values({
          ...row,
          id: randomUUID(),
          referenceNumber: `FW-${randomUUID().slice(0, 8)}`,
          idempotencyKey: null,
          forwardedFromClinicId: c.lakeview.id,
        }),
      ),
    )
    expect(await insert).toBe('42501')
  })
})

describe('the catalog', () => {
  test('referrals keep RLS enabled and forced; the runtime role may not call the helpers the definers use', async () => {
    const [rls] = (
      await db.owner.execute<{ on: boolean; forced: boolean }>(
        sql`select relrowsecurity as on, relforcerowsecurity as forced from pg_class where oid = 'public.referrals'::regclass`,
      )
    ).rows
    expect(rls).toEqual({ on: true, forced: true })
    const grants = await db.owner.execute<{ f: string; may: boolean }>(sql`select f, has_function_privilege('intakepilot_app', f, 'EXECUTE') as may
      from unnest(array['forwarding_clinic()', 'forward_is_sealed(jsonb)', 'forward_targets()', 'forward_target_form(uuid)']) f`)
    expect(grants.rows).toEqual([
      { f: 'forwarding_clinic()', may: false },
      { f: 'forward_is_sealed(jsonb)', may: false },
      { f: 'forward_targets()', may: true },
      { f: 'forward_target_form(uuid)', may: true },
    ])
  })
})

/** R2 as a Map, recording each get and put in order (R2 itself is covered end to end in tests/e2e/forwarding.spec.ts). */
function memoryBucket() {
  const objects = new Map<string, Uint8Array>()
  const calls: string[] = []
  const bucket = {
    put: async (key: string, value: Uint8Array) => {
      calls.push(`put ${key}`)
      objects.set(key, new Uint8Array(value))
    },
    get: async (key: string) => {
      calls.push(`get ${key}`)
      const value = objects.get(key)
      return value ? { arrayBuffer: async () => value.slice().buffer } : null
    },
    delete: async (keys: string | string[]) => {
      for (const key of [keys].flat()) objects.delete(key)
    },
  }
  return { objects, calls, bucket: bucket as unknown as DocumentBucket }
}

/** Lab report text of `size` bytes: several chunks. */
const report = (size: number) => new Uint8Array(Buffer.from('Lab report line.\n'.repeat(Math.ceil(size / 17)).slice(0, size)))

/** Attaches files to a Northside referral as its referrer did: staged in `bucket`, recorded in the database. */
async function attach(bucket: DocumentBucket, referralId: string, files: { name: string; bytes: Uint8Array<ArrayBuffer> }[]) {
  const form = new FormData()
  for (const f of files) form.append('documents', new File([f.bytes], f.name))
  const upload = await receiveUpload(new Request('http://x/', { method: 'POST', body: form }), {
    bucket,
    cipher: documentCipher,
    clinicId: c.northside.id,
    referralId,
    limits: { fileBytes: MAX_FILE_BYTES, referralBytes: MAX_REFERRAL_BYTES },
  })
  expect(upload.problems).toEqual([])
  const as = referrerOf(c.northside)
  const outcome = await db.as(as).tenant((tx) =>
    recordDocuments(
      tx,
      { cipher, audit: audit(as) },
      {
        clinicId: c.northside.id,
        referralId,
        uploadedBy: c.northside.referrer,
        attachedWith: 'referral',
        staged: upload.staged,
        limits: { fileBytes: MAX_FILE_BYTES, referralBytes: MAX_REFERRAL_BYTES },
      },
    ),
  )
  expect(outcome).toBe('recorded')
  return upload.staged
}

const bytesOf = async (bucket: DocumentBucket, row: Parameters<typeof documentContent>[2]) =>
  Buffer.from(await new Response(await documentContent(bucket, documentCipher, row)).arrayBuffer())

describe('a forward carries the documents', () => {
  test('each re-sealed under the receiving clinic’s key, chunk by chunk; the receiver reads the same bytes, the sender’s binding cannot open them, the sender keeps its own', async () => {
    const { id } = await sent()
    const { objects, calls, bucket } = memoryBucket()
    const letter = report(2 * CHUNK_BYTES + 777)
    const note = report(300)
    const originals = await attach(bucket, id, [
      { name: 'Consult letter Tremblay.txt', bytes: letter },
      { name: 'note.txt', bytes: note },
    ])
    const before = new Map(objects)
    calls.length = 0

    const result = await forward(staffOf(c.northside), { referralId: id }, bucket)
    expect(result.outcome).toBe('forwarded')
    // Chunk by chunk: each chunk written before the next is read (memory stays at one chunk).
    const kinds = calls.map((call) => call.split(' ')[0])
    expect(kinds).toEqual(Array.from({ length: 4 }, () => ['get', 'put']).flat())
    const [received] = await db.owner
      .select()
      .from(s.referrals)
      .where(eq(s.referrals.forwardedFromClinicId, c.northside.id))
      .orderBy(desc(s.referrals.receivedAt))
      .limit(1)

    // The receiver's rows: in its clinic, on its referral, uploaded by no one of it, with the originals' type, size and hash.
    const lakeStaff = staffOf(c.lakeview)
    const rows = await db
      .as(lakeStaff)
      .tenant((tx) => tx.select().from(s.referralDocuments).where(eq(s.referralDocuments.referralId, received!.id)).orderBy(s.referralDocuments.createdAt))
    expect(rows).toHaveLength(2)
    expect(rows.map((r) => [r.clinicId, r.uploadedBy, r.attachedWith, r.sizeBytes, r.sha256, r.chunkCount])).toEqual(
      originals.map((o) => [c.lakeview.id, null, 'forward', o.sizeBytes, o.sha256, o.chunkCount]),
    )
    for (const row of rows) expect(originals.map((o) => o.id)).not.toContain(row.id)
    // Names sealed for Lakeview's rows: they open there, and not under Northside's binding.
    const names = await Promise.all(rows.map((r) => cipher.decrypt(r.name, { clinicId: c.lakeview.id, recordId: r.id, field: 'name' })))
    expect(names).toEqual(['Consult letter Tremblay.txt', 'note.txt'])
    await expect(cipher.decrypt(rows[0]!.name, { clinicId: c.northside.id, recordId: rows[0]!.id, field: 'name' })).rejects.toBeInstanceOf(PhiDecryptError)

    // The receiver downloads the same bytes; no chunk holds plaintext.
    expect((await bytesOf(bucket, rows[0]!)).equals(Buffer.from(letter))).toBe(true)
    expect((await bytesOf(bucket, rows[1]!)).equals(Buffer.from(note))).toBe(true)
    const copies = [...objects.keys()].filter((k) => k.startsWith(`documents/${c.lakeview.id}/${received!.id}/`))
    expect(copies).toHaveLength(3 + 1)
    for (const key of copies) expect(Buffer.from(objects.get(key)!).includes(Buffer.from('Lab report'))).toBe(false)
    // Sealed under Lakeview's key and bound to the copy: Northside's binding (its clinic, its referral) does not open them.
    await expect(bytesOf(bucket, { ...rows[0]!, clinicId: c.northside.id })).rejects.toBeInstanceOf(PhiDecryptError)
    const moved = { ...originals[0]!, clinicId: c.northside.id, referralId: id }
    for (let i = 0; i < rows[0]!.chunkCount; i++)
      objects.set(chunkKey(c.northside.id, id, moved.id, i), objects.get(chunkKey(c.lakeview.id, received!.id, rows[0]!.id, i))!)
    await expect(bytesOf(bucket, moved)).rejects.toBeInstanceOf(PhiDecryptError)
    for (const [key, value] of before) objects.set(key, value)

    // The sender's copy stays as it was, readable and listed; Lakeview cannot see it, nor Northside the copies.
    for (const [key, value] of before) expect(Buffer.from(objects.get(key)!).equals(Buffer.from(value))).toBe(true)
    expect((await bytesOf(bucket, { ...originals[0]!, clinicId: c.northside.id, referralId: id })).equals(Buffer.from(letter))).toBe(true)
    const theirs = await db.as(lakeStaff).tenant((tx) => tx.select().from(s.referralDocuments).where(eq(s.referralDocuments.referralId, id)))
    expect(theirs).toEqual([])
    const ours = await db.as(staffOf(c.northside)).tenant((tx) => tx.select().from(s.referralDocuments).where(eq(s.referralDocuments.referralId, received!.id)))
    expect(ours).toEqual([])
    expect(await db.as(staffOf(c.northside)).tenant((tx) => tx.select().from(s.referralDocuments).where(eq(s.referralDocuments.referralId, id)))).toHaveLength(
      2,
    )

    // Both trails say which documents went, by id; the receiver's names no Northside user.
    const [receipt] = await db.owner
      .select()
      .from(s.auditLogs)
      .where(and(eq(s.auditLogs.action, 'referral.receive'), eq(s.auditLogs.entityId, received!.id)))
    expect(receipt).toMatchObject({ actorId: null, details: { documentIds: rows.map((r) => r.id) } })
    const [handoff] = await db.owner
      .select()
      .from(s.auditLogs)
      .where(and(eq(s.auditLogs.action, 'referral.forward'), eq(s.auditLogs.entityId, id)))
    expect(handoff?.details).toMatchObject({ documentIds: originals.map((o) => o.id) })
    expect(await verify(c.lakeview)).toMatchObject({ ok: true })
  })

  test('a document that does not open whole is not sent: nothing forwarded, no copy left in R2', async () => {
    const { id } = await sent()
    const { objects, bucket } = memoryBucket()
    const [doc] = await attach(bucket, id, [
      { name: 'a.txt', bytes: report(CHUNK_BYTES + 10) },
      { name: 'b.txt', bytes: report(CHUNK_BYTES + 10) },
    ]).then((docs) => docs.slice(1))
    objects.delete(chunkKey(c.northside.id, id, doc!.id, 1))
    const keys = [...objects.keys()]
    await expect(forward(staffOf(c.northside), { referralId: id }, bucket)).rejects.toBeInstanceOf(PhiDecryptError)
    expect([...objects.keys()]).toEqual(keys)
    expect(await ownerRow(id)).toMatchObject({ status: 'received', version: 1, forwardedToClinicId: null })
  })

  test('documents the call does not name exactly (one left out, one named twice, another referral’s): a conflict, nothing written', async () => {
    const { id } = await sent()
    const other = await sent()
    const { bucket } = memoryBucket()
    const [a, b] = await attach(bucket, id, [
      { name: 'a.txt', bytes: report(20) },
      { name: 'b.txt', bytes: report(20) },
    ])
    const [elsewhere] = await attach(bucket, other.id, [{ name: 'c.txt', bytes: report(20) }])
    const name = await cipher.encrypt('a.txt', { clinicId: c.lakeview.id, recordId: randomUUID(), field: 'name' })
    const entry = (from: string) => ({ from, id: randomUUID(), name })
    const before = await countIn(c.lakeview)
    for (const documents of [
      [],
      [entry(a!.id)],
      [entry(a!.id), entry(a!.id)],
      [entry(a!.id), entry(elsewhere!.id)],
      [entry(a!.id), entry(b!.id), entry(elsewhere!.id)],
    ]) {
      expect(await callForward(id, documents), JSON.stringify(documents.map((d) => d.from))).toBe('conflict')
    }
    expect(await countIn(c.lakeview)).toBe(before)
    // A positive control: both, each once.
    expect(await callForward(id, [entry(a!.id), entry(b!.id)])).toBe('forwarded')
  })
})

/** forward_referral() with well-formed arguments and the given documents, as Northside's staff. */
async function callForward(referralId: string, documents: unknown) {
  const [newReferral, newEvent, senderEvent] = [randomUUID(), randomUUID(), randomUUID()]
  const formData = { patient_last_name: await cipher.encrypt('Tremblay', { clinicId: c.lakeview.id, recordId: newReferral, field: 'patient_last_name' }) }
  const forSender = await cipher.encrypt('why', { clinicId: c.northside.id, recordId: senderEvent, field: 'body' })
  const forReceiver = await cipher.encrypt('why', { clinicId: c.lakeview.id, recordId: newEvent, field: 'body' })
  return db.as(staffOf(c.northside)).tenant(async (tx) => {
    const result = await tx.execute<{ outcome: string }>(sql`select outcome from forward_referral(${referralId}::uuid, 1, ${c.lakeview.id}::uuid,
      ${c.lakeview.form.version}::integer, ${newReferral}::uuid, ${newEvent}::uuid, ${senderEvent}::uuid, ${JSON.stringify(formData)}::jsonb,
      null::text, null::text, ${JSON.stringify(forSender)}::jsonb, ${JSON.stringify(forReceiver)}::jsonb, 'test', ${JSON.stringify(documents)}::jsonb)`)
    return result.rows[0]!.outcome
  })
}
