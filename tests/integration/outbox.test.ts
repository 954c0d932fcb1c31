/**
 * The outbox (drizzle/0024; docs/decisions/038-outbox-and-courier-worker.md): a change writes its
 * event in its own transaction (or not at all), the event says ids and states only, notes go
 * nowhere, the runtime role cannot read or write the table, and the courier's claim and settle
 * lease, back off and give up as they say.
 */
import { randomUUID } from 'node:crypto'
import { and, eq, sql } from 'drizzle-orm'
import { beforeAll, expect, inject, test } from 'vitest'
import { recordAudit } from '../../app/audit/audit.server'
import { createPhiCipher, parseKeyRing } from '../../app/crypto/phi.server'
import * as s from '../../app/db/schema'
import { performWork } from '../../app/referrals/work.server'
import type { TenantScope } from '../../app/tenancy/tenant.server'
import { sqlState, useTestDatabase } from '../support/db'

const db = useTestDatabase()
const secrets = inject('secrets')
const cipher = createPhiCipher({ keyRing: parseKeyRing(secrets.phiKeyRing), blindIndexKey: secrets.phiBlindIndexKey })
let staff: TenantScope
let template: typeof s.referrals.$inferSelect

beforeAll(async () => {
  const [clinic] = await db.owner.select().from(s.clinics).where(eq(s.clinics.slug, 'lakeview'))
  const [member] = await db.owner.select().from(s.users).where(eq(s.users.email, 'staff@lakeview.test'))
  staff = { clinicId: clinic!.id, userId: member!.id, role: 'staff' }
  const [first] = await db.owner.select().from(s.referrals).where(eq(s.referrals.clinicId, clinic!.id)).limit(1)
  template = first!
})

async function referralIn(status: s.ReferralStatus) {
  const id = randomUUID()
  await db.owner
    .insert(s.referrals)
    .values({ ...template, id, status, referenceNumber: `OB-${id.slice(0, 8)}`, idempotencyKey: null, version: 1, forwardedToClinicId: null })
  return id
}

const eventsOf = (referralId: string) => db.owner.select().from(s.outboxEvents).where(eq(s.outboxEvents.referralId, referralId)).orderBy(s.outboxEvents.id)

const work = (id: string, input: Record<string, unknown>) =>
  db
    .as(staff)
    .tenant((tx) =>
      performWork(
        tx,
        { clinicId: staff.clinicId!, userId: staff.userId!, cipher, audit: (t, e) => recordAudit(t, staff, { requestId: 'ob', ip: null, userAgent: null }, e) },
        id,
        { version: 1, ...input } as never,
      ),
    )

test('the demo history is not news: the seed leaves nothing pending', async () => {
  // The seed's events are the ones written before it marked them done (its last statement); other
  // files' tests, which start after it, write theirs later (some dated back, so the time an event
  // is about says nothing).
  const { rows } = await db.owner.execute<{ pending: number; seeded: number }>(sql`
    select count(*) filter (where o.done_at is null)::int as pending, count(*)::int as seeded
      from outbox_events o join referral_events e on e.id = (o.data ->> 'eventId')::uuid
     where o.occurred_at < (select min(done_at) from outbox_events)`)
  expect(rows[0]!.seeded).toBeGreaterThan(100)
  expect(rows[0]!.pending).toBe(0)
})

test('a decline writes one status event of ids and states, in its own transaction; its free-text reason is not in it', async () => {
  const id = await referralIn('in_review')
  expect(await work(id, { intent: 'status', to: 'declined', reason: 'Outside our catchment area, patient Zebulon' })).toMatchObject({ outcome: 'done' })
  const [event, ...more] = await eventsOf(id)
  expect(more).toEqual([])
  expect(event).toMatchObject({ clinicId: staff.clinicId, topic: 'referral.status_changed', doneAt: null, attempts: 0 })
  expect(event!.data).toEqual({
    eventId: expect.any(String),
    actorId: staff.userId,
    from: 'in_review',
    to: 'declined',
    priority: template.priority,
    status: 'declined',
  })
  expect(JSON.stringify(event)).not.toMatch(/Zebulon|catchment/)
})

test('a refused move writes no event; a note writes none; an assignment and a question do', async () => {
  const id = await referralIn('received')
  expect(await work(id, { intent: 'status', to: 'completed' })).not.toMatchObject({ outcome: 'done' })
  expect(await eventsOf(id)).toEqual([])
  await db.as(staff).tenant((tx) => tx.insert(s.referralEvents).values({ clinicId: staff.clinicId!, referralId: id, actorId: staff.userId, type: 'note' }))
  expect(await eventsOf(id)).toEqual([])
  await db
    .as(staff)
    .tenant((tx) =>
      tx
        .insert(s.referralEvents)
        .values({ clinicId: staff.clinicId!, referralId: id, actorId: staff.userId, type: 'assignment', data: { from: null, to: staff.userId } }),
    )
  await db
    .as(staff)
    .tenant((tx) =>
      tx.insert(s.referralEvents).values({ clinicId: staff.clinicId!, referralId: id, actorId: staff.userId, type: 'message', visibleToReferrer: true }),
    )
  expect((await eventsOf(id)).map((e) => e.topic)).toEqual(['referral.assigned', 'referral.question_asked'])
})

test('a change that rolls back leaves no event', async () => {
  const id = await referralIn('received')
  const failed = db.as(staff).tenant(async (tx) => {
    await tx.insert(s.referralEvents).values({ clinicId: staff.clinicId!, referralId: id, actorId: staff.userId, type: 'message' })
    throw new Error('rolled back on purpose')
  })
  await expect(failed).rejects.toThrow('rolled back on purpose')
  expect(await eventsOf(id)).toEqual([])
})

test('the runtime role can neither read nor write the outbox, nor forge an event', async () => {
  const asApp = db.as(staff)
  expect(await sqlState(asApp.tenant((tx) => tx.select().from(s.outboxEvents).limit(1)))).toBe('42501')
  expect(await sqlState(asApp.tenant((tx) => tx.insert(s.outboxEvents).values({ clinicId: staff.clinicId!, topic: 'referral.created' })))).toBe('42501')
  expect(await sqlState(asApp.tenant((tx) => tx.execute(sql`update outbox_events set done_at = now()`)))).toBe('42501')
})

test('claim leases each event to one run, settle marks it done, a failure backs off, and 24 hours of failures give up', async () => {
  const id = await referralIn('received')
  await db.as(staff).tenant((tx) => tx.insert(s.referralEvents).values({ clinicId: staff.clinicId!, referralId: id, actorId: staff.userId, type: 'message' }))
  const [mine] = await eventsOf(id)
  const asApp = db.as(staff)
  // Other files' events may be pending too: claim with a 1-second lease so nobody else waits.
  const claimUntilMine = async () => {
    for (let round = 0; round < 20; round++) {
      const { rows } = await asApp.tenant((tx) => tx.execute<{ id: string }>(sql`select id from claim_outbox_events(500, 1)`))
      if (rows.some((r) => Number(r.id) === mine!.id)) return true
      if (rows.length === 0) return false
    }
    return false
  }
  expect(await claimUntilMine()).toBe(true)
  // Leased: a second run at once does not get it.
  const { rows: second } = await asApp.tenant((tx) => tx.execute<{ id: string }>(sql`select id from claim_outbox_events(500, 1)`))
  expect(second.map((r) => Number(r.id))).not.toContain(mine!.id)
  // A failure: due again after the backoff, not before.
  await asApp.tenant((tx) => tx.execute(sql`select settle_outbox_event(${mine!.id}, false, 30)`))
  const [backedOff] = await eventsOf(id)
  expect(backedOff!.claimedUntil!.getTime() - Date.now()).toBeGreaterThan(25_000)
  expect(backedOff).toMatchObject({ doneAt: null, gaveUpAt: null, attempts: 1 })
  // Given up once a day old.
  await db.owner.execute(sql`update outbox_events set occurred_at = now() - interval '25 hours' where id = ${mine!.id}`)
  await asApp.tenant((tx) => tx.execute(sql`select settle_outbox_event(${mine!.id}, false, 30)`))
  expect((await eventsOf(id))[0]!.gaveUpAt).not.toBeNull()
  // Done.
  await db.owner.execute(sql`update outbox_events set gave_up_at = null, claimed_until = null where id = ${mine!.id}`)
  expect(await claimUntilMine()).toBe(true)
  await asApp.tenant((tx) => tx.execute(sql`select settle_outbox_event(${mine!.id}, true, 0)`))
  const [done] = await db.owner
    .select()
    .from(s.outboxEvents)
    .where(and(eq(s.outboxEvents.id, mine!.id)))
  expect(done!.doneAt).not.toBeNull()
  expect(await claimUntilMine()).toBe(false)
})

test('the claim refuses limits and leases out of range', async () => {
  const asApp = db.as(staff)
  for (const [limit, lease] of [
    [0, 10],
    [501, 10],
    [10, 0],
    [10, 3601],
  ]) {
    expect(await sqlState(asApp.tenant((tx) => tx.execute(sql`select * from claim_outbox_events(${limit}, ${lease})`)))).toBe('P0001')
  }
})
