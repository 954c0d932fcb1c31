/**
 * The sender's cancel (docs/decisions/060-sender-cancels.md) against the real database as the
 * runtime role: through performWork, and cancel_own_referral() called directly as an attacker
 * would (another referrer's referral, another clinic's, a forged role, a sealed-looking reason that
 * is not, a move the workflow refuses). RLS stays as it was: a referrer still updates nothing.
 */
import { randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { and, desc, eq, sql } from 'drizzle-orm'
import { beforeAll, describe, expect, inject, test } from 'vitest'
import { recordAudit } from '../../app/audit/audit.server'
import { createPhiCipher, parseKeyRing } from '../../app/crypto/phi.server'
import * as s from '../../app/db/schema'
import { referralStatuses, type ReferralStatus } from '../../app/db/enums'
import { createReferral, type NewReferral } from '../../app/referrals/create-referral.server'
import type { FormValues } from '../../app/referrals/form-data.server'
import { CANCEL_REASONS } from '../../app/referrals/reason-codes'
import { performWork } from '../../app/referrals/work.server'
import { canMove } from '../../app/referrals/workflow'
import type { TenantScope, TenantTx } from '../../app/tenancy/tenant.server'
import { fakeReferralValues } from '../factories/patients'
import { createRandom } from '../factories/random'
import { DEMO_TENANT_ID } from '../../scripts/lib/demo-accounts'
import { sqlState, useTestDatabase } from '../support/db'

const db = useTestDatabase()
const secrets = inject('secrets')
const cipher = createPhiCipher({ keyRing: parseKeyRing(secrets.phiKeyRing), blindIndexKey: secrets.phiBlindIndexKey })
const random = createRandom(Date.now() >>> 0)

type Clinic = {
  id: string
  slug: string
  name: string
  settings: s.ClinicSettings
  form: NewReferral['form']
  staff: string
  referrer: string
  colleague: string
}
const c = {} as Record<'northside' | 'lakeview', Clinic>

beforeAll(async () => {
  for (const slug of ['northside', 'lakeview'] as const) {
    const [clinic] = await db.owner.select().from(s.clinics).where(eq(s.clinics.slug, slug))
    const members = await db.owner.select().from(s.users).where(eq(s.users.clinicId, clinic!.id))
    const user = (prefix: string) => members.find((m) => m.email === `${prefix}@${slug}.test`)!.id
    const [form] = await db.owner.select().from(s.intakeForms).where(eq(s.intakeForms.clinicId, clinic!.id)).orderBy(desc(s.intakeForms.version)).limit(1)
    c[slug] = { ...clinic!, form: form!, staff: user('staff'), referrer: user('referrer'), colleague: user('referrer2') }
  }
})

const referrerOf = (clinic: Clinic, userId = clinic.referrer): TenantScope => ({ clinicId: clinic.id, userId, role: 'referrer' })
const audit = (who: TenantScope) => (tx: TenantTx, event: Parameters<typeof recordAudit>[3]) =>
  recordAudit(tx, who, { requestId: randomUUID(), ip: null, userAgent: null }, event)

async function sent(clinic = c.northside) {
  const values: FormValues = fakeReferralValues(random, {
    clinicSlug: clinic.slug,
    services: ['Physiotherapy assessment'],
    clinician: { name: 'Dr. Test', practice: 'Test practice' },
  })
  const as = referrerOf(clinic)
  const created = await db
    .as(as)
    .tenant((tx) => createReferral(tx, cipher, audit(as), { clinic, submittedBy: clinic.referrer, form: clinic.form, values, idempotencyKey: randomUUID() }))
  return created.id
}
const row = async (id: string) => (await db.owner.select().from(s.referrals).where(eq(s.referrals.id, id)))[0]!
const statusEvents = (id: string) =>
  db.owner
    .select()
    .from(s.referralEvents)
    .where(and(eq(s.referralEvents.referralId, id), eq(s.referralEvents.type, 'status')))

/** cancel_own_referral() with well-formed arguments (a reason sealed under the event's id), any of which a test replaces. */
async function call(who: Partial<TenantScope>, id: string, change: { version?: number; reason?: unknown; code?: string | null } = {}) {
  const event = randomUUID()
  const reason = 'reason' in change ? change.reason : await cipher.encrypt('Patient moved away', { clinicId: c.northside.id, recordId: event, field: 'body' })
  const code = 'code' in change ? change.code : 'referrer_withdrew'
  return db.as(who).tenant(async (tx) => {
    const result = await tx.execute<{ outcome: string }>(
      sql`select cancel_own_referral(${id}::uuid, ${change.version ?? 1}::integer, ${event}::uuid, ${JSON.stringify(reason)}::jsonb, ${code}::text) as outcome`,
    )
    return result.rows[0]!.outcome
  })
}

describe('the sender cancels through performWork', () => {
  test('their own referral: cancelled, closed, one status event with the sealed reason and its category, one audit row, one outbox event', async () => {
    const id = await sent()
    const who = referrerOf(c.northside)
    const before = await row(id)
    const done = await db.as(who).tenant((tx) =>
      performWork(tx, { clinicId: c.northside.id, userId: who.userId!, cipher, audit: audit(who) }, id, {
        intent: 'cancel',
        version: 1,
        reason: ' Patient moved away ',
        reasonCode: 'patient_declined',
      }),
    )
    expect(done.outcome).toBe('done')
    const after = await row(id)
    expect(after).toMatchObject({ status: 'cancelled', version: 2, triagedAt: before.triagedAt })
    expect(after.closedAt).toBeInstanceOf(Date)
    const events = await statusEvents(id)
    expect(events.map((e) => [e.data, e.actorId, e.visibleToReferrer])).toEqual([
      [{ from: 'received', to: 'cancelled', reasonCode: 'patient_declined' }, who.userId, true],
    ])
    expect(JSON.stringify(events[0]!.body)).not.toContain('moved')
    expect(await cipher.decrypt(events[0]!.body as never, { clinicId: c.northside.id, recordId: events[0]!.id, field: 'body' })).toBe('Patient moved away')
    const audited = await db.owner
      .select()
      .from(s.auditLogs)
      .where(and(eq(s.auditLogs.entityId, id), eq(s.auditLogs.action, 'referral.status')))
    expect(audited.map((a) => [a.actorId, a.actorRole, a.details])).toEqual([
      [who.userId, 'referrer', { from: 'received', to: 'cancelled', reasonCode: 'patient_declined' }],
    ])
    const outbox = await db.owner
      .select()
      .from(s.outboxEvents)
      .where(and(eq(s.outboxEvents.referralId, id), eq(s.outboxEvents.topic, 'referral.status_changed')))
    expect(outbox.map((o) => o.data)).toEqual([
      expect.objectContaining({ from: 'received', to: 'cancelled', reasonCode: 'patient_declined', status: 'cancelled' }),
    ])
  })

  test('refused as the workflow says, before anything is written: a stale version, no reason, a decline’s category, a closed referral; a colleague finds nothing', async () => {
    const id = await sent()
    const who = referrerOf(c.northside)
    const work = (w: Partial<{ version: number; reason: string; reasonCode: string }>, as = who) =>
      db
        .as(as)
        .tenant((tx) =>
          performWork(tx, { clinicId: c.northside.id, userId: as.userId!, cipher, audit: audit(as) }, id, { intent: 'cancel', version: 1, reason: 'x', ...w }),
        )
    expect((await work({ version: 7 })).outcome).toBe('conflict')
    expect((await work({ reason: '  ' })).outcome).toBe('needs-reason')
    expect((await work({ reasonCode: 'outside_scope' })).outcome).toBe('bad-reason-code')
    expect((await work({}, referrerOf(c.northside, c.northside.colleague))).outcome).toBe('not-found')
    await db.owner.update(s.referrals).set({ status: 'closed' }).where(eq(s.referrals.id, id))
    expect((await work({})).outcome).toBe('bad-move')
    expect(await statusEvents(id)).toEqual([])
    expect((await row(id)).version).toBe(1)
  })
})

describe('cancel_own_referral() called directly cannot do more than the sender’s cancel', () => {
  test('a positive control: well formed, by the sender, cancels', async () => {
    expect(await call(referrerOf(c.northside), await sent())).toBe('done')
  })

  test('another referrer of the clinic, or of another clinic, finds nothing; nothing changes', async () => {
    const id = await sent()
    expect(await call(referrerOf(c.northside, c.northside.colleague), id)).toBe('not-found')
    expect(await call(referrerOf(c.lakeview), id)).toBe('not-found')
    expect(await row(id)).toMatchObject({ status: 'received', version: 1 })
  })

  test('anyone but an active referrer of the clinic in the context is refused: staff, a forged role, a user of another clinic, no context', async () => {
    const id = await sent()
    expect(await sqlState(call({ clinicId: c.northside.id, userId: c.northside.staff, role: 'staff' }, id))).toBe('42501')
    expect(await sqlState(call({ clinicId: c.northside.id, userId: c.northside.staff, role: 'referrer' }, id))).toBe('42501')
    expect(await sqlState(call({ clinicId: c.northside.id, userId: c.lakeview.referrer, role: 'referrer' }, id))).toBe('42501')
    expect(await sqlState(call({}, id))).toBe('42501')
    await db.owner.update(s.users).set({ status: 'disabled' }).where(eq(s.users.id, c.northside.colleague))
    try {
      expect(await sqlState(call(referrerOf(c.northside, c.northside.colleague), id))).toBe('42501')
    } finally {
      await db.owner.update(s.users).set({ status: 'active' }).where(eq(s.users.id, c.northside.colleague))
    }
    expect(await row(id)).toMatchObject({ status: 'received', version: 1 })
  })

  test('a reason in clear text, none, or a category not the cancel’s: refused; a stale version or a closed referral: said so', async () => {
    const id = await sent()
    const who = referrerOf(c.northside)
    expect(await sqlState(call(who, id, { reason: 'Patient moved away' }))).toBe('22023')
    expect(await sqlState(call(who, id, { reason: null }))).toBe('22023')
    expect(await sqlState(call(who, id, { reason: { v: 1, kid: 'k', iv: 'short', ct: 'x' } }))).toBe('22023')
    expect(await sqlState(call(who, id, { code: 'outside_scope' }))).toBe('22023')
    expect(await call(who, id, { version: 2 })).toBe('conflict')
    for (const status of ['declined', 'closed', 'cancelled'] as const) {
      await db.owner.update(s.referrals).set({ status }).where(eq(s.referrals.id, id))
      expect(await call(who, id), status).toBe('bad-move')
    }
    expect(await statusEvents(id)).toEqual([])
    expect(await call(who, id, { code: null })).toBe('bad-move')
  })

  test('RLS is as it was: the referrer still updates no referral and adds no status event of their own', async () => {
    const id = await sent()
    const who = referrerOf(c.northside)
    const touched = await db
      .as(who)
      .tenant((tx) => tx.update(s.referrals).set({ status: 'cancelled' }).where(eq(s.referrals.id, id)).returning({ id: s.referrals.id }))
    expect(touched).toEqual([])
    const event = db.as(who).tenant((tx) =>
      tx.insert(s.referralEvents).values({
        clinicId: c.northside.id,
        referralId: id,
        actorId: who.userId,
        type: 'status',
        data: { from: 'received', to: 'cancelled' },
        visibleToReferrer: true,
      }),
    )
    expect(await sqlState(event)).toBe('42501')
    expect(await row(id)).toMatchObject({ status: 'received', version: 1 })
  })

  test('the function’s lists are the app’s: the statuses the workflow lets move to cancelled, the cancel’s categories', () => {
    const text = readFileSync(new URL('../../drizzle/0033_sender_cancels.sql', import.meta.url), 'utf8')
    const list = (after: string) =>
      [
        ...text
          .slice(text.indexOf(after))
          .split(')')[0]!
          .matchAll(/'([a-z_]+)'/g),
      ].map((m) => m[1])
    expect(list('p_reason_code NOT IN')).toEqual(Object.keys(CANCEL_REASONS))
    expect(list('v_from NOT IN')).toEqual(referralStatuses.filter((s: ReferralStatus) => canMove(s, 'cancelled')))
  })
})

describe('an EHR system that sent a referral cancels it, as a referrer cancels theirs (drizzle/0039)', () => {
  async function integration(roles: s.IntegrationRole[], clinic = c.northside) {
    const [row] = await db.owner
      .insert(s.ehrIntegrations)
      .values({ clinicId: clinic.id, name: 'Cancelling EHR', idpTenantId: DEMO_TENANT_ID, clientId: `cancel-${randomUUID()}`, roles })
      .returning()
    return { id: row!.id, scope: { clinicId: clinic.id, userId: row!.id, role: 'integration' } as TenantScope }
  }
  async function sentBy(system: { id: string; scope: TenantScope }, clinic = c.northside) {
    const values: FormValues = fakeReferralValues(random, {
      clinicSlug: clinic.slug,
      services: ['Physiotherapy assessment'],
      clinician: { name: 'Dr. Test', practice: 'Test practice' },
    })
    const created = await db.as(system.scope).tenant((tx) =>
      createReferral(tx, cipher, audit(system.scope), {
        clinic,
        submittedBy: { integration: system.id },
        form: clinic.form,
        values,
        idempotencyKey: randomUUID(),
      }),
    )
    return created.id
  }

  test('its own referral: cancelled through performWork, the event naming no person, the audit row naming the integration', async () => {
    const system = await integration(['Referral.Read', 'Referral.Submit'])
    const id = await sentBy(system)
    const done = await db.as(system.scope).tenant((tx) =>
      performWork(tx, { clinicId: c.northside.id, userId: system.id, cipher, audit: audit(system.scope) }, id, {
        intent: 'cancel',
        version: 1,
        reason: 'Sent to the wrong clinic',
      }),
    )
    expect(done.outcome).toBe('done')
    expect((await row(id)).status).toBe('cancelled')
    const [event] = await statusEvents(id)
    expect(event).toMatchObject({ actorId: null, data: { from: 'received', to: 'cancelled' } })
    const [logged] = await db.owner
      .select()
      .from(s.auditLogs)
      .where(and(eq(s.auditLogs.entityId, id), eq(s.auditLogs.action, 'referral.status')))
    expect(logged).toMatchObject({ actorId: system.id, actorRole: 'integration' })
  })

  test("not another sender's referral, not without Referral.Submit, not once revoked; and a referrer cannot cancel an EHR's", async () => {
    const system = await integration(['Referral.Submit'])
    const id = await sentBy(system)
    // Another EHR of the clinic (it may read every referral), or the clinic's referrer: not theirs.
    const other = await integration(['Referral.Read', 'Referral.Submit'])
    expect(await call(other.scope, id)).toBe('not-found')
    expect(await call(referrerOf(c.northside), id)).toBe('not-found')
    // One that may only read, or claims another clinic: refused outright.
    const reader = await integration(['Referral.Read'])
    expect(await sqlState(call(reader.scope, id))).toBe('42501')
    expect(await sqlState(call({ ...system.scope, clinicId: c.lakeview.id }, id))).toBe('42501')
    // Revoked: its next call is refused.
    await db.owner.update(s.ehrIntegrations).set({ status: 'revoked', revokedAt: new Date() }).where(eq(s.ehrIntegrations.id, system.id))
    expect(await sqlState(call(system.scope, id))).toBe('42501')
    expect((await row(id)).status).toBe('received')
    expect(await statusEvents(id)).toEqual([])
  })
})
