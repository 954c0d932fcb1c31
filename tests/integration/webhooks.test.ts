/**
 * The webhooks channel against receivers this file starts (docs/decisions/043-signed-webhooks.md):
 * what it sends is signed as Standard Webhooks says and verifies with the receiver's copy of the
 * secret, says ids and statuses only, goes once per (event, endpoint), is retried after a
 * failure and sent again on request under the same id; a receiver that keeps failing gets its
 * endpoint disabled; private addresses, redirects and slow receivers are failures, not followed.
 */
import { randomBytes, randomUUID } from 'node:crypto'
import { createServer, type IncomingMessage, type Server } from 'node:http'
import { and, eq, sql } from 'drizzle-orm'
import { Webhook } from 'standardwebhooks'
import { afterAll, beforeAll, expect, inject, test } from 'vitest'
import { recordAudit } from '../../app/audit/audit.server'
import { createPhiCipher, parseKeyRing } from '../../app/crypto/phi.server'
import { connectDatabase } from '../../app/db/client.server'
import * as s from '../../app/db/schema'
import { performWork } from '../../app/referrals/work.server'
import type { TenantScope } from '../../app/tenancy/tenant.server'
import { createEndpoint, redeliver, rotateSecret, sendTestEvent, setEndpointActive } from '../../app/webhooks/endpoints.server'
import { webhookSecretBox } from '../../app/webhooks/secret.server'
import type { CourierContext } from '../../workers/courier/src/channel'
import { sendDueWebhooks, webhooksChannel } from '../../workers/courier/src/webhooks'
import { sqlState, useTestDatabase } from '../support/db'

const db = useTestDatabase()
const config = inject('database')
const secrets = inject('secrets')
const cipher = createPhiCipher({ keyRing: parseKeyRing(secrets.phiKeyRing), blindIndexKey: secrets.phiBlindIndexKey })
const courierDb = connectDatabase({ url: config.appUrl, wsProxy: config.wsProxy })
const secretsKey = randomBytes(32).toString('base64')
const box = webhookSecretBox(secretsKey)

type Received = { headers: IncomingMessage['headers']; body: string }
/** A receiver: records what arrives and answers what `answer` says (a status, or never). */
function receiver() {
  const received: Received[] = []
  let answer: number | 'hang' | { redirect: string } = 204
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = []
    request.on('data', (c: Buffer) => chunks.push(c))
    request.on('end', () => {
      received.push({ headers: request.headers, body: Buffer.concat(chunks).toString('utf8') })
      if (answer === 'hang') return
      if (typeof answer === 'object') return response.writeHead(302, { location: answer.redirect }).end()
      response.writeHead(answer, { 'content-type': 'text/plain' }).end('receiver body, never stored: Zebulon')
    })
  })
  return {
    received,
    answer: (next: typeof answer) => (answer = next),
    start: () =>
      new Promise<string>((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as { port: number }).port}/hook`))),
    stop: () => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))),
  }
}

const hook = receiver()
const other = receiver()
let hookUrl = ''
let otherUrl = ''
let admin: TenantScope
let staff: TenantScope
let template: typeof s.referrals.$inferSelect

const context = (env: Record<string, string> = {}): CourierContext => ({
  env: { APP_ENV: 'test', DATABASE_URL: config.appUrl, WEBHOOK_SECRETS_KEY: secretsKey, WEBHOOK_ALLOW_LOOPBACK: 'true', ...env } as never,
  db: courierDb.db,
  waitUntil: () => {},
})
const desk = (scope: TenantScope) => ({
  db: db.as(scope),
  audit: (tx: Parameters<typeof recordAudit>[0], e: Parameters<typeof recordAudit>[3]) =>
    recordAudit(tx, scope, { requestId: 'wh', ip: null, userAgent: null }, e),
})

beforeAll(async () => {
  hookUrl = await hook.start()
  otherUrl = await other.start()
  const [clinic] = await db.owner.select().from(s.clinics).where(eq(s.clinics.slug, 'lakeview'))
  const member = async (email: string) => (await db.owner.select().from(s.users).where(eq(s.users.email, email)))[0]!.id
  admin = { clinicId: clinic!.id, userId: await member('admin@lakeview.test'), role: 'admin' }
  staff = { clinicId: clinic!.id, userId: await member('staff@lakeview.test'), role: 'staff' }
  const [first] = await db.owner.select().from(s.referrals).where(eq(s.referrals.clinicId, clinic!.id)).limit(1)
  template = first!
})
afterAll(async () => {
  await hook.stop()
  await other.stop()
  await courierDb.end()
})

async function referralIn(status: s.ReferralStatus) {
  const id = randomUUID()
  await db.owner
    .insert(s.referrals)
    .values({ ...template, id, status, referenceNumber: `WH-${id.slice(0, 8)}`, idempotencyKey: null, version: 1, forwardedToClinicId: null })
  return id
}

const decline = (id: string) =>
  db
    .as(staff)
    .tenant((tx) =>
      performWork(
        tx,
        { clinicId: staff.clinicId!, userId: staff.userId!, cipher, audit: (t, e) => recordAudit(t, staff, { requestId: 'wh', ip: null, userAgent: null }, e) },
        id,
        { version: 1, intent: 'status', to: 'declined', reason: 'Outside our catchment, patient Zebulon' } as never,
      ),
    )

/** The referral's outbox events, as the courier's claim would hand them over. */
async function eventsOf(referralId: string): Promise<s.OutboxEvent[]> {
  const rows = await db.owner.select().from(s.outboxEvents).where(eq(s.outboxEvents.referralId, referralId)).orderBy(s.outboxEvents.id)
  return rows.map((r) => ({ id: r.id, clinicId: r.clinicId, referralId: r.referralId, topic: r.topic, data: r.data, occurredAt: r.occurredAt, attempts: 1 }))
}
const deliveriesOf = (endpointId: string) =>
  db.owner.select().from(s.webhookDeliveries).where(eq(s.webhookDeliveries.endpointId, endpointId)).orderBy(s.webhookDeliveries.createdAt)
const endpointRow = async (id: string) => (await db.owner.select().from(s.webhookEndpoints).where(eq(s.webhookEndpoints.id, id)))[0]!
const register = async (url: string, topics: s.WebhookTopic[] = ['referral.status_changed']) => {
  const made = await createEndpoint(desk(admin), box, admin.clinicId!, admin.userId!, { url, topics })
  if (made === 'too-many') throw new Error('too many endpoints')
  return made
}
/** Due again now (the backoff is real; the test does not wait for it). */
const dueNow = (endpointId: string) => db.owner.execute(sql`update webhook_deliveries set next_attempt_at = now() where endpoint_id = ${endpointId}`)

test('a decline reaches the endpoint once, signed: the receiver verifies it with its secret, and it says ids and statuses only', async () => {
  const { id: endpointId, secret } = await register(hookUrl)
  const referralId = await referralIn('in_review')
  expect(await decline(referralId)).toMatchObject({ outcome: 'done' })
  const [event] = await eventsOf(referralId)
  // Taken twice (a lease that ran out): still one delivery.
  await webhooksChannel.accept(event!, context())
  await webhooksChannel.accept(event!, context())
  expect(await deliveriesOf(endpointId)).toHaveLength(1)
  const before = hook.received.length
  await sendDueWebhooks(context())
  const mine = hook.received.slice(before)
  expect(mine).toHaveLength(1)
  const { headers, body } = mine[0]!
  const verified = new Webhook(secret).verify(body, headers as Record<string, string>)
  expect(verified).toEqual({
    type: 'referral.status_changed',
    timestamp: event!.occurredAt.toISOString(),
    data: {
      clinicId: admin.clinicId,
      referralId,
      eventId: event!.data.eventId,
      actorId: staff.userId,
      from: 'in_review',
      to: 'declined',
      priority: template.priority,
      status: 'declined',
    },
  })
  // Control: another secret does not verify it.
  expect(() => new Webhook(`whsec_${randomBytes(24).toString('base64')}`).verify(body, headers as Record<string, string>)).toThrow()
  // No PHI: none of the referral's decrypted values, nor the free-text reason, is in what was sent.
  // (The test's referral carries the template referral's sealed values, bound to that one's id.)
  const sealed = Object.entries(template.formData).filter(([, v]) => typeof v === 'object' && v !== null && 'ct' in v)
  const phi = await Promise.all(sealed.map(([field, v]) => cipher.decrypt(v, { clinicId: template.clinicId, recordId: template.id, field })))
  expect(phi.length).toBeGreaterThan(0)
  for (const value of [...phi, 'Zebulon', 'catchment']) expect(body).not.toContain(value)
  const [delivery] = await deliveriesOf(endpointId)
  expect(delivery).toMatchObject({ status: 'delivered', attempts: 1, responseStatus: 204, error: null })
  expect(headers['webhook-id']).toBe(`msg_${delivery!.id}`)
  expect(JSON.stringify(delivery)).not.toContain('never stored')
  // Delivered is delivered: the next run sends nothing more.
  await sendDueWebhooks(context())
  expect(hook.received.length).toBe(before + 1)
  await setEndpointActive(desk(admin), admin.clinicId!, endpointId, false)
})

test("only endpoints that asked for the topic, that are active, and are the event's clinic's get it", async () => {
  const wanted = await register(hookUrl, ['referral.status_changed'])
  const unwanted = await register(hookUrl, ['referral.created'])
  const disabled = await register(hookUrl, ['referral.status_changed'])
  await setEndpointActive(desk(admin), admin.clinicId!, disabled.id, false)
  const [northside] = await db.owner.select().from(s.clinics).where(eq(s.clinics.slug, 'northside'))
  const elsewhere = randomUUID()
  await db.owner.insert(s.webhookEndpoints).values({
    id: elsewhere,
    clinicId: northside!.id,
    url: hookUrl,
    topics: ['referral.status_changed'],
    secret: await box.seal('whsec_' + randomBytes(24).toString('base64'), { clinicId: northside!.id, endpointId: elsewhere }),
  })
  const referralId = await referralIn('in_review')
  await decline(referralId)
  const [event] = await eventsOf(referralId)
  await webhooksChannel.accept(event!, context())
  expect(await deliveriesOf(wanted.id)).toHaveLength(1)
  for (const id of [unwanted.id, disabled.id, elsewhere]) expect(await deliveriesOf(id)).toEqual([])
  for (const id of [wanted.id, unwanted.id]) await setEndpointActive(desk(admin), admin.clinicId!, id, false)
  await db.owner.update(s.webhookEndpoints).set({ status: 'disabled' }).where(eq(s.webhookEndpoints.id, elsewhere))
})

test('a failing receiver is retried with backoff until it answers, under the same webhook-id; then redelivery sends it again', async () => {
  const { id: endpointId, secret } = await register(otherUrl)
  other.answer(503)
  await sendTestEvent(desk(admin), admin.clinicId!, endpointId)
  await sendDueWebhooks(context())
  let [delivery] = await deliveriesOf(endpointId)
  expect(delivery).toMatchObject({ status: 'pending', attempts: 1, responseStatus: 503, error: 'status' })
  expect(delivery!.nextAttemptAt.getTime() - Date.now()).toBeGreaterThan(3_000)
  expect((await endpointRow(endpointId)).consecutiveFailures).toBe(1)
  // Not due yet: nothing is sent.
  const seen = other.received.length
  await sendDueWebhooks(context())
  expect(other.received.length).toBe(seen)
  // Due, and the receiver is back.
  other.answer(200)
  await dueNow(endpointId)
  await sendDueWebhooks(context())
  ;[delivery] = await deliveriesOf(endpointId)
  expect(delivery).toMatchObject({ status: 'delivered', attempts: 2, responseStatus: 200, error: null })
  expect(await endpointRow(endpointId)).toMatchObject({ consecutiveFailures: 0, failingSince: null })
  const [first, second] = other.received.slice(-2)
  expect(second!.headers['webhook-id']).toBe(first!.headers['webhook-id'])
  expect(new Webhook(secret).verify(second!.body, second!.headers as Record<string, string>)).toMatchObject({ type: 'webhook.test' })
  // Redelivered by hand: the same message once more.
  expect(await redeliver(desk(admin), admin.clinicId!, endpointId, delivery!.id)).toBe(true)
  await sendDueWebhooks(context())
  const again = other.received.at(-1)!
  expect(again.headers['webhook-id']).toBe(first!.headers['webhook-id'])
  expect(JSON.parse(again.body)).toEqual(JSON.parse(first!.body))
  expect((await deliveriesOf(endpointId))[0]).toMatchObject({ status: 'delivered', attempts: 3 })
  // Another clinic's admin cannot redeliver it, nor a staff member of this one.
  const [northside] = await db.owner.select().from(s.clinics).where(eq(s.clinics.slug, 'northside'))
  const stranger = { clinicId: northside!.id, userId: admin.userId, role: 'admin' as const }
  expect(await redeliver(desk(stranger), northside!.id, endpointId, delivery!.id)).toBe(false)
  expect(await redeliver(desk(staff), admin.clinicId!, endpointId, delivery!.id)).toBe(false)
  await setEndpointActive(desk(admin), admin.clinicId!, endpointId, false)
})

test('after a rotation both secrets sign for a day, so a receiver with either verifies', async () => {
  const { id: endpointId, secret: old } = await register(otherUrl)
  const fresh = await rotateSecret(desk(admin), box, admin.clinicId!, endpointId)
  expect(fresh).toMatch(/^whsec_/)
  expect(fresh).not.toBe(old)
  other.answer(200)
  await sendTestEvent(desk(admin), admin.clinicId!, endpointId)
  await sendDueWebhooks(context())
  const last = other.received.at(-1)!
  expect(String(last.headers['webhook-signature']).split(' ')).toHaveLength(2)
  for (const secret of [old, fresh!])
    expect(new Webhook(secret).verify(last.body, last.headers as Record<string, string>)).toMatchObject({ type: 'webhook.test' })
  // Once the day is over, only the new one.
  await db.owner.execute(sql`update webhook_endpoints set previous_secret_until = now() - interval '1 minute' where id = ${endpointId}`)
  await sendTestEvent(desk(admin), admin.clinicId!, endpointId)
  await sendDueWebhooks(context())
  const later = other.received.at(-1)!
  expect(() => new Webhook(old).verify(later.body, later.headers as Record<string, string>)).toThrow()
  expect(new Webhook(fresh!).verify(later.body, later.headers as Record<string, string>)).toMatchObject({ type: 'webhook.test' })
  await setEndpointActive(desk(admin), admin.clinicId!, endpointId, false)
})

test('an endpoint failing for 24 hours is disabled; a delivery past its 24 hours fails for good', async () => {
  const { id: endpointId } = await register(otherUrl)
  other.answer(500)
  await sendTestEvent(desk(admin), admin.clinicId!, endpointId)
  await db.owner.execute(sql`update webhook_endpoints set failing_since = now() - interval '25 hours', consecutive_failures = 40 where id = ${endpointId}`)
  await db.owner.execute(sql`update webhook_deliveries set retry_until = now() - interval '1 minute' where endpoint_id = ${endpointId}`)
  await sendDueWebhooks(context())
  expect(await endpointRow(endpointId)).toMatchObject({ status: 'disabled', disabledReason: 'failing', consecutiveFailures: 41 })
  expect((await deliveriesOf(endpointId))[0]).toMatchObject({ status: 'failed', responseStatus: 500 })
  // Disabled: a new test event waits, and is not sent.
  await sendTestEvent(desk(admin), admin.clinicId!, endpointId)
  const seen = other.received.length
  await sendDueWebhooks(context())
  expect(other.received.length).toBe(seen)
  // Enabled again by the admin: it goes, and the failure count starts afresh.
  other.answer(200)
  await setEndpointActive(desk(admin), admin.clinicId!, endpointId, true)
  await sendDueWebhooks(context())
  expect(other.received.length).toBe(seen + 1)
  expect(await endpointRow(endpointId)).toMatchObject({ status: 'active', consecutiveFailures: 0 })
  await setEndpointActive(desk(admin), admin.clinicId!, endpointId, false)
})

test('a receiver that does not answer in time, or redirects, has failed; the redirect is not followed', async () => {
  const { id: endpointId } = await register(otherUrl)
  other.answer('hang')
  await sendTestEvent(desk(admin), admin.clinicId!, endpointId)
  const started = Date.now()
  await sendDueWebhooks(context({ WEBHOOK_TIMEOUT_MS: '500' }))
  expect(Date.now() - started).toBeLessThan(5_000)
  expect((await deliveriesOf(endpointId))[0]).toMatchObject({ status: 'pending', error: 'timeout', responseStatus: null })
  other.answer({ redirect: hookUrl })
  const before = hook.received.length
  await dueNow(endpointId)
  await sendDueWebhooks(context())
  expect((await deliveriesOf(endpointId))[0]).toMatchObject({ status: 'pending', error: 'redirect', responseStatus: 302 })
  expect(hook.received.length).toBe(before)
  await setEndpointActive(desk(admin), admin.clinicId!, endpointId, false)
})

test('at delivery, a private address is refused again, and so is a name whose DNS answer is private', async () => {
  // Written past the page's check (an endpoint from before a rule, or a changed DNS record).
  const { id: endpointId } = await register(hookUrl)
  const seen = hook.received.length
  // In production rules (no loopback allowance), the loopback receiver is refused.
  await sendTestEvent(desk(admin), admin.clinicId!, endpointId)
  await sendDueWebhooks(context({ WEBHOOK_ALLOW_LOOPBACK: 'false' }))
  expect((await deliveriesOf(endpointId))[0]).toMatchObject({ status: 'pending', error: 'address', attempts: 1 })
  expect(hook.received.length).toBe(seen)
  // A DNS-over-HTTPS resolver (started here) says the name is 10.0.0.7.
  const asked: string[] = []
  const dns = createServer((request, response) => {
    const url = new URL(request.url!, 'http://dns')
    asked.push(`${url.searchParams.get('name')}/${url.searchParams.get('type')}`)
    const answer = url.searchParams.get('type') === 'A' ? [{ name: url.searchParams.get('name'), type: 1, TTL: 60, data: '10.0.0.7' }] : []
    response.writeHead(200, { 'content-type': 'application/dns-json' }).end(JSON.stringify({ Status: 0, Answer: answer }))
  })
  const dnsUrl = await new Promise<string>((resolve) =>
    dns.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(dns.address() as { port: number }).port}/dns-query`)),
  )
  await db.owner.execute(sql`update webhook_endpoints set url = 'https://rebind.example.com/hook' where id = ${endpointId}`)
  await dueNow(endpointId)
  await sendDueWebhooks(context({ WEBHOOK_DNS_RESOLVER: dnsUrl }))
  expect(asked).toEqual(expect.arrayContaining(['rebind.example.com/A', 'rebind.example.com/AAAA']))
  expect((await deliveriesOf(endpointId))[0]).toMatchObject({ status: 'pending', error: 'address', attempts: 2 })
  await new Promise<void>((resolve) => dns.close(() => resolve()))
  await setEndpointActive(desk(admin), admin.clinicId!, endpointId, false)
})

test('the runtime role: staff see no endpoint or delivery, and the claim refuses limits out of range', async () => {
  expect(await db.as(staff).tenant((tx) => tx.select().from(s.webhookEndpoints))).toEqual([])
  expect(await db.as(staff).tenant((tx) => tx.select().from(s.webhookDeliveries))).toEqual([])
  expect((await db.as(admin).tenant((tx) => tx.select().from(s.webhookEndpoints))).length).toBeGreaterThan(0)
  for (const [limit, lease] of [
    [0, 10],
    [201, 10],
    [10, 0],
    [10, 601],
  ])
    expect(await sqlState(db.as(admin).tenant((tx) => tx.execute(sql`select * from claim_webhook_deliveries(${limit}, ${lease})`)))).toBe('P0001')
  expect(
    await db.owner
      .select({ n: sql<number>`count(*)::int` })
      .from(s.webhookEndpoints)
      .where(and(eq(s.webhookEndpoints.clinicId, admin.clinicId!))),
  ).toEqual([{ n: expect.any(Number) }])
})
