/**
 * "An endpoint that keeps failing is disabled and its admin is told" (drizzle/0032, decision 052):
 * the courier's disabling writes one outbox event in its own transaction (an admin's own
 * disabling writes none); the email channel turns it into one delivery per active admin of that
 * clinic, once however often it sees the event; the email names the endpoint's host, why, and the
 * integrations page, never the address's path or query; the webhooks and live channels let it
 * pass. The delivery over SMTP to the local catcher runs in workerd: tests/e2e/webhooks.spec.ts.
 */
import { randomBytes } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import { and, eq, sql } from 'drizzle-orm'
import { afterAll, beforeAll, expect, inject, test } from 'vitest'
import { recordAudit } from '../../app/audit/audit.server'
import { connectDatabase } from '../../app/db/client.server'
import * as s from '../../app/db/schema'
import type { TenantScope } from '../../app/tenancy/tenant.server'
import { clinicEndpoints, createEndpoint, sendTestEvent, setEndpointActive } from '../../app/webhooks/endpoints.server'
import { webhookSecretBox } from '../../app/webhooks/secret.server'
import type { CourierContext } from '../../workers/courier/src/channel'
import { composeEmail } from '../../workers/courier/src/email/compose'
import { planFor } from '../../workers/courier/src/email/plan'
import { recordDeliveries } from '../../workers/courier/src/email/record'
import { liveChannel } from '../../workers/courier/src/live'
import { sendDueWebhooks, webhooksChannel } from '../../workers/courier/src/webhooks'
import { useTestDatabase } from '../support/db'

const db = useTestDatabase()
const config = inject('database')
const courierDb = connectDatabase({ url: config.appUrl, wsProxy: config.wsProxy })
const secretsKey = randomBytes(32).toString('base64')
const box = webhookSecretBox(secretsKey)

let failingUrl = ''
const server: Server = createServer((request, response) => {
  request.resume()
  request.on('end', () => response.writeHead(500).end())
})

/** The live channel must not reach for a clinic's object: this one says so if it is asked. */
const liveAsked: string[] = []
const context = (): CourierContext => ({
  env: {
    APP_ENV: 'test',
    DATABASE_URL: config.appUrl,
    WEBHOOK_SECRETS_KEY: secretsKey,
    WEBHOOK_ALLOW_LOOPBACK: 'true',
    CLINIC_LIVE: { idFromName: (name: string) => (liveAsked.push(name), name), get: () => ({ fetch: () => new Response(null, { status: 500 }) }) },
  } as never,
  db: courierDb.db,
  waitUntil: () => {},
})

let admin: TenantScope
let clinicId = ''
let otherClinicAdmins: string[] = []
let activeAdmins: string[] = []

const desk = (scope: TenantScope) => ({
  db: db.as(scope),
  audit: (tx: Parameters<typeof recordAudit>[0], e: Parameters<typeof recordAudit>[3]) =>
    recordAudit(tx, scope, { requestId: 'ed', ip: null, userAgent: null }, e),
})

beforeAll(async () => {
  failingUrl = await new Promise<string>((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as { port: number }).port}/hooks/in?token=sekrit-Zebulon`)),
  )
  const [lakeview] = await db.owner.select().from(s.clinics).where(eq(s.clinics.slug, 'lakeview'))
  const [northside] = await db.owner.select().from(s.clinics).where(eq(s.clinics.slug, 'northside'))
  clinicId = lakeview!.id
  const [adminUser] = await db.owner.select().from(s.users).where(eq(s.users.email, 'admin@lakeview.test'))
  admin = { clinicId, userId: adminUser!.id, role: 'admin' }
  const adminsOf = async (id: string) =>
    (
      await db.owner
        .select({ id: s.users.id })
        .from(s.users)
        .where(and(eq(s.users.clinicId, id), eq(s.users.role, 'admin'), eq(s.users.status, 'active')))
    ).map((u) => u.id)
  activeAdmins = await adminsOf(clinicId)
  otherClinicAdmins = await adminsOf(northside!.id)
})
afterAll(async () => {
  await new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve())))
  await courierDb.end()
})

const disabledEventsOf = async (endpointId: string) =>
  (await db.owner.select().from(s.outboxEvents).where(eq(s.outboxEvents.topic, 'webhook.endpoint_disabled'))).filter((e) => e.data.endpointId === endpointId)

const asClaimed = (e: typeof s.outboxEvents.$inferSelect): s.OutboxEvent => ({
  id: e.id,
  clinicId: e.clinicId,
  referralId: e.referralId,
  topic: e.topic,
  data: e.data,
  occurredAt: e.occurredAt,
  attempts: 1,
})

/** A new endpoint of lakeview's that has failed for a day, one test event away from disabled. */
async function failingEndpoint() {
  const made = await createEndpoint(desk(admin), box, clinicId, admin.userId!, { url: failingUrl, topics: ['referral.status_changed'] })
  if (made === 'too-many') throw new Error('too many endpoints')
  await db.owner.execute(sql`update webhook_endpoints set failing_since = now() - interval '25 hours', consecutive_failures = 30 where id = ${made.id}`)
  await sendTestEvent(desk(admin), clinicId, made.id)
  await sendDueWebhooks(context())
  return made.id
}

const setOff = (userId: string, off: s.EmailKind[]) =>
  db.owner
    .insert(s.emailPreferences)
    .values({ clinicId, userId, off })
    .onConflictDoUpdate({ target: [s.emailPreferences.clinicId, s.emailPreferences.userId], set: { off } })

test('the courier disabling a failing endpoint writes one outbox event, ids only; an admin disabling one writes none', async () => {
  const endpointId = await failingEndpoint()
  expect((await db.owner.select().from(s.webhookEndpoints).where(eq(s.webhookEndpoints.id, endpointId)))[0]).toMatchObject({
    status: 'disabled',
    disabledReason: 'failing',
  })
  const events = await disabledEventsOf(endpointId)
  expect(events).toHaveLength(1)
  expect(events[0]).toMatchObject({ clinicId, referralId: null, data: { endpointId } })
  expect(JSON.stringify(events[0]!.data)).not.toContain('127.0.0.1')
  // Enabled, then disabled by an admin: nobody is emailed about that (they did it).
  await setEndpointActive(desk(admin), clinicId, endpointId, true)
  await setEndpointActive(desk(admin), clinicId, endpointId, false)
  expect(await disabledEventsOf(endpointId)).toHaveLength(1)
})

/** What the email channel's accept does (its index pulls in the SMTP client, which needs workerd). */
async function emailChannelTakes(event: s.OutboxEvent) {
  const plan = planFor(event)
  expect(plan).toEqual({ kind: 'endpoint_disabled', audience: 'admins' })
  return recordDeliveries(courierDb.db, event, plan!)
}
const emailsAbout = (endpointId: string) => db.owner.select().from(s.emailDeliveries).where(eq(s.emailDeliveries.endpointId, endpointId))

test("the email channel records one delivery per active admin of the endpoint's clinic, once; the other channels let it pass", async () => {
  expect(activeAdmins.length).toBeGreaterThan(0)
  const endpointId = await failingEndpoint()
  const [event] = await disabledEventsOf(endpointId)
  await emailChannelTakes(asClaimed(event!))
  await emailChannelTakes(asClaimed(event!))
  const rows = await emailsAbout(endpointId)
  expect(rows.map((r) => r.recipientId).sort()).toEqual([...activeAdmins].sort())
  for (const row of rows) expect(row).toMatchObject({ kind: 'endpoint_disabled', referralId: null, clinicId, outboxEventId: event!.id, status: 'pending' })
  for (const id of otherClinicAdmins) expect(rows.map((r) => r.recipientId)).not.toContain(id)
  // The webhooks channel records nothing for it (no endpoint can ask for it), nor does the live one tell anyone.
  await webhooksChannel.accept(asClaimed(event!), context())
  expect(await db.owner.select().from(s.webhookDeliveries).where(eq(s.webhookDeliveries.outboxEventId, event!.id))).toEqual([])
  await liveChannel.accept(asClaimed(event!), context())
  expect(liveAsked).toEqual([])
  // The integrations page tells how the admins' emails stand.
  const listed = (await clinicEndpoints(desk(admin), clinicId)).find((e) => e.id === endpointId)
  expect(listed?.adminsTold).toEqual({ pending: activeAdmins.length, sent: 0, failed: 0 })
  // Sent (as the courier marks it): the page says so.
  await db.owner.execute(sql`update email_deliveries set status = 'sent', sent_at = now() where endpoint_id = ${endpointId}`)
  expect((await clinicEndpoints(desk(admin), clinicId)).find((e) => e.id === endpointId)?.adminsTold).toEqual({
    pending: 0,
    sent: activeAdmins.length,
    failed: 0,
  })
})

test('an admin who turned these emails off is not emailed', async () => {
  await Promise.all(activeAdmins.map((id) => setOff(id, ['endpoint_disabled'])))
  try {
    const endpointId = await failingEndpoint()
    const [event] = await disabledEventsOf(endpointId)
    await emailChannelTakes(asClaimed(event!))
    expect(await emailsAbout(endpointId)).toEqual([])
    expect((await clinicEndpoints(desk(admin), clinicId)).find((e) => e.id === endpointId)?.adminsTold).toEqual({ pending: 0, sent: 0, failed: 0 })
  } finally {
    await Promise.all(activeAdmins.map((id) => setOff(id, [])))
  }
})

test('the email names the endpoint by its host only, says why, and links to the integrations page', () => {
  const email = composeEmail({ kind: 'endpoint_disabled', clinicName: 'Lakeview\r\nBcc: x@y', endpointHost: '127.0.0.1:4321', origin: 'https://app.example' })
  expect(email.subject).toBe('Lakeview Bcc: x@y: webhook endpoint disabled (127.0.0.1:4321)')
  expect(email.text).toContain('The webhook endpoint at 127.0.0.1:4321 has been disabled: every delivery to it failed for 24 hours.')
  expect(email.text).toContain('https://app.example/admin/integrations')
  expect(email.html).toContain('href="https://app.example/admin/integrations"')
  for (const part of [email.subject, email.text, email.html]) expect(part).not.toMatch(/token|hooks\/in|Zebulon/)
})
