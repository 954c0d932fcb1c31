/**
 * The email channel's bookkeeping (drizzle/0026; docs/decisions/041): which change is whose
 * email, one row per (event, recipient) however often the courier sees the event, nothing for
 * someone who turned the kind off, and rows only the courier's scope writes and only the
 * clinic's admins read. Sending itself runs in workerd: tests/e2e/email.spec.ts.
 */
import { randomUUID } from 'node:crypto'
import { eq, sql } from 'drizzle-orm'
import { afterAll, beforeAll, expect, inject, test } from 'vitest'
import { recordAudit } from '../../app/audit/audit.server'
import { createPhiCipher, parseKeyRing } from '../../app/crypto/phi.server'
import { connectDatabase } from '../../app/db/client.server'
import * as s from '../../app/db/schema'
import { performWork } from '../../app/referrals/work.server'
import type { TenantScope } from '../../app/tenancy/tenant.server'
import { planFor } from '../../workers/courier/src/email/plan'
import { recordDeliveries } from '../../workers/courier/src/email/record'
import { courierScope } from '../../workers/courier/src/email/scope'
import { rolledBack, sqlState, useTestDatabase } from '../support/db'

const db = useTestDatabase()
const app = connectDatabase({ url: db.config.appUrl, wsProxy: db.config.wsProxy })
afterAll(() => app.end())
const secrets = inject('secrets')
const cipher = createPhiCipher({ keyRing: parseKeyRing(secrets.phiKeyRing), blindIndexKey: secrets.phiBlindIndexKey })

type People = { clinicId: string; staff: string; admin: string; referrer: string; otherStaff: string[] }
const clinic = {} as Record<'lakeview' | 'northside', People>
let template: typeof s.referrals.$inferSelect

async function peopleOf(slug: 'lakeview' | 'northside'): Promise<People> {
  const [c] = await db.owner.select().from(s.clinics).where(eq(s.clinics.slug, slug))
  const members = await db.owner.select().from(s.users).where(eq(s.users.clinicId, c!.id))
  const id = (who: string) => members.find((m) => m.email === `${who}@${slug}.test`)!.id
  return {
    clinicId: c!.id,
    staff: id('staff'),
    admin: id('admin'),
    referrer: id('referrer'),
    otherStaff: members.filter((m) => (m.role === 'staff' || m.role === 'admin') && m.status === 'active').map((m) => m.id),
  }
}

beforeAll(async () => {
  clinic.lakeview = await peopleOf('lakeview')
  clinic.northside = await peopleOf('northside')
  const [first] = await db.owner.select().from(s.referrals).where(eq(s.referrals.clinicId, clinic.lakeview.clinicId)).limit(1)
  template = first!
})

const staffScope = (): TenantScope => ({ clinicId: clinic.lakeview.clinicId, userId: clinic.lakeview.staff, role: 'staff' })

/** A referral of lakeview's referrer@, sent by them (not entered by staff). */
async function referralIn(status: s.ReferralStatus, priority: s.ReferralPriority = 'routine', submittedBy = clinic.lakeview.referrer) {
  const id = randomUUID()
  await db.owner.insert(s.referrals).values({
    ...template,
    id,
    status,
    priority,
    submittedBy,
    enteredBy: null,
    channel: null,
    referrerName: null,
    referrerOrganization: null,
    referenceNumber: `EM-${id.slice(0, 8)}`,
    idempotencyKey: null,
    version: 1,
    forwardedToClinicId: null,
    forwardedFromClinicId: null,
  })
  return id
}

const work = (id: string, input: Record<string, unknown>, who = staffScope()) =>
  db.as(who).tenant((tx) =>
    performWork(
      tx,
      { clinicId: who.clinicId!, userId: who.userId!, cipher, audit: (t, e) => recordAudit(t, who, { requestId: 'em', ip: null, userAgent: null }, e) },
      id,
      { version: 1, ...input } as never,
    ),
  )

/** What the courier would do with each of the referral's outbox events: plan, then record. */
async function courierSees(referralId: string) {
  const events = await db.owner.select().from(s.outboxEvents).where(eq(s.outboxEvents.referralId, referralId)).orderBy(s.outboxEvents.id)
  for (const e of events) {
    const event = { id: e.id, clinicId: e.clinicId, referralId: e.referralId, topic: e.topic, data: e.data, occurredAt: e.occurredAt, attempts: 1 }
    const plan = planFor(event)
    if (plan) await recordDeliveries(app.db, event, plan)
  }
  return events.length
}

const deliveriesOf = (referralId: string) =>
  db.owner
    .select({ kind: s.emailDeliveries.kind, recipientId: s.emailDeliveries.recipientId, status: s.emailDeliveries.status })
    .from(s.emailDeliveries)
    .where(eq(s.emailDeliveries.referralId, referralId))

const setOff = (userId: string, off: s.EmailKind[]) =>
  db.owner
    .insert(s.emailPreferences)
    .values({ clinicId: clinic.lakeview.clinicId, userId, off })
    .onConflictDoUpdate({ target: [s.emailPreferences.clinicId, s.emailPreferences.userId], set: { off } })

test('a decline is one email to the referrer, however often the courier sees the event', async () => {
  const id = await referralIn('in_review')
  expect(await work(id, { intent: 'status', to: 'declined', reason: 'Outside our catchment' })).toMatchObject({ outcome: 'done' })
  expect(await courierSees(id)).toBe(1)
  await courierSees(id)
  expect(await deliveriesOf(id)).toEqual([{ kind: 'declined', recipientId: clinic.lakeview.referrer, status: 'pending' }])
})

test('a question is one email (not a second for the move to info_requested); a move to review is none', async () => {
  const id = await referralIn('received')
  expect(await work(id, { intent: 'status', to: 'in_review' })).toMatchObject({ outcome: 'done' })
  expect(await work(id, { intent: 'message', body: 'Please send the imaging report', version: 2 })).toMatchObject({ outcome: 'done' })
  expect(await courierSees(id)).toBe(3)
  expect(await deliveriesOf(id)).toEqual([{ kind: 'question', recipientId: clinic.lakeview.referrer, status: 'pending' }])
})

test('a referrer who turned declines off gets no row; their other kinds still come', async () => {
  await setOff(clinic.lakeview.referrer, ['declined'])
  try {
    const declined = await referralIn('in_review')
    await work(declined, { intent: 'status', to: 'declined', reason: 'No capacity' })
    await courierSees(declined)
    expect(await deliveriesOf(declined)).toEqual([])
    const accepted = await referralIn('in_review')
    await work(accepted, { intent: 'status', to: 'accepted' })
    await courierSees(accepted)
    expect(await deliveriesOf(accepted)).toEqual([{ kind: 'accepted', recipientId: clinic.lakeview.referrer, status: 'pending' }])
  } finally {
    await setOff(clinic.lakeview.referrer, [])
  }
})

test('a new urgent referral tells every active staff member and admin of its clinic, and nobody else', async () => {
  const routine = await referralIn('received', 'routine')
  const urgent = await referralIn('received', 'urgent')
  for (const id of [routine, urgent]) {
    await db.owner.insert(s.referralEvents).values({ clinicId: clinic.lakeview.clinicId, referralId: id, actorId: clinic.lakeview.referrer, type: 'created' })
    await courierSees(id)
  }
  expect(await deliveriesOf(routine)).toEqual([])
  const rows = await deliveriesOf(urgent)
  expect(rows.map((r) => r.recipientId).sort()).toEqual([...clinic.lakeview.otherStaff].sort())
  expect(rows.every((r) => r.kind === 'new_urgent')).toBe(true)
  expect(rows.map((r) => r.recipientId)).not.toContain(clinic.lakeview.referrer)
  expect(rows.map((r) => r.recipientId)).not.toEqual(expect.arrayContaining(clinic.northside.otherStaff))
})

test('an assignment tells the assignee, unless they took it themselves', async () => {
  const byAdmin = await referralIn('received')
  const selfTaken = await referralIn('received')
  const adminScope: TenantScope = { clinicId: clinic.lakeview.clinicId, userId: clinic.lakeview.admin, role: 'admin' }
  expect(await work(byAdmin, { intent: 'assign', assignee: clinic.lakeview.staff }, adminScope)).toMatchObject({ outcome: 'done' })
  expect(await work(selfTaken, { intent: 'assign', assignee: clinic.lakeview.staff })).toMatchObject({ outcome: 'done' })
  await courierSees(byAdmin)
  await courierSees(selfTaken)
  expect(await deliveriesOf(byAdmin)).toEqual([{ kind: 'assigned', recipientId: clinic.lakeview.staff, status: 'pending' }])
  expect(await deliveriesOf(selfTaken)).toEqual([])
})

test('only the courier scope writes deliveries; a clinic admin reads their own clinic only; staff and referrers read none', async () => {
  const id = await referralIn('in_review')
  await work(id, { intent: 'status', to: 'accepted' })
  await courierSees(id)
  const mine = sql`select id from email_deliveries where referral_id = ${id}`
  const seen = async (scope: Partial<TenantScope>) => (await db.as(scope).tenant((tx) => tx.execute(mine))).rows.length
  expect(await seen({ clinicId: clinic.lakeview.clinicId, userId: clinic.lakeview.admin, role: 'admin' })).toBe(1)
  expect(await seen(courierScope(clinic.lakeview.clinicId))).toBe(1)
  expect(await seen(staffScope())).toBe(0)
  expect(await seen({ clinicId: clinic.lakeview.clinicId, userId: clinic.lakeview.referrer, role: 'referrer' })).toBe(0)
  expect(await seen({ clinicId: clinic.northside.clinicId, userId: clinic.northside.admin, role: 'admin' })).toBe(0)
  expect(await seen(courierScope(clinic.northside.clinicId))).toBe(0)
  const forge = (scope: TenantScope) =>
    db.as(scope).tenant((tx) =>
      tx.insert(s.emailDeliveries).values({ clinicId: clinic.lakeview.clinicId, outboxEventId: -1, referralId: id, recipientId: clinic.lakeview.admin, kind: 'assigned' }),
    )
  expect(await sqlState(forge(staffScope()))).toBe('42501')
  expect(await sqlState(forge({ clinicId: clinic.lakeview.clinicId, userId: clinic.lakeview.admin, role: 'admin' }))).toBe('42501')
  expect(await sqlState(forge(courierScope(clinic.northside.clinicId)))).toBe('42501')
  // Positive control: the courier's own scope may.
  expect(await rolledBack(db.as(courierScope(clinic.lakeview.clinicId)), (tx) => tx.insert(s.emailDeliveries).values({ clinicId: clinic.lakeview.clinicId, outboxEventId: -1, referralId: id, recipientId: clinic.lakeview.admin, kind: 'assigned' }).returning())).toHaveLength(1)
})

test('a user sets their own preferences only', async () => {
  const me: TenantScope = { clinicId: clinic.lakeview.clinicId, userId: clinic.lakeview.staff, role: 'staff' }
  const insertFor = (userId: string) => (tx: Parameters<Parameters<typeof rolledBack>[1]>[0]) =>
    tx.insert(s.emailPreferences).values({ clinicId: clinic.lakeview.clinicId, userId, off: ['assigned'] }).onConflictDoUpdate({ target: [s.emailPreferences.clinicId, s.emailPreferences.userId], set: { off: ['assigned'] } }).returning()
  expect(await rolledBack(db.as(me), insertFor(clinic.lakeview.staff))).toHaveLength(1)
  expect(await sqlState(rolledBack(db.as(me), insertFor(clinic.lakeview.admin)))).toBe('42501')
})

test('claim_email_deliveries refuses limits and leases out of range', async () => {
  for (const [limit, lease] of [
    [0, 10],
    [501, 10],
    [10, 0],
    [10, 3601],
  ]) {
    expect(await sqlState(db.as(staffScope()).tenant((tx) => tx.execute(sql`select * from claim_email_deliveries(${limit}, ${lease})`)))).toBe('P0001')
  }
})
