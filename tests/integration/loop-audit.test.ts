/**
 * The clinic's audit trail hears of each change to how it is notified: a user saving their
 * email choices, and every integrations change (an endpoint registered, its secret rotated,
 * disabled, enabled, a test event, a redelivery). Ids and codes only: never the secret, never
 * the endpoint's address (its path or query can hold a receiver's token).
 */
import { randomBytes, randomUUID } from 'node:crypto'
import { asc, eq } from 'drizzle-orm'
import { beforeAll, expect, test } from 'vitest'
import { recordAudit } from '../../app/audit/audit.server'
import * as s from '../../app/db/schema'
import { saveMyEmailOff } from '../../app/notifications/email.server'
import type { TenantScope } from '../../app/tenancy/tenant.server'
import { createEndpoint, redeliver, rotateSecret, sendTestEvent, setEndpointActive } from '../../app/webhooks/endpoints.server'
import { webhookSecretBox } from '../../app/webhooks/secret.server'
import { useTestDatabase } from '../support/db'

const db = useTestDatabase()
const box = webhookSecretBox(randomBytes(32).toString('base64'))
let admin: TenantScope
let referrer: TenantScope

/** Each test's rows carry its own request id: the trail is shared with every other file. */
let requestId = ''
const auditOf = (scope: TenantScope) => (tx: Parameters<typeof recordAudit>[0], e: Parameters<typeof recordAudit>[3]) =>
  recordAudit(tx, scope, { requestId, ip: null, userAgent: null }, e)
const desk = (scope: TenantScope) => ({ db: db.as(scope), audit: auditOf(scope) })

beforeAll(async () => {
  const scopeOf = async (email: string): Promise<TenantScope> => {
    const [user] = await db.owner.select().from(s.users).where(eq(s.users.email, email))
    return { clinicId: user!.clinicId, userId: user!.id, role: user!.role }
  }
  admin = await scopeOf('admin@lakeview.test')
  referrer = await scopeOf('referrer@lakeview.test')
})

/** This test's rows, in the order written (each clinic's chain numbers them). */
const trail = () => db.owner.select().from(s.auditLogs).where(eq(s.auditLogs.requestId, requestId)).orderBy(asc(s.auditLogs.seq))
const begin = () => (requestId = `loop-audit-${randomUUID()}`)

test("saving one's email choices is in the clinic's trail: who, and the kinds now off", async () => {
  begin()
  await db.as(referrer).tenant((tx) => saveMyEmailOff(tx, auditOf(referrer), { id: referrer.userId!, clinicId: referrer.clinicId! }, ['declined']))
  await db.as(referrer).tenant((tx) => saveMyEmailOff(tx, auditOf(referrer), { id: referrer.userId!, clinicId: referrer.clinicId! }, []))
  const rows = await trail()
  expect(rows.map((r) => [r.action, r.clinicId, r.actorId, r.entityType, r.entityId, r.details])).toEqual([
    ['notifications.settings', referrer.clinicId, referrer.userId, 'user', referrer.userId, { off: ['declined'] }],
    ['notifications.settings', referrer.clinicId, referrer.userId, 'user', referrer.userId, { off: [] }],
  ])
})

test('every integrations change is in the trail, by id, without the secret or the address', async () => {
  begin()
  const url = 'https://hooks.example.com/intake/in?token=sekrit-query-value'
  const made = await createEndpoint(desk(admin), box, admin.clinicId!, admin.userId!, { url, topics: ['referral.created'] })
  if (made === 'too-many') throw new Error('too many endpoints')
  const rotated = await rotateSecret(desk(admin), box, admin.clinicId!, made.id)
  await setEndpointActive(desk(admin), admin.clinicId!, made.id, false)
  await setEndpointActive(desk(admin), admin.clinicId!, made.id, true)
  await sendTestEvent(desk(admin), admin.clinicId!, made.id)
  const [delivery] = await db.owner.select().from(s.webhookDeliveries).where(eq(s.webhookDeliveries.endpointId, made.id))
  await redeliver(desk(admin), admin.clinicId!, made.id, delivery!.id)
  await setEndpointActive(desk(admin), admin.clinicId!, made.id, false)

  const rows = await trail()
  expect(rows.map((r) => [r.action, r.entityType, r.entityId, r.details])).toEqual([
    ['webhook.create', 'webhook_endpoint', made.id, { topics: ['referral.created'] }],
    ['webhook.change', 'webhook_endpoint', made.id, { change: 'rotate' }],
    ['webhook.change', 'webhook_endpoint', made.id, { change: 'disable' }],
    ['webhook.change', 'webhook_endpoint', made.id, { change: 'enable' }],
    ['webhook.send', 'webhook_endpoint', made.id, { kind: 'test' }],
    ['webhook.send', 'webhook_delivery', delivery!.id, { kind: 'redeliver', endpointId: made.id }],
    ['webhook.change', 'webhook_endpoint', made.id, { change: 'disable' }],
  ])
  for (const row of rows) {
    expect(row).toMatchObject({ clinicId: admin.clinicId, actorId: admin.userId, outcome: 'success' })
    const whole = JSON.stringify(row)
    for (const secret of [made.secret, rotated!]) expect(whole).not.toContain(secret.slice(6))
    expect(whole).not.toMatch(/whsec_|sekrit|hooks\.example\.com|token=/)
  }
})
