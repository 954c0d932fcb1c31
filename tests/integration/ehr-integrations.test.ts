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
import { useTestDatabase } from '../support/db'

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
  // Documents, AI summaries and the registrations themselves: not its to see.
  for (const table of ['referral_documents', 'processing_results', 'ehr_integrations'] as const) expect(await count(scopeOf(reader), table), table).toBe(0)
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
