/**
 * EHR integrations under row-level security (drizzle/0034; docs/decisions/058): the database, not
 * only the app, decides what an integration's transaction sees. Its scope is its clinic, its own
 * id as app.user_id and app.role 'integration'; integration_may() checks it is active, of that
 * clinic and holds the app role, in every statement.
 */
import { randomUUID } from 'node:crypto'
import { eq, sql } from 'drizzle-orm'
import { beforeAll, expect, test } from 'vitest'
import * as s from '../../app/db/schema'
import type { TenantScope } from '../../app/tenancy/tenant.server'
import { DEMO_TENANT_ID } from '../../scripts/lib/demo-accounts'
import { rolledBack, sqlState, useTestDatabase } from '../support/db'

const db = useTestDatabase()
const clinics: Record<string, string> = {}

beforeAll(async () => {
  for (const slug of ['northside', 'lakeview']) {
    const [clinic] = await db.owner.select().from(s.clinics).where(eq(s.clinics.slug, slug))
    clinics[slug] = clinic!.id
  }
})

async function integration(slug: string, roles: s.IntegrationRole[]) {
  const [row] = await db.owner
    .insert(s.ehrIntegrations)
    .values({ clinicId: clinics[slug]!, name: 'Probe EHR', idpTenantId: DEMO_TENANT_ID, clientId: `probe-${randomUUID()}`, roles })
    .returning()
  return row!
}

const scopeOf = (row: { id: string; clinicId: string }, clinicId = row.clinicId): TenantScope => ({ clinicId, userId: row.id, role: 'integration' })
// Rows from before this file started: other files add referrals meanwhile, in parallel.
const before = new Date(Date.now() - 1000)
const count = (scope: TenantScope, table: 'referrals' | 'referral_events' | 'referral_documents' | 'processing_results' | 'users' | 'ehr_integrations') =>
  db
    .as(scope)
    .tenant(async (tx) =>
      Number((await tx.execute<{ n: number }>(sql`select count(*)::int as n from ${sql.identifier(table)} where created_at < ${before}`)).rows[0]!.n),
    )

test('with Referral.Read: its clinic’s referrals and what a referrer sees of their history; nothing of another clinic, no internal notes', async () => {
  const reader = await integration('northside', ['Referral.Read'])
  const [owned] = await db.owner
    .execute<{ n: number }>(sql`select count(*)::int as n from referrals where clinic_id = ${clinics.northside} and created_at < ${before}`)
    .then((r) => r.rows)
  expect(owned!.n).toBeGreaterThan(0)
  expect(await count(scopeOf(reader), 'referrals')).toBe(owned!.n)
  const [visible] = await db.owner
    .execute<{ n: number }>(
      sql`select count(*)::int as n from referral_events where clinic_id = ${clinics.northside} and visible_to_referrer and created_at < ${before}`,
    )
    .then((r) => r.rows)
  expect(visible!.n).toBeGreaterThan(0)
  expect(await count(scopeOf(reader), 'referral_events')).toBe(visible!.n)
  // Claiming another clinic in its scope (the app never does): nothing there.
  expect(await count(scopeOf(reader, clinics.lakeview), 'referrals')).toBe(0)
  // The referrals' documents, as staff see them (DocumentReference and Binary; drizzle/0035); not without Referral.Read.
  const [staff] = await db.owner.select().from(s.users).where(eq(s.users.email, 'staff@northside.test'))
  const [referral] = await db.owner.select({ id: s.referrals.id }).from(s.referrals).where(eq(s.referrals.clinicId, clinics.northside!)).limit(1)
  const [document] = await db.owner
    .insert(s.referralDocuments)
    .values({
      clinicId: clinics.northside!,
      referralId: referral!.id,
      uploadedBy: staff!.id,
      attachedWith: 'staff',
      contentType: 'application/pdf',
      sizeBytes: 1,
      sha256: '0'.repeat(64),
      chunkBytes: 1,
      chunkCount: 1,
      name: { v: 1, kid: 'k', iv: 'i', ct: 'c' },
    })
    .returning()
  const sees = (scope: TenantScope) =>
    db
      .as(scope)
      .tenant(async (tx) => (await tx.select({ id: s.referralDocuments.id }).from(s.referralDocuments).where(eq(s.referralDocuments.id, document!.id))).length)
  expect(await sees(scopeOf(reader))).toBe(1)
  expect(await sees(scopeOf(await integration('northside', ['Referral.Submit'])))).toBe(0)
  expect(await sees(scopeOf(reader, clinics.lakeview))).toBe(0)
  // AI summaries and the registrations themselves: not its to see.
  for (const table of ['processing_results', 'ehr_integrations'] as const) expect(await count(scopeOf(reader), table), table).toBe(0)
})

test('without Referral.Read, revoked, or not an integration at all: no referral is seen', async () => {
  const sender = await integration('northside', ['Referral.Submit'])
  expect(await count(scopeOf(sender), 'referrals')).toBe(0)
  expect(await count(scopeOf(sender), 'referral_events')).toBe(0)

  const reader = await integration('northside', ['Referral.Read'])
  expect(await count(scopeOf(reader), 'referrals')).toBeGreaterThan(0)
  await db.owner.update(s.ehrIntegrations).set({ status: 'revoked', revokedAt: new Date() }).where(eq(s.ehrIntegrations.id, reader.id))
  expect(await count(scopeOf(reader), 'referrals')).toBe(0)

  // An id that is no integration (a person's, say) under the integration role.
  const [staff] = await db.owner.select().from(s.users).where(eq(s.users.email, 'staff@northside.test'))
  expect(await count({ clinicId: clinics.northside!, userId: staff!.id, role: 'integration' }, 'referrals')).toBe(0)
})

test('it writes audit rows in its own name only, and cannot change referrals or register integrations', async () => {
  const reader = await integration('northside', ['Referral.Read'])
  const scope = scopeOf(reader)
  await db
    .as(scope)
    .tenant((tx) => tx.insert(s.auditLogs).values({ clinicId: reader.clinicId, actorId: reader.id, actorRole: 'integration', action: 'referral.list' }))
  const [staff] = await db.owner.select().from(s.users).where(eq(s.users.email, 'staff@northside.test'))
  const impersonating = db.as(scope).tenant((tx) => tx.insert(s.auditLogs).values({ clinicId: reader.clinicId, actorId: staff!.id, action: 'referral.list' }))
  await expect(impersonating).rejects.toThrow()
  const updated = await db.as(scope).tenant((tx) => tx.update(s.referrals).set({ priority: 'emergent' }).returning({ id: s.referrals.id }))
  expect(updated).toEqual([])
  const registering = db
    .as(scope)
    .tenant((tx) =>
      tx
        .insert(s.ehrIntegrations)
        .values({ clinicId: reader.clinicId, name: 'Self-made', idpTenantId: DEMO_TENANT_ID, clientId: `x-${randomUUID()}`, roles: ['Referral.Read'] }),
    )
  await expect(registering).rejects.toThrow()
})

test('integration_start finds only an active registration of that exact app, and counts it against the rate limit', async () => {
  const reader = await integration('lakeview', ['Referral.Read'])
  const start = (tid: string, clientId: string) =>
    db.as({}).tenant(async (tx) => (await tx.execute(sql`select * from integration_start(${tid}, ${clientId}, 100)`)).rows)
  const [found] = await start(DEMO_TENANT_ID, reader.clientId)
  expect(found).toMatchObject({ integration_id: reader.id, clinic_id: clinics.lakeview, roles: ['Referral.Read'], allowed: true, remaining: 99 })
  expect(await start('00000000-0000-4000-8000-00000000dead', reader.clientId)).toEqual([])
  expect(await start(DEMO_TENANT_ID, reader.clientId.toUpperCase())).toEqual([])
  await db.owner.update(s.ehrIntegrations).set({ status: 'revoked', revokedAt: new Date() }).where(eq(s.ehrIntegrations.id, reader.id))
  expect(await start(DEMO_TENANT_ID, reader.clientId)).toEqual([])
})

/** A referral row as an integration's submission writes it (createReferral's columns that matter here). */
const sentRow = (clinicId: string, by: Record<string, unknown>) => ({
  clinicId,
  referenceNumber: `PROBE-${randomUUID().slice(0, 8)}`,
  formVersion: 1,
  formData: {},
  idempotencyKey: randomUUID(),
  ...by,
})

test('with Referral.Submit: it sends referrals in its own name only, the database writes its name, and it sees only those it sent', async () => {
  const sender = await integration('northside', ['Referral.Submit'])
  const sent = await rolledBack(db.as(scopeOf(sender)), async (tx) => {
    // The name it claims is not kept: the registration's is.
    const [row] = await tx
      .insert(s.referrals)
      .values(sentRow(sender.clinicId, { submittedByIntegration: sender.id, submittedByIntegrationName: 'Forged name' }))
      .returning()
    // Its first event names no user, as createReferral writes it.
    await tx.insert(s.referralEvents).values({ clinicId: sender.clinicId, referralId: row!.id, type: 'created', visibleToReferrer: true })
    const seen = await tx.select({ id: s.referrals.id }).from(s.referrals)
    return { row: row!, seen: seen.map((r) => r.id) }
  })
  expect(sent.row).toMatchObject({ submittedBy: null, submittedByIntegration: sender.id, submittedByIntegrationName: 'Probe EHR' })
  expect(sent.seen).toEqual([sent.row.id])
})

test('nobody writes a referral as an integration but that integration, with Referral.Submit, in its clinic; its sender never changes', async () => {
  const sender = await integration('northside', ['Referral.Submit'])
  const other = await integration('northside', ['Referral.Submit'])
  const reader = await integration('northside', ['Referral.Read'])
  const stranger = await integration('lakeview', ['Referral.Submit'])
  const staff = await db.staffScopeOf('northside')
  const [referrer] = await db.owner.select().from(s.users).where(eq(s.users.email, 'referrer@northside.test'))
  const insert = (scope: TenantScope, by: Record<string, unknown>) =>
    sqlState(rolledBack(db.as(scope), (tx) => tx.insert(s.referrals).values(sentRow(clinics.northside!, by)).returning({ id: s.referrals.id })))
  // Control: its own, in its own name.
  expect(await insert(scopeOf(sender), { submittedByIntegration: sender.id })).toBe('no error')
  expect(await insert(scopeOf(sender), { submittedByIntegration: other.id }), 'as another integration').toBe('42501')
  expect(await insert(scopeOf(sender), { submittedBy: referrer!.id }), 'as a person').toBe('42501')
  expect(await insert(scopeOf(reader), { submittedByIntegration: reader.id }), 'Referral.Read only').toBe('42501')
  expect(await insert(scopeOf(stranger, clinics.northside), { submittedByIntegration: stranger.id }), 'another clinic’s').toBe('42501')
  expect(await insert(staff, { submittedByIntegration: sender.id }), 'staff, as the integration').toBe('42501')
  await db.owner.update(s.ehrIntegrations).set({ status: 'revoked', revokedAt: new Date() }).where(eq(s.ehrIntegrations.id, other.id))
  expect(await insert(scopeOf(other), { submittedByIntegration: other.id }), 'revoked').toBe('42501')

  // Its events: the first one of a referral it sent, naming no user; nothing else, on nothing else.
  const [theirs] = await db.owner.select({ id: s.referrals.id }).from(s.referrals).where(eq(s.referrals.clinicId, clinics.northside!)).limit(1)
  const event = (referralId: string, type: 'created' | 'note' | 'reply') =>
    sqlState(
      rolledBack(db.as(scopeOf(sender)), (tx) =>
        tx.insert(s.referralEvents).values({ clinicId: clinics.northside!, referralId, type, visibleToReferrer: true }).returning({ id: s.referralEvents.id }),
      ),
    )
  expect(await event(theirs!.id, 'created'), 'on a referral it did not send').toBe('42501')

  // The sender and its name stay as written, for staff and for the owner alike.
  const [row] = await db.owner
    .insert(s.referrals)
    .values(sentRow(clinics.northside!, { submittedByIntegration: sender.id }))
    .returning()
  expect(row!.submittedByIntegrationName).toBe('Probe EHR')
  for (const type of ['note', 'reply'] as const) expect(await event(row!.id, type), type).toBe('42501')
  expect(
    await sqlState(db.as(staff).tenant((tx) => tx.update(s.referrals).set({ submittedByIntegrationName: 'Renamed' }).where(eq(s.referrals.id, row!.id)))),
  ).toBe('42501')
  expect(await sqlState(db.owner.update(s.referrals).set({ submittedByIntegration: other.id }).where(eq(s.referrals.id, row!.id)))).toBe('42501')
  // Not even the owner names another clinic's integration as a sender: the trigger finds no name in
  // this clinic's registrations (a check violation), and the foreign key includes the clinic.
  expect(await sqlState(db.owner.insert(s.referrals).values(sentRow(clinics.northside!, { submittedByIntegration: stranger.id })))).toBe('23514')
  // One sender: never a person and a system at once.
  expect(
    await sqlState(db.owner.insert(s.referrals).values(sentRow(clinics.northside!, { submittedByIntegration: sender.id, submittedBy: referrer!.id }))),
  ).toBe('23514')
})

/** A document row as storeReferralDocuments writes it, `by` naming its uploader (drizzle/0038). */
const documentRow = (clinicId: string, referralId: string, by: Record<string, unknown>) => ({
  clinicId,
  referralId,
  attachedWith: 'referral' as const,
  contentType: 'application/pdf',
  sizeBytes: 1,
  sha256: '0'.repeat(64),
  chunkBytes: 1,
  chunkCount: 1,
  name: { v: 1 as const, kid: 'k', iv: 'i', ct: 'c' },
  ...by,
})

test('with Referral.Submit: it attaches documents to a referral it sent, with it, in its own name only; it sees those, and nobody names it falsely', async () => {
  const sender = await integration('northside', ['Referral.Submit'])
  const other = await integration('northside', ['Referral.Submit'])
  const reader = await integration('northside', ['Referral.Read'])
  const stranger = await integration('lakeview', ['Referral.Submit'])
  const staff = await db.staffScopeOf('northside')
  const [person] = await db.owner.select().from(s.users).where(eq(s.users.email, 'staff@northside.test'))
  // Referrals each of them sent, written by the owner (the insert's own rules are tested above).
  const sentBy = async (row: { id: string }) =>
    (
      await db.owner
        .insert(s.referrals)
        .values(sentRow(clinics.northside!, { submittedByIntegration: row.id }))
        .returning()
    )[0]!.id
  const [sent, sentByOther, sentByReader] = [await sentBy(sender), await sentBy(other), await sentBy(reader)]
  const attach = (scope: TenantScope, referralId: string, by: Record<string, unknown>) =>
    sqlState(rolledBack(db.as(scope), (tx) => tx.insert(s.referralDocuments).values(documentRow(clinics.northside!, referralId, by))))

  // Control: its own referral, in its own name, with the referral; and it reads it back (a repeated Bundle's answer).
  const seen = await rolledBack(db.as(scopeOf(sender)), async (tx) => {
    const [row] = await tx
      .insert(s.referralDocuments)
      .values(documentRow(clinics.northside!, sent, { uploadedByIntegration: sender.id }))
      .returning()
    return row
  })
  expect(seen).toMatchObject({ uploadedBy: null, uploadedByIntegration: sender.id, attachedWith: 'referral' })
  expect(await attach(scopeOf(sender), sentByOther, { uploadedByIntegration: sender.id }), 'on another’s referral').toBe('42501')
  expect(await attach(scopeOf(sender), sent, { uploadedByIntegration: other.id }), 'as another integration').toBe('42501')
  expect(await attach(scopeOf(sender), sent, { uploadedBy: person!.id }), 'as a person').toBe('42501')
  expect(await attach(scopeOf(sender), sent, { uploadedByIntegration: sender.id, attachedWith: 'reply' }), 'as a reply').toBe('42501')
  expect(await attach(scopeOf(reader), sentByReader, { uploadedByIntegration: reader.id }), 'Referral.Read only').toBe('42501')
  expect(await attach(scopeOf(stranger, clinics.northside), sent, { uploadedByIntegration: stranger.id }), 'another clinic’s').toBe('42501')
  expect(await attach(staff, sent, { uploadedByIntegration: sender.id }), 'staff, as the integration').toBe('42501')
  expect(await attach(staff, sent, { uploadedBy: staff.userId, uploadedByIntegration: sender.id }), 'staff, as themselves and the integration').toBe('23514')
  await db.owner.update(s.ehrIntegrations).set({ status: 'revoked', revokedAt: new Date() }).where(eq(s.ehrIntegrations.id, other.id))
  expect(await attach(scopeOf(other), sentByOther, { uploadedByIntegration: other.id }), 'revoked').toBe('42501')

  // Its documents are seen by what it sent, not by another Referral.Submit integration.
  const [kept] = await db.owner
    .insert(s.referralDocuments)
    .values(documentRow(clinics.northside!, sent, { uploadedByIntegration: sender.id }))
    .returning()
  const sees = (scope: TenantScope) =>
    db
      .as(scope)
      .tenant(async (tx) => (await tx.select({ id: s.referralDocuments.id }).from(s.referralDocuments).where(eq(s.referralDocuments.id, kept!.id))).length)
  expect(await sees(scopeOf(sender))).toBe(1)
  expect(await sees(scopeOf(await integration('northside', ['Referral.Submit'])))).toBe(0)

  // Not even the owner: exactly one uploader, an integration only with the referral, of the same clinic.
  const owned = (by: Record<string, unknown>, referralId = sent) =>
    sqlState(db.owner.insert(s.referralDocuments).values(documentRow(clinics.northside!, referralId, by)))
  expect(await owned({ uploadedBy: person!.id, uploadedByIntegration: sender.id }), 'two uploaders').toBe('23514')
  expect(await owned({}), 'none').toBe('23514')
  expect(await owned({ uploadedByIntegration: sender.id, attachedWith: 'forward' }), 'an integration’s forward').toBe('23514')
  expect(await owned({ uploadedByIntegration: sender.id, attachedWith: 'staff' }), 'an integration as staff').toBe('23514')
  expect(await owned({ uploadedByIntegration: stranger.id }), 'another clinic’s integration').toBe('23503')
})
