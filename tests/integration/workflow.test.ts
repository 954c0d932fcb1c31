/**
 * The referral workflow through performWork (what the page and the API both run), against the
 * real database as clinic staff: every allowed move succeeds and sets its turnaround time;
 * every other move is refused and changes nothing; a decline needs a reason and a booking a
 * date, both stored encrypted and shown to the referrer.
 */
import { randomUUID } from 'node:crypto'
import { eq } from 'drizzle-orm'
import { beforeAll, describe, expect, inject, test } from 'vitest'
import { recordAudit } from '../../app/audit/audit.server'
import { createPhiCipher, parseKeyRing } from '../../app/crypto/phi.server'
import * as s from '../../app/db/schema'
import { performWork } from '../../app/referrals/work.server'
import { NEXT_STATUSES } from '../../app/referrals/workflow'
import type { TenantScope } from '../../app/tenancy/tenant.server'
import { useTestDatabase } from '../support/db'

const db = useTestDatabase()
const secrets = inject('secrets')
const cipher = createPhiCipher({ keyRing: parseKeyRing(secrets.phiKeyRing), blindIndexKey: secrets.phiBlindIndexKey })
let staff: TenantScope
let template: typeof s.referrals.$inferSelect

beforeAll(async () => {
  const [clinic] = await db.owner.select().from(s.clinics).where(eq(s.clinics.slug, 'riverbend'))
  const [member] = await db.owner.select().from(s.users).where(eq(s.users.email, 'staff@riverbend.test'))
  staff = { clinicId: clinic!.id, userId: member!.id, role: 'staff' }
  const [first] = await db.owner.select().from(s.referrals).where(eq(s.referrals.clinicId, clinic!.id)).limit(1)
  template = first!
})

/** A fresh referral in a given state (a copy of a seeded one, as the owner). */
async function referralIn(status: s.ReferralStatus) {
  const id = randomUUID()
  await db.owner.insert(s.referrals).values({
    ...template,
    id,
    status,
    referenceNumber: `WF-${id.slice(0, 8)}`,
    idempotencyKey: null,
    version: 1,
    triagedAt: null,
    closedAt: null,
    scheduledAt: null,
    // A forwarded referral says where it went (drizzle/0023); the owner may write it as such.
    forwardedToClinicId: status === 'forwarded' ? template.clinicId : null,
  })
  return id
}

const work = (id: string, to: s.ReferralStatus, extra: { reason?: string; scheduledFor?: string; scheduledTime?: string } = {}) =>
  db.as(staff).tenant((tx) =>
    performWork(
      tx,
      { clinicId: staff.clinicId!, userId: staff.userId!, cipher, audit: (t, e) => recordAudit(t, staff, { requestId: 'wf', ip: null, userAgent: null }, e) },
      id,
      {
        intent: 'status',
        to,
        version: 1,
        reason: extra.reason ?? 'Reason given by the test',
        scheduledFor: extra.scheduledFor ?? '2026-12-03',
        scheduledTime: extra.scheduledTime,
      },
    ),
  )

const ALL = s.referralStatuses
const moves = ALL.flatMap((from) => ALL.map((to) => ({ from, to, allowed: NEXT_STATUSES[from].includes(to) })))

describe.each(moves.filter((m) => m.allowed))('$from -> $to', ({ from, to }) => {
  test('is allowed, recorded and timed', async () => {
    const id = await referralIn(from)
    expect(await work(id, to)).toMatchObject({ outcome: 'done' })
    const [row] = await db.owner.select().from(s.referrals).where(eq(s.referrals.id, id))
    expect(row).toMatchObject({ status: to, version: 2 })
    if (from === 'received') expect(row!.triagedAt).not.toBeNull()
    if (to === 'scheduled') expect(row!.scheduledAt).not.toBeNull()
    if (['closed', 'declined', 'cancelled'].includes(to)) expect(row!.closedAt).not.toBeNull()
  })
})

test('every move not in the table is refused and changes nothing', async () => {
  const refused = moves.filter((m) => !m.allowed)
  expect(refused.length).toBeGreaterThan(20)
  for (const { from, to } of refused) {
    const id = await referralIn(from)
    expect(await work(id, to), `${from} -> ${to}`).toMatchObject({ outcome: 'bad-move' })
    const [row] = await db.owner.select().from(s.referrals).where(eq(s.referrals.id, id))
    expect(row).toMatchObject({ status: from, version: 1 })
  }
})

test('a decline needs a reason and a booking a date (and a time, when given, a real one); both are encrypted and shown to the referrer', async () => {
  const id = await referralIn('in_review')
  expect(await work(id, 'declined', { reason: '  ' })).toMatchObject({ outcome: 'needs-reason' })
  expect(await work(id, 'declined', { reason: 'Outside our catchment area' })).toMatchObject({ outcome: 'done' })
  const accepted = await referralIn('accepted')
  expect(await work(accepted, 'scheduled', { scheduledFor: 'soon' })).toMatchObject({ outcome: 'needs-date' })
  expect(await work(accepted, 'scheduled', { scheduledTime: '25:00' })).toMatchObject({ outcome: 'needs-date' })
  expect(await work(accepted, 'scheduled', { reason: '', scheduledFor: '2026-12-03', scheduledTime: '14:30' })).toMatchObject({ outcome: 'done' })
  // The API may still book a day without its time.
  const dayOnly = await referralIn('accepted')
  expect(await work(dayOnly, 'scheduled', { reason: '' })).toMatchObject({ outcome: 'done' })
  for (const [referralId, text] of [
    [id, 'Outside our catchment area'],
    [accepted, 'Appointment on 2026-12-03 at 14:30'],
    [dayOnly, 'Appointment on 2026-12-03'],
  ] as const) {
    const [event] = await db.owner.select().from(s.referralEvents).where(eq(s.referralEvents.referralId, referralId))
    expect(event).toMatchObject({ type: 'status', visibleToReferrer: true })
    expect(JSON.stringify(event!.body)).not.toContain(text.slice(0, 10))
    expect(await cipher.decrypt(event!.body, { clinicId: staff.clinicId!, recordId: event!.id, field: 'body' })).toBe(text)
  }
})
