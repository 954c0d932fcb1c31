/**
 * The queue's daily work against the real database: the "Reply received" marker that the
 * database sets with a referrer's reply (drizzle/0021), the view's capped total and the saved
 * views read in the queue's one message, and saved views kept per user.
 */
import { randomUUID } from 'node:crypto'
import { and, eq, inArray, isNotNull, sql } from 'drizzle-orm'
import { beforeAll, describe, expect, inject, test } from 'vitest'
import { recordAudit } from '../../app/audit/audit.server'
import { createPhiCipher, parseKeyRing } from '../../app/crypto/phi.server'
import * as s from '../../app/db/schema'
import { QueueViewSchema } from '../../app/referrals/queue'
import { COUNT_CAP, queuePageWithPeople } from '../../app/referrals/queue.server'
import { deleteView, MAX_SAVED_VIEWS, saveView } from '../../app/referrals/saved-views.server'
import { performWork, type Work } from '../../app/referrals/work.server'
import type { TenantScope } from '../../app/tenancy/tenant.server'
import { rolledBack, useTestDatabase } from '../support/db'

const db = useTestDatabase()
const secrets = inject('secrets')
const cipher = createPhiCipher({ keyRing: parseKeyRing(secrets.phiKeyRing), blindIndexKey: secrets.phiBlindIndexKey })
let staff: TenantScope
let admin: TenantScope
let referrer: TenantScope
let colleague: TenantScope
let template: typeof s.referrals.$inferSelect

const member = async (email: string, role: s.UserRole, clinicId: string): Promise<TenantScope> => {
  const [u] = await db.owner.select().from(s.users).where(eq(s.users.email, email))
  return { clinicId, userId: u!.id, role }
}

beforeAll(async () => {
  const [clinic] = await db.owner.select().from(s.clinics).where(eq(s.clinics.slug, 'riverbend'))
  staff = await member('staff@riverbend.test', 'staff', clinic!.id)
  admin = await member('admin@riverbend.test', 'admin', clinic!.id)
  referrer = await member('referrer@riverbend.test', 'referrer', clinic!.id)
  colleague = await member('referrer2@riverbend.test', 'referrer', clinic!.id)
  const [first] = await db.owner
    .select()
    .from(s.referrals)
    .where(and(eq(s.referrals.clinicId, clinic!.id), eq(s.referrals.submittedBy, referrer.userId!)))
    .limit(1)
  template = first!
})

/** A fresh referral of referrer@riverbend, waiting on them (a copy of a seeded one, as the owner). */
async function waitingReferral() {
  const id = randomUUID()
  await db.owner.insert(s.referrals).values({
    ...template,
    id,
    status: 'info_requested',
    referenceNumber: `QW-${id.slice(0, 8).toUpperCase()}`,
    idempotencyKey: null,
    version: 1,
    replyReceivedAt: null,
  })
  return id
}

const work = (who: TenantScope, id: string, w: Work) =>
  db
    .as(who)
    .tenant((tx) =>
      performWork(
        tx,
        { clinicId: who.clinicId!, userId: who.userId!, cipher, audit: (t, e) => recordAudit(t, who, { requestId: 'qw', ip: null, userAgent: null }, e) },
        id,
        w,
      ),
    )
const marker = async (id: string) => (await db.owner.select({ at: s.referrals.replyReceivedAt }).from(s.referrals).where(eq(s.referrals.id, id)))[0]!.at
const replies = async (id: string) =>
  db.owner
    .select({ createdAt: s.referralEvents.createdAt })
    .from(s.referralEvents)
    .where(and(eq(s.referralEvents.referralId, id), eq(s.referralEvents.type, 'reply')))
    .orderBy(s.referralEvents.createdAt)

describe('Reply received', () => {
  test("a referrer's reply marks the referral in the reply's own transaction; a second reply keeps the first one's time", async () => {
    const id = await waitingReferral()
    expect(await marker(id)).toBeNull()
    expect((await work(referrer, id, { intent: 'reply', body: 'The results are attached.' })).outcome).toBe('done')
    const [first] = await replies(id)
    expect(await marker(id)).toEqual(first!.createdAt)
    await work(referrer, id, { intent: 'reply', body: 'And one more thing.' })
    expect(await replies(id)).toHaveLength(2)
    expect(await marker(id)).toEqual(first!.createdAt)
  })

  test("staff's own notes and questions do not mark it; a reply that is refused (another referrer's referral) marks nothing", async () => {
    const id = await waitingReferral()
    await work(staff, id, { intent: 'note', body: 'Called the office.' })
    await work(staff, id, { intent: 'message', body: 'Can you send the imaging?' })
    expect(await marker(id)).toBeNull()
    // Not theirs: RLS hides it (a recorded 404), and nothing is written.
    expect((await work(colleague, id, { intent: 'reply', body: 'Not my referral' })).outcome).toBe('not-found')
    expect(await replies(id)).toHaveLength(0)
    expect(await marker(id)).toBeNull()
  })

  test('a reply rolled back leaves no marker (the marker is part of the reply)', async () => {
    const id = await waitingReferral()
    await rolledBack(db.as(referrer), (tx) =>
      performWork(tx, { clinicId: referrer.clinicId!, userId: referrer.userId!, cipher, audit: async () => {} }, id, { intent: 'reply', body: 'Draft' }),
    )
    expect(await marker(id)).toBeNull()
  })

  test('a referrer cannot set or clear the marker themselves, and the "Reply received" view finds it for staff', async () => {
    const id = await waitingReferral()
    await work(referrer, id, { intent: 'reply', body: 'Here it is.' })
    const cleared = await db
      .as(referrer)
      .tenant((tx) => tx.update(s.referrals).set({ replyReceivedAt: null }).where(eq(s.referrals.id, id)).returning({ id: s.referrals.id }))
    expect(cleared).toEqual([])
    expect(await marker(id)).not.toBeNull()
    const view = QueueViewSchema.parse({ status: 'replied', ref: `QW-${id.slice(0, 8).toUpperCase()}` })
    const page = await db.as(staff).tenant((tx) => queuePageWithPeople(tx, view, staff.userId!, staff.clinicId!, 'America/Toronto'))
    expect(page.rows.map((r) => r.id)).toEqual([id])
    expect(page.total).toBe(1)
  })
})

describe('the queue page read: total and saved views in one message', () => {
  test('the total is the whole view, not the page, and stops at the cap', async () => {
    const all = QueueViewSchema.parse({ status: 'all' })
    const page = await db.as(staff).tenant((tx) => queuePageWithPeople(tx, all, staff.userId!, staff.clinicId!, 'America/Toronto'))
    const [truth] = await db.owner
      .select({ n: sql<number>`count(*)::int` })
      .from(s.referrals)
      .where(eq(s.referrals.clinicId, staff.clinicId!))
    expect(page.rows.length).toBeLessThan(truth!.n)
    expect(page.total).toBe(Math.min(truth!.n, COUNT_CAP))
    expect(page.more).toBe(truth!.n > COUNT_CAP)
    const waiting = QueueViewSchema.parse({ status: 'info_requested' })
    const few = await db.as(staff).tenant((tx) => queuePageWithPeople(tx, waiting, staff.userId!, staff.clinicId!, 'America/Toronto'))
    const [waitingTruth] = await db.owner
      .select({ n: sql<number>`count(*)::int` })
      .from(s.referrals)
      .where(and(eq(s.referrals.clinicId, staff.clinicId!), eq(s.referrals.status, 'info_requested')))
    expect(few.total).toBe(waitingTruth!.n)
  })

  test('saved views: each user sees only their own, names are unique per user, at most MAX_SAVED_VIEWS', async () => {
    const view = QueueViewSchema.parse({ status: 'received', priority: 'urgent', sort: 'priority', cursor: undefined })
    const mine = `Urgent new ${randomUUID().slice(0, 6)}`
    expect(await db.as(staff).tenant((tx) => saveView(tx, { clinicId: staff.clinicId!, userId: staff.userId! }, mine, view))).toBe('saved')
    expect(await db.as(staff).tenant((tx) => saveView(tx, { clinicId: staff.clinicId!, userId: staff.userId! }, mine.toUpperCase(), view))).toBe('duplicate')
    // The admin may use the same name: it is theirs.
    expect(await db.as(admin).tenant((tx) => saveView(tx, { clinicId: admin.clinicId!, userId: admin.userId! }, mine, view))).toBe('saved')
    const read = (who: TenantScope) => db.as(who).tenant((tx) => queuePageWithPeople(tx, view, who.userId!, who.clinicId!, 'America/Toronto'))
    const staffViews = (await read(staff)).savedViews
    expect(staffViews.filter((v) => v.name === mine)).toEqual([{ id: expect.any(String), name: mine, query: 'status=received&priority=urgent&sort=priority' }])
    const adminsId = (await read(admin)).savedViews.find((v) => v.name === mine)!.id
    expect(staffViews.map((v) => v.id)).not.toContain(adminsId)
    // Saving as someone else is refused by RLS (42501), deleting theirs finds nothing.
    await expect(db.as(staff).tenant((tx) => saveView(tx, { clinicId: staff.clinicId!, userId: admin.userId! }, 'Forged', view))).rejects.toThrow()
    expect(await db.as(staff).tenant((tx) => deleteView(tx, adminsId))).toBe('not-found')
    expect(await db.owner.select().from(s.savedQueueViews).where(eq(s.savedQueueViews.id, adminsId))).toHaveLength(1)
    expect(await db.as(admin).tenant((tx) => deleteView(tx, adminsId))).toBe('deleted')

    // The limit, counted among the user's own views only.
    const owner = { clinicId: staff.clinicId!, userId: staff.userId! }
    const have = (await read(staff)).savedViews.length
    for (let i = have; i < MAX_SAVED_VIEWS; i++)
      expect(await db.as(staff).tenant((tx) => saveView(tx, owner, `Filler ${i} ${randomUUID()}`, view))).toBe('saved')
    expect(await db.as(staff).tenant((tx) => saveView(tx, owner, 'One too many', view))).toBe('full')
    await db.owner
      .delete(s.savedQueueViews)
      .where(and(eq(s.savedQueueViews.userId, staff.userId!), isNotNull(s.savedQueueViews.id), inArray(s.savedQueueViews.clinicId, [staff.clinicId!])))
  })
})
