/**
 * Creating referrals and reading the queue against the real database, through db.tenant (RLS
 * in force): idempotency under a concurrent double submit, the duplicate-patient check and
 * its clinic boundary, and keyset pagination that returns every row exactly once.
 */
import { randomUUID } from 'node:crypto'
import { and, asc, desc, eq, sql, type SQL } from 'drizzle-orm'
import { beforeAll, describe, expect, inject, test } from 'vitest'
import { recordAudit } from '../../app/audit/audit.server'
import { createPhiCipher, isEncryptedValue, parseKeyRing } from '../../app/crypto/phi.server'
import * as s from '../../app/db/schema'
import { QueueViewSchema, type QueueView } from '../../app/referrals/queue'
import { PAGE_SIZE, queuePage } from '../../app/referrals/queue.server'
import type { FormValues } from '../../app/referrals/form-data.server'
import { createReferral, type NewReferral } from '../../app/referrals/create-referral.server'
import type { TenantScope, TenantTx } from '../../app/tenancy/tenant.server'
import { fakeReferralValues } from '../factories/patients'
import { createRandom } from '../factories/random'
import { rolledBack, useTestDatabase } from '../support/db'

const db = useTestDatabase()
const secrets = inject('secrets')
const cipher = createPhiCipher({ keyRing: parseKeyRing(secrets.phiKeyRing), blindIndexKey: secrets.phiBlindIndexKey })
const random = createRandom(Date.now() >>> 0)

type Clinic = { id: string; slug: string; staff: string; referrer: string; referrer2: string; form: NewReferral['form'] }
const c = {} as Record<'northside' | 'lakeview' | 'riverbend', Clinic>

async function loadClinic(slug: keyof typeof c): Promise<Clinic> {
  const [clinic] = await db.owner.select().from(s.clinics).where(eq(s.clinics.slug, slug))
  const members = await db.owner.select().from(s.users).where(eq(s.users.clinicId, clinic!.id))
  const user = (prefix: string) => members.find((m) => m.email === `${prefix}@${slug}.test`)!.id
  const [form] = await db.owner.select().from(s.intakeForms).where(eq(s.intakeForms.clinicId, clinic!.id)).orderBy(desc(s.intakeForms.version)).limit(1)
  return { id: clinic!.id, slug, staff: user('staff'), referrer: user('referrer'), referrer2: user('referrer2'), form: form! }
}

beforeAll(async () => {
  for (const slug of ['northside', 'lakeview', 'riverbend'] as const) c[slug] = await loadClinic(slug)
})

const scope = (clinic: Clinic, who: 'staff' | 'referrer' | 'referrer2'): TenantScope => ({
  clinicId: clinic.id,
  userId: clinic[who],
  role: who === 'staff' ? 'staff' : 'referrer',
})
const audit = (who: TenantScope) => (tx: TenantTx, event: Parameters<typeof recordAudit>[3]) =>
  recordAudit(tx, who, { requestId: randomUUID(), ip: null, userAgent: null }, event)

/** A patient no other test has: the health card number is unique to this call. */
type Values = FormValues & Record<'health_card_number' | 'patient_last_name' | 'patient_dob', string>
function newValues(clinic: Clinic, patient?: Partial<Record<string, string>>): Values {
  const values = fakeReferralValues(random, {
    clinicSlug: clinic.slug,
    services: ['Physiotherapy assessment'],
    clinician: { name: 'Dr. Test', practice: 'Test practice' },
  })
  return { ...values, health_card_number: `${randomUUID().slice(0, 8)}-IT`, ...patient } as Values
}

/** What the new-referral route does: one db.tenant transaction as the referrer. */
function submit(clinic: Clinic, values: Values, idempotencyKey = randomUUID(), who: 'referrer' | 'referrer2' = 'referrer') {
  const as = scope(clinic, who)
  return db.as(as).tenant((tx) =>
    createReferral(tx, cipher, audit(as), {
      clinic: { id: clinic.id, slug: clinic.slug },
      submittedBy: clinic[who],
      form: clinic.form,
      values,
      idempotencyKey,
    }),
  )
}
const ownerReferral = async (id: string) => (await db.owner.select().from(s.referrals).where(eq(s.referrals.id, id)))[0]!

describe('createReferral', () => {
  test('its first history event goes with the commit, yet stands before what the same transaction writes after it; a rollback writes neither', async () => {
    const as = scope(c.northside, 'referrer')
    const { id } = await db.as(as).tenant(async (tx) => {
      const created = await createReferral(tx, cipher, audit(as), {
        clinic: { id: c.northside.id, slug: c.northside.slug },
        submittedBy: c.northside.referrer,
        form: c.northside.form,
        values: newValues(c.northside),
        idempotencyKey: randomUUID(),
      })
      // A later event of the same transaction (clock_timestamp(): written after the insert above).
      await tx
        .insert(s.referralEvents)
        .values({ clinicId: c.northside.id, referralId: created.id, actorId: c.northside.referrer, type: 'reply', visibleToReferrer: true })
      return created
    })
    const events = await db.owner.select().from(s.referralEvents).where(eq(s.referralEvents.referralId, id)).orderBy(s.referralEvents.createdAt)
    expect(events.map((e) => e.type)).toEqual(['created', 'reply'])

    const key = randomUUID()
    const failing = db.as(as).tenant(async (tx) => {
      await createReferral(tx, cipher, audit(as), {
        clinic: { id: c.northside.id, slug: c.northside.slug },
        submittedBy: c.northside.referrer,
        form: c.northside.form,
        values: newValues(c.northside),
        idempotencyKey: key,
      })
      throw new Error('the request failed after the insert')
    })
    await expect(failing).rejects.toThrow('the request failed after the insert')
    const left = await db.owner.select().from(s.referrals).where(eq(s.referrals.idempotencyKey, key))
    expect(left).toEqual([])
  })

  test('five concurrent submits with the same idempotency key create exactly one referral', async () => {
    const key = randomUUID()
    const values = newValues(c.northside)
    const results = await Promise.all(Array.from({ length: 5 }, () => submit(c.northside, values, key)))
    expect(new Set(results.map((r) => r.id)).size).toBe(1)
    expect(new Set(results.map((r) => r.referenceNumber)).size).toBe(1)
    expect(results.filter((r) => r.created)).toHaveLength(1)

    const rows = await db.owner
      .select()
      .from(s.referrals)
      .where(and(eq(s.referrals.submittedBy, c.northside.referrer), eq(s.referrals.idempotencyKey, key)))
    expect(rows.map((r) => r.id)).toEqual([results[0]!.id])
    const events = await db.owner.select().from(s.referralEvents).where(eq(s.referralEvents.referralId, results[0]!.id))
    expect(events.map((e) => e.type)).toEqual(['created'])
    const audits = await db.owner
      .select()
      .from(s.auditLogs)
      .where(and(eq(s.auditLogs.action, 'referral.create'), eq(s.auditLogs.entityId, results[0]!.id)))
    expect(audits).toHaveLength(1)

    // Positive control: another key (a second, deliberate referral) is another row.
    const other = await submit(c.northside, values)
    expect(other.created).toBe(true)
    expect(other.id).not.toBe(results[0]!.id)
  })

  test('the same key from another referrer is their own referral, not a replay of someone else’s', async () => {
    const key = randomUUID()
    const mine = await submit(c.northside, newValues(c.northside), key, 'referrer')
    const theirs = await submit(c.northside, newValues(c.northside), key, 'referrer2')
    expect(theirs.created).toBe(true)
    expect(theirs.id).not.toBe(mine.id)
  })

  test('PHI is sealed in form_data; blind indexes are set; non-PHI stays plain', async () => {
    const values = newValues(c.northside, { patient_last_name: 'Quillfeather' })
    const { id } = await submit(c.northside, values)
    const row = await ownerReferral(id)
    expect(isEncryptedValue(row.formData.patient_last_name)).toBe(true)
    expect(isEncryptedValue(row.formData.health_card_number)).toBe(true)
    expect(row.formData.urgency).toBe(values.urgency)
    expect(JSON.stringify(row)).not.toContain('Quillfeather')
    expect(JSON.stringify(row)).not.toContain(values.health_card_number)
    expect(row.healthCardIndex).toBeTruthy()
    expect(row.nameDobIndex).toBeTruthy()
    expect(await cipher.decrypt(row.formData.patient_last_name, { clinicId: c.northside.id, recordId: id, field: 'patient_last_name' })).toBe('Quillfeather')
  })

  test('a second referral for the same patient points at the open first one, whoever referred them', async () => {
    const patient = newValues(c.northside)
    const first = await submit(c.northside, patient)
    // Another referrer (who cannot see the first under RLS), same card written differently.
    const second = await submit(
      c.northside,
      { ...newValues(c.northside), health_card_number: patient.health_card_number.toLowerCase().replace('-', ' ') },
      undefined,
      'referrer2',
    )
    expect((await ownerReferral(second.id)).possibleDuplicateOf).toBe(first.id)
    // Same last name (written differently) and date of birth, another card: the first one's patient.
    const third = await submit(c.northside, {
      ...newValues(c.northside),
      patient_last_name: ` ${patient.patient_last_name.toUpperCase()} `,
      patient_dob: patient.patient_dob,
    })
    expect((await ownerReferral(third.id)).possibleDuplicateOf).toBe(first.id)
    // Positive control: a new patient is not flagged.
    const stranger = await submit(c.northside, newValues(c.northside, { patient_last_name: `Unique${randomUUID().slice(0, 6)}` }))
    expect((await ownerReferral(stranger.id)).possibleDuplicateOf).toBeNull()
  })
})

describe('find_open_duplicate', () => {
  const crafted = () => `crafted-${randomUUID()}`
  /** A referral put in by the owner (bypassing RLS) with a chosen blind index. */
  async function plant(clinic: Clinic, index: string, status: s.ReferralStatus = 'received') {
    const [row] = await db.owner
      .insert(s.referrals)
      .values({
        clinicId: clinic.id,
        referenceNumber: `PROBE-${randomUUID()}`,
        formVersion: 1,
        submittedBy: clinic.referrer2,
        status,
        formData: {},
        healthCardIndex: index,
        nameDobIndex: index,
      })
      .returning({ id: s.referrals.id })
    return row!.id
  }
  const find = (who: Partial<TenantScope>, card: string | null, nameDob: string | null = null, exclude: string | null = null) =>
    db
      .as(who)
      .tenant(async (tx) => (await tx.execute<{ id: string | null }>(sql`select find_open_duplicate(${card}, ${nameDob}, ${exclude}::uuid) as id`)).rows[0]!.id)

  test("only the caller's own clinic is searched", async () => {
    const index = crafted()
    const lakeviewId = await plant(c.lakeview, index)
    // Positive control: lakeview finds it, even its referrer who cannot read it (an id, no PHI).
    expect(await find(scope(c.lakeview, 'staff'), index)).toBe(lakeviewId)
    expect(await find(scope(c.lakeview, 'referrer'), null, index)).toBe(lakeviewId)
    // Northside, with the very same index value, does not.
    expect(await find(scope(c.northside, 'staff'), index)).toBeNull()
    expect(await find(scope(c.northside, 'referrer'), index, index)).toBeNull()
    // Nor does a caller with no clinic context.
    expect(await find({}, index, index)).toBeNull()
  })

  test('closed and declined referrals are not open duplicates; p_exclude skips the referral itself', async () => {
    const closedIndex = crafted()
    await plant(c.northside, closedIndex, 'closed')
    await plant(c.northside, closedIndex, 'declined')
    expect(await find(scope(c.northside, 'staff'), closedIndex)).toBeNull()
    const openIndex = crafted()
    const open = await plant(c.northside, openIndex, 'scheduled')
    expect(await find(scope(c.northside, 'staff'), openIndex)).toBe(open)
    expect(await find(scope(c.northside, 'staff'), openIndex, null, open)).toBeNull()
    // Null indexes match nothing (no card and no name + DOB is not "everyone").
    expect(await find(scope(c.northside, 'staff'), null, null)).toBeNull()
  })
})

describe('queuePage keyset pagination', () => {
  const rank = sql`(case ${s.referrals.priority} when 'emergent' then 0 when 'urgent' then 1 else 2 end)`
  const ORDER = {
    received: [desc(s.referrals.receivedAt), desc(s.referrals.id)],
    age: [asc(s.referrals.receivedAt), asc(s.referrals.id)],
    priority: [asc(rank), asc(s.referrals.receivedAt), asc(s.referrals.id)],
  }
  const view = (v: Record<string, string>) => QueueViewSchema.parse(v)

  /** Follows `next` to the end, one transaction per page as the route does; fails on a loop. */
  async function walk(run: <T>(fn: (tx: TenantTx) => Promise<T>) => Promise<T>, base: QueueView, extra?: SQL) {
    const pages: string[][] = []
    let cursor: string | undefined
    do {
      const { rows, next } = await run((tx) => queuePage(tx, { ...base, cursor }, c.riverbend.staff, 'America/Toronto', extra))
      expect(rows.length).toBeLessThanOrEqual(PAGE_SIZE)
      if (next) expect(rows).toHaveLength(PAGE_SIZE)
      pages.push(rows.map((r) => r.id))
      cursor = next ?? undefined
      expect(pages.length).toBeLessThan(100)
    } while (cursor)
    return pages
  }

  test.each([
    ['received', { status: 'all' }],
    ['age', { status: 'all' }],
    ['priority', { status: 'all' }],
    ['priority', { status: 'open', assignee: 'unassigned' }],
  ] as const)('sort=%s %o: every row exactly once, in order, across pages', async (sort, filters) => {
    const staff = db.as(scope(c.riverbend, 'staff'))
    const pages = await walk((fn) => staff.tenant(fn), view({ ...filters, sort }))
    const where = and(
      eq(s.referrals.clinicId, c.riverbend.id),
      filters.status === 'open' ? sql`${s.referrals.status} in ('received','in_review','info_requested','accepted','scheduled')` : undefined,
      'assignee' in filters ? sql`${s.referrals.assignedTo} is null` : undefined,
    )
    const truth = (
      await db.owner
        .select({ id: s.referrals.id })
        .from(s.referrals)
        .where(where)
        .orderBy(...ORDER[sort])
    ).map((r) => r.id)
    expect(truth.length).toBeGreaterThan(2 * PAGE_SIZE)
    expect(pages.flat()).toEqual(truth)
    expect(pages).toHaveLength(Math.ceil(truth.length / PAGE_SIZE))
  })

  test.each(['received', 'age', 'priority'] as const)('sort=%s: ties on received_at (to the microsecond) neither repeat nor skip rows', async (sort) => {
    await rolledBack(db.as(scope(c.riverbend, 'staff')), async (tx) => {
      const tag = `TIE-${randomUUID().slice(0, 8)}`
      // 60 rows in one microsecond, and 10 one microsecond later (a millisecond-rounded cursor would repeat them).
      const at = (micro: number) => sql`${`2001-02-03 04:05:06.789${String(micro).padStart(3, '0')}+00`}::timestamptz`
      for (const [micro, count] of [
        [123, 60],
        [124, 10],
      ] as const) {
        await tx.insert(s.referrals).values(
          Array.from({ length: count }, (_, i) => ({
            clinicId: c.riverbend.id,
            referenceNumber: `${tag}-${micro}-${i}`,
            formVersion: 1,
            submittedBy: c.riverbend.referrer,
            priority: s.referralPriorities[i % 3]!,
            formData: {},
            receivedAt: at(micro) as unknown as Date,
          })),
        )
      }
      const mine = sql`${s.referrals.referenceNumber} like ${`${tag}-%`}`
      const pages = await walk((fn) => fn(tx), view({ status: 'all', sort }), mine)
      const truth = (
        await tx
          .select({ id: s.referrals.id })
          .from(s.referrals)
          .where(mine)
          .orderBy(...ORDER[sort])
      ).map((r) => r.id)
      expect(truth).toHaveLength(70)
      expect(new Set(pages.flat()).size).toBe(70)
      expect(pages.flat()).toEqual(truth)
    })
  })
})
