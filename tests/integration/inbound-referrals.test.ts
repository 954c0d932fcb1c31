/**
 * Referrals entered by staff on the referrer's behalf (fax, phone, email, walk-in), against the
 * real database through db.tenant (RLS in force): the form parsed as the page parses it, then
 * enterInboundReferral. The original received date is what the queue counts from; the referrer
 * is one of the clinic's own, or typed in; the audit row names who entered it and for whom, with
 * ids only; anything refused writes nothing.
 */
import { randomInt, randomUUID } from 'node:crypto'
import { and, desc, eq, sql } from 'drizzle-orm'
import { beforeAll, describe, expect, inject, test, vi } from 'vitest'
import { recordAudit } from '../../app/audit/audit.server'
import { createPhiCipher, parseKeyRing } from '../../app/crypto/phi.server'
import * as s from '../../app/db/schema'
import { inboundSchema, SOMEONE_ELSE, type InboundValues } from '../../app/referrals/inbound'
import { enterInboundReferral, knownReferrers } from '../../app/referrals/inbound.server'
import { myReferralsPage } from '../../app/referrals/my-referrals.server'
import { QueueViewSchema } from '../../app/referrals/queue'
import { queuePage } from '../../app/referrals/queue.server'
import type { TenantScope, TenantTx } from '../../app/tenancy/tenant.server'
import { parseForm } from '../../app/utils/form.server'
import { fakeReferralValues } from '../factories/patients'
import { createRandom } from '../factories/random'
import { sqlState, useTestDatabase } from '../support/db'
import { clinicDay, clinicInstant, formatClinicTime } from '../../app/utils/clinic-time'

const db = useTestDatabase()
const secrets = inject('secrets')
const cipher = createPhiCipher({ keyRing: parseKeyRing(secrets.phiKeyRing), blindIndexKey: secrets.phiBlindIndexKey })
const random = createRandom(Date.now() >>> 0)

type Clinic = { id: string; slug: string; staff: string; referrer: string; form: { version: number; definition: s.IntakeFormDefinition } }
const c = {} as Record<'northside' | 'lakeview', Clinic>

beforeAll(async () => {
  for (const slug of ['northside', 'lakeview'] as const) {
    const [clinic] = await db.owner.select().from(s.clinics).where(eq(s.clinics.slug, slug))
    const members = await db.owner.select().from(s.users).where(eq(s.users.clinicId, clinic!.id))
    const user = (prefix: string) => members.find((m) => m.email === `${prefix}@${slug}.test`)!.id
    const [form] = await db.owner.select().from(s.intakeForms).where(eq(s.intakeForms.clinicId, clinic!.id)).orderBy(desc(s.intakeForms.version)).limit(1)
    c[slug] = { id: clinic!.id, slug, staff: user('staff'), referrer: user('referrer'), form: form! }
  }
})

const staffScope = (clinic: Clinic): TenantScope => ({ clinicId: clinic.id, userId: clinic.staff, role: 'staff' })
const audit = (who: TenantScope) => (tx: TenantTx, event: Parameters<typeof recordAudit>[3]) =>
  recordAudit(tx, who, { requestId: randomUUID(), ip: null, userAgent: null }, event)

/** Northside's calendar day (Toronto's, not UTC's: in its evening they differ), `days` from today. */
const clinicToday = (days = 0) => clinicDay(Date.now() + days * 86_400_000, 'America/Toronto')
const daysAgo = (n: number) => clinicToday(-n)

/** What the page posts: the clinic's form for a patient no other test has, and the inbound fields. */
function posted(clinic: Clinic, inbound: Record<string, string>, patient: Record<string, string | boolean | number | null> = {}) {
  const values = fakeReferralValues(random, {
    clinicSlug: clinic.slug,
    services: ['Physiotherapy assessment'],
    clinician: { name: 'Dr. Fax', practice: 'Fax practice' },
  })
  const form = new FormData()
  const all: Record<string, string | boolean | number | null> = { ...values, health_card_number: `${String(randomInt(1e10)).padStart(10, '0')}-IN`, ...patient }
  for (const [key, value] of Object.entries(all)) {
    if (value === true) form.set(key, 'on')
    else if (value !== false && value !== null && value !== undefined) form.set(key, String(value))
  }
  for (const [key, value] of Object.entries(inbound)) form.set(key, value)
  return form
}

/** The page's action, without HTTP: parse as the page parses, then enter it as the clinic's staff member. */
async function enter(clinic: Clinic, form: FormData, idempotencyKey = randomUUID()) {
  const submission = parseForm(form, inboundSchema(clinic.form.definition, 'America/Toronto'))
  if (submission.status !== 'success') return { errors: submission.error ?? {}, idempotencyKey }
  const as = staffScope(clinic)
  const outcome = await db.as(as).tenant((tx) =>
    enterInboundReferral(tx, cipher, audit(as), {
      clinic: { id: clinic.id, slug: clinic.slug, settings: { timeZone: 'America/Toronto' } },
      enteredBy: clinic.staff,
      form: clinic.form,
      values: submission.value as InboundValues,
      idempotencyKey,
    }),
  )
  return { ...outcome, idempotencyKey }
}

const withKey = (key: string) => db.owner.select().from(s.referrals).where(eq(s.referrals.idempotencyKey, key))
const createAudits = (id: string) =>
  db.owner
    .select()
    .from(s.auditLogs)
    .where(and(eq(s.auditLogs.action, 'referral.create'), eq(s.auditLogs.entityId, id)))

describe('a referral entered by staff', () => {
  test('for a known referrer, from a fax received three days ago: received_at is that day, the referrer sees it, the queue counts from it', async () => {
    const day = daysAgo(3)
    const result = await enter(
      c.northside,
      posted(c.northside, { arrivedVia: 'fax', receivedOn: day, receivedTime: '09:30', referrerId: c.northside.referrer }),
    )
    expect(result).toMatchObject({ created: { created: true } })
    const id = (result as { created: { id: string } }).created.id
    const [row] = await db.owner.select().from(s.referrals).where(eq(s.referrals.id, id))
    expect(row).toMatchObject({ submittedBy: c.northside.referrer, enteredBy: c.northside.staff, channel: 'fax', referrerName: null })
    // 09:30 on the clinic's clock (Toronto), not UTC's.
    expect(row!.receivedAt.toISOString()).toBe(clinicInstant(day, '09:30', 'America/Toronto')!.toISOString())
    expect(formatClinicTime(row!.receivedAt, 'America/Toronto')).toMatch(new RegExp(`^${day} 09:30 E[SD]T$`))
    // Entered now, received then: the two stay apart.
    expect(Date.now() - row!.createdAt.getTime()).toBeLessThan(60_000)

    // The queue's received-day filter and its oldest-first order use the day it was received.
    const staff = db.as(staffScope(c.northside))
    const onThatDay = await staff.tenant((tx) =>
      queuePage(tx, QueueViewSchema.parse({ status: 'all', from: day, to: day }), c.northside.staff, 'America/Toronto'),
    )
    expect(onThatDay.rows.map((r) => r.id)).toContain(id)
    const today = await staff.tenant((tx) =>
      queuePage(tx, QueueViewSchema.parse({ status: 'all', from: clinicToday(), to: clinicToday() }), c.northside.staff, 'America/Toronto'),
    )
    expect(today.rows.map((r) => r.id)).not.toContain(id)
    expect(onThatDay.rows.find((r) => r.id === id)).toMatchObject({ channel: 'fax', enteredBy: c.northside.staff })

    // The referrer it was entered for finds it among their own (RLS lets them).
    const referrer = db.as({ clinicId: c.northside.id, userId: c.northside.referrer, role: 'referrer' })
    // Other files send newer referrals as the same referrer meanwhile: its page is found by paging.
    const seen: string[] = []
    for (let before: [string, string] | null = null, pages = 0; pages < 20 && !seen.includes(id); pages++) {
      const page = await referrer.tenant((tx) => myReferralsPage(tx, c.northside.referrer, before))
      seen.push(...page.rows.map((r) => r.id))
      if (!page.next) break
      const [at, last] = page.next.split(',')
      before = [at!, last!]
    }
    expect(seen).toContain(id)

    // History: created by the staff member; audit: who entered it (the actor) and for which referrer, ids only.
    const [created] = await db.owner.select().from(s.referralEvents).where(eq(s.referralEvents.referralId, id))
    expect(created).toMatchObject({ type: 'created', actorId: c.northside.staff, data: { channel: 'fax' } })
    const audits = await createAudits(id)
    expect(audits).toHaveLength(1)
    expect(audits[0]).toMatchObject({
      actorId: c.northside.staff,
      actorRole: 'staff',
      details: { channel: 'fax', enteredBy: c.northside.staff, referrer: c.northside.referrer },
    })
  })

  test('without a time, the day counts from its start (UTC)', async () => {
    const day = daysAgo(1)
    const result = await enter(c.northside, posted(c.northside, { arrivedVia: 'phone', receivedOn: day, referrerId: c.northside.referrer }))
    const [row] = await withKey(result.idempotencyKey)
    expect(row!.receivedAt.toISOString()).toBe(clinicInstant(day, '00:00', 'America/Toronto')!.toISOString())
  })

  test('a referrer typed in: the name is kept on the referral, the staff member is the submitter, the audit row holds no name', async () => {
    const name = `Dr. Typed ${randomUUID().slice(0, 6)}`
    const result = await enter(
      c.northside,
      posted(c.northside, {
        arrivedVia: 'walk_in',
        receivedOn: clinicToday(),
        referrerId: SOMEONE_ELSE,
        referrerName: name,
        referrerPractice: 'Harbour Clinic',
      }),
    )
    const [row] = await withKey(result.idempotencyKey)
    expect(row).toMatchObject({
      submittedBy: c.northside.staff,
      enteredBy: c.northside.staff,
      channel: 'walk_in',
      referrerName: name,
      referrerOrganization: 'Harbour Clinic',
    })
    const audits = await createAudits(row!.id)
    expect(audits[0]!.details).toEqual({ channel: 'walk_in', enteredBy: c.northside.staff, referrer: 'typed-in' })
    expect(JSON.stringify(audits)).not.toContain(name)
    expect(JSON.stringify(audits)).not.toContain('Harbour')
  })

  test('the same submit twice (a double click) is one referral', async () => {
    const form = posted(c.northside, { arrivedVia: 'email', receivedOn: clinicToday(), referrerId: c.northside.referrer })
    const key = randomUUID()
    const [a, b] = await Promise.all([enter(c.northside, form, key), enter(c.northside, form, key)])
    expect((a as { created: { id: string } }).created.id).toBe((b as { created: { id: string } }).created.id)
    expect(await withKey(key)).toHaveLength(1)
  })
})

describe('refused: nothing is written', () => {
  const refusedWrites = async (key: string) => {
    expect(await withKey(key)).toHaveLength(0)
  }

  test('another clinic’s referrer cannot be picked, and is not offered', async () => {
    const offered = await db.as(staffScope(c.northside)).tenant((tx) => knownReferrers(tx, c.northside.id))
    expect(offered.map((r) => r.id)).toContain(c.northside.referrer)
    expect(offered.map((r) => r.id)).not.toContain(c.lakeview.referrer)

    const before = await db.owner.execute<{ n: string }>(sql`select count(*) as n from audit_logs where clinic_id = ${c.northside.id}`)
    const result = await enter(c.northside, posted(c.northside, { arrivedVia: 'fax', receivedOn: clinicToday(), referrerId: c.lakeview.referrer }))
    expect(result).toMatchObject({ refused: 'unknown-referrer' })
    await refusedWrites(result.idempotencyKey)
    const after = await db.owner.execute<{ n: string }>(sql`select count(*) as n from audit_logs where clinic_id = ${c.northside.id}`)
    expect(after.rows[0]!.n).toBe(before.rows[0]!.n)
  })

  test('a staff member, a disabled referrer or a made-up id is not a referrer to pick', async () => {
    const [disabled] = await db.owner
      .insert(s.users)
      .values({
        clinicId: c.northside.id,
        email: `gone-${randomUUID().slice(0, 8)}@referrer.test`,
        displayName: 'Gone Referrer',
        role: 'referrer',
        status: 'disabled',
      })
      .returning({ id: s.users.id })
    for (const referrerId of [c.northside.staff, disabled!.id, randomUUID()]) {
      const result = await enter(c.northside, posted(c.northside, { arrivedVia: 'fax', receivedOn: clinicToday(), referrerId }))
      expect(result, referrerId).toMatchObject({ refused: 'unknown-referrer' })
      await refusedWrites(result.idempotencyKey)
    }
  })

  test('the database refuses a staff member of another clinic as the one who entered it', async () => {
    const as = staffScope(c.northside)
    const state = await sqlState(
      db.as(as).tenant((tx) =>
        tx.insert(s.referrals).values({
          clinicId: c.northside.id,
          referenceNumber: `NOR-${randomUUID().slice(0, 7).toUpperCase()}`,
          formVersion: c.northside.form.version,
          submittedBy: c.northside.referrer,
          formData: {},
          enteredBy: c.lakeview.staff,
          channel: 'fax',
        }),
      ),
    )
    expect(state).toBe('23503')
    // And one without its channel, or a typed-in name on a referral no one entered.
    const partial = (values: Partial<typeof s.referrals.$inferInsert>) =>
      sqlState(
        db.as(as).tenant((tx) =>
          tx.insert(s.referrals).values({
            clinicId: c.northside.id,
            referenceNumber: `NOR-${randomUUID().slice(0, 7).toUpperCase()}`,
            formVersion: c.northside.form.version,
            submittedBy: c.northside.referrer,
            formData: {},
            ...values,
          }),
        ),
      )
    expect(await partial({ enteredBy: c.northside.staff })).toBe('23514')
    expect(await partial({ referrerName: 'Dr. Nobody' })).toBe('23514')
  })

  test.each([
    ['no channel', { arrivedVia: '' }, 'arrivedVia', 'Choose how the referral arrived'],
    ['a channel that is not one', { arrivedVia: 'pigeon' }, 'arrivedVia', 'Choose how the referral arrived'],
    ['a received date in the future', { receivedOn: clinicToday(365) }, 'receivedOn', 'Date received cannot be in the future'],
    ['a received date over a year ago', { receivedOn: daysAgo(400) }, 'receivedOn', 'Date received: enter a date on or after'],
    ['a day that does not exist', { receivedOn: '2026-02-30' }, 'receivedOn', 'that day does not exist'],
    ['a time that is not one', { receivedTime: '25:00' }, 'receivedTime', 'enter a time as HH:MM'],
    ['a time later today than now', { receivedOn: clinicToday(), receivedTime: '23:59' }, 'receivedTime', 'cannot be in the future'],
    ['no referrer', { referrerId: '' }, 'referrerId', 'Choose the referrer'],
    ['someone else, without a name', { referrerId: SOMEONE_ELSE, referrerName: '' }, 'referrerName', 'Type the referrer’s name'],
    ['a name too long', { referrerId: SOMEONE_ELSE, referrerName: 'x'.repeat(121) }, 'referrerName', 'at most 120 characters'],
  ])('%s: a field error, and nothing stored', async (_, change, field, message) => {
    // 23:59 UTC may not be in the future just before midnight: that case then has nothing to show.
    if ((change as Record<string, string>).receivedTime === '23:59' && new Date().getUTCHours() === 23 && new Date().getUTCMinutes() >= 50) return
    const result = await enter(c.northside, posted(c.northside, { arrivedVia: 'fax', receivedOn: daysAgo(2), referrerId: c.northside.referrer, ...change }))
    expect('errors' in result && result.errors?.[field]?.join(' ')).toContain(message)
    await refusedWrites(result.idempotencyKey)
  })

  test('every error at once: a missing field does not hide the rules between fields', async () => {
    const result = await enter(c.northside, posted(c.northside, { receivedOn: clinicToday(), receivedTime: '23:59', referrerId: SOMEONE_ELSE }))
    expect('errors' in result && Object.keys(result.errors ?? {})).toEqual(expect.arrayContaining(['arrivedVia', 'referrerName']))
    await refusedWrites(result.idempotencyKey)
  })

  test('a required field of the clinic’s own form missing is its own field error', async () => {
    const result = await enter(
      c.northside,
      posted(c.northside, { arrivedVia: 'fax', receivedOn: daysAgo(2), referrerId: c.northside.referrer }, { patient_last_name: '' }),
    )
    expect('errors' in result && result.errors?.patient_last_name).toBeTruthy()
    await refusedWrites(result.idempotencyKey)
  })
})

describe('the clinic’s days, in Toronto at a day boundary', () => {
  test('the queue’s received from/to filters are Toronto’s days: 23:30 EST is still that day there, 00:00 EST the next', async () => {
    const result = await enter(c.northside, posted(c.northside, { arrivedVia: 'phone', receivedOn: daysAgo(2), referrerId: c.northside.referrer }))
    const id = (result as { created: { id: string } }).created.id
    const [row] = await db.owner.select().from(s.referrals).where(eq(s.referrals.id, id))
    const staff = db.as(staffScope(c.northside))
    const shown = (day: string, zone: string) =>
      staff.tenant(async (tx) => {
        const page = await queuePage(tx, QueueViewSchema.parse({ status: 'all', from: day, to: day, ref: row!.referenceNumber }), c.northside.staff, zone)
        return page.rows.map((r) => r.id)
      })
    // 04:30 UTC on the 15th of January is 23:30 EST on the 14th in Toronto.
    await db.owner
      .update(s.referrals)
      .set({ receivedAt: new Date('2026-01-15T04:30:00Z') })
      .where(eq(s.referrals.id, id))
    expect(await shown('2026-01-14', 'America/Toronto')).toEqual([id])
    expect(await shown('2026-01-15', 'America/Toronto')).toEqual([])
    // The same instant is the 15th for a clinic on UTC: the zone is the clinic's, not a fixed one.
    expect(await shown('2026-01-15', 'UTC')).toEqual([id])
    // 05:00 UTC is midnight EST: the 15th begins there.
    await db.owner
      .update(s.referrals)
      .set({ receivedAt: new Date('2026-01-15T05:00:00Z') })
      .where(eq(s.referrals.id, id))
    expect(await shown('2026-01-14', 'America/Toronto')).toEqual([])
    expect(await shown('2026-01-15', 'America/Toronto')).toEqual([id])
    // And in summer, EDT: 03:59 UTC on 2 July is 23:59 on 1 July.
    await db.owner
      .update(s.referrals)
      .set({ receivedAt: new Date('2026-07-02T03:59:00Z') })
      .where(eq(s.referrals.id, id))
    expect(await shown('2026-07-01', 'America/Toronto')).toEqual([id])
    expect(await shown('2026-07-02', 'America/Toronto')).toEqual([])
  })

  test('the day received may not be after the clinic’s today: at 21:00 in Toronto, UTC’s tomorrow is still the future', () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    try {
      vi.setSystemTime(new Date('2026-01-15T02:00:00Z')) // 2026-01-14 21:00 EST
      const parse = (receivedOn: string, zone: string) => {
        const submission = parseForm(
          posted(c.northside, { arrivedVia: 'fax', receivedOn, referrerId: c.northside.referrer }),
          inboundSchema(c.northside.form.definition, zone),
        )
        return { status: submission.status, error: submission.status === 'success' ? undefined : submission.error }
      }
      const tomorrow = parse('2026-01-15', 'America/Toronto')
      expect(tomorrow.status).toBe('error')
      expect(tomorrow.error).toEqual({ receivedOn: ['Date received cannot be in the future'] })
      expect(parse('2026-01-14', 'America/Toronto').status).toBe('success')
      // A clinic on UTC is already on the 15th.
      expect(parse('2026-01-15', 'UTC').status).toBe('success')
      // A year back, counted from Toronto's today: the 14th of January 2025 is in, the 13th out.
      expect(parse('2025-01-14', 'America/Toronto').status).toBe('success')
      expect(parse('2025-01-13', 'America/Toronto').error).toEqual({ receivedOn: ['Date received: enter a date on or after January 14, 2025'] })
    } finally {
      vi.useRealTimers()
    }
  })
})
