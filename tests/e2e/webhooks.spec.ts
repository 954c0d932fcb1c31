/**
 * Webhooks end to end (docs/decisions/043-signed-webhooks.md): an admin registers a receiver this
 * test starts on the integrations page, copies the secret it shows once, and the courier (in
 * workerd, beside the app) delivers a test event and a new referral to it, each verifying with
 * that secret. An address into a private network is refused on the page, and nothing is stored.
 */
import { randomUUID } from 'node:crypto'
import { createServer, type IncomingHttpHeaders } from 'node:http'
import { and, eq, sql } from 'drizzle-orm'
import { Webhook } from 'standardwebhooks'
import { emailDeliveries, users, webhookEndpoints } from '../../app/db/schema'
import { localConfig } from '../../scripts/lib/config'
import { bearer, E2E, expect, referralBody, test, token } from './fixtures'
import { fhir } from './fhir-fixtures'

const ADMIN = 'admin@lakeview.test'
const MAIL = `http://127.0.0.1:${localConfig({ PG_PORT: String(E2E.pgPort) }).mailPagePort}`

type Received = { headers: IncomingHttpHeaders; body: string }

test('an admin registers an endpoint, the secret is shown once, and signed deliveries reach the receiver', async ({ signedInAs, owner, request }) => {
  const received: Received[] = []
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') })
      res.writeHead(204).end()
    })
  })
  const port = await new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)))
  const url = `http://127.0.0.1:${port}/hook`
  try {
    const page = await signedInAs(ADMIN, '/', { javaScriptEnabled: false })
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Integrations' }).click()
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('Integrations')

    // Into a private network: refused at the field, nothing stored.
    const before = await owner.select().from(webhookEndpoints)
    await page.getByLabel('Endpoint address (HTTPS)').fill('http://169.254.169.254/latest/meta-data')
    await page.getByRole('button', { name: 'Add endpoint' }).click()
    await expect(page.getByText('The address points into a private, loopback or reserved network').first()).toBeVisible()
    expect(await owner.select().from(webhookEndpoints)).toHaveLength(before.length)

    await page.getByLabel('Endpoint address (HTTPS)').fill(url)
    await page.getByLabel(/A referral arrives/).check()
    await page.getByRole('button', { name: 'Add endpoint' }).click()
    const secret = await page.getByLabel('Signing secret').inputValue()
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{32}$/)
    const [endpoint] = await owner.select().from(webhookEndpoints).where(eq(webhookEndpoints.url, url))
    expect(endpoint!.topics.sort()).toEqual(['referral.created', 'referral.status_changed'])
    // Sealed in the database, and not shown again.
    expect(JSON.stringify(endpoint)).not.toContain(secret.slice(6))
    // Opened again (a plain GET: a reload of the answer would post the form again).
    await page.goto('/admin/integrations')
    await expect(page.getByLabel('Signing secret')).toHaveCount(0)

    // A test event: signed, verified with the secret the page showed.
    await page.getByRole('button', { name: `Send test event: ${url}` }).click()
    await expect(page.getByRole('status').first()).toContainText('Test event queued')
    await expect.poll(() => received.filter((r) => r.body.includes('webhook.test')).length, { timeout: 15_000 }).toBe(1)
    const test = received.find((r) => r.body.includes('webhook.test'))!
    expect(new Webhook(secret).verify(test.body, test.headers as Record<string, string>)).toMatchObject({
      type: 'webhook.test',
      data: { endpointId: endpoint!.id },
    })

    // A referral submitted through the API: announced as referral.created, its id only.
    const referrer = await token('referrer@lakeview.test')
    const created = await request.post('/api/v1/referrals', {
      headers: { ...bearer(referrer), 'Idempotency-Key': randomUUID() },
      data: await referralBody(request, referrer),
    })
    expect(created.status(), await created.text()).toBe(201)
    const { id } = (await created.json()).data
    await expect.poll(() => received.filter((r) => r.body.includes(id)).length, { timeout: 15_000 }).toBe(1)
    const announced = received.find((r) => r.body.includes(id))!
    const message = new Webhook(secret).verify(announced.body, announced.headers as Record<string, string>) as { type: string; data: Record<string, unknown> }
    expect(message.type).toBe('referral.created')
    expect(Object.keys(message.data).sort()).toEqual(['actorId', 'clinicId', 'eventId', 'priority', 'referralId', 'status'])
    expect(announced.body).not.toMatch(/Api[0-9a-f]{8}/)

    // Its sender cancels it over FHIR (docs/decisions/060-sender-cancels.md): announced as any status change, without the reason.
    const task = await fhir(await request.get(`/fhir/R4/Task/${id}`, { headers: bearer(referrer) }))
    const cancelled = await request.put(`/fhir/R4/Task/${id}`, {
      headers: { ...bearer(referrer), 'Content-Type': 'application/fhir+json' },
      data: { ...task, status: 'cancelled', statusReason: { text: 'Seen elsewhere sooner' } },
    })
    expect(await fhir(cancelled)).toMatchObject({ status: 'cancelled' })
    const changed = () => received.filter((r) => r.body.includes(id) && r.body.includes('referral.status_changed'))
    await expect.poll(() => changed().length, { timeout: 15_000 }).toBe(1)
    const change = new Webhook(secret).verify(changed()[0]!.body, changed()[0]!.headers as Record<string, string>) as {
      type: string
      data: Record<string, unknown>
    }
    expect(change).toMatchObject({ type: 'referral.status_changed', data: { referralId: id, from: 'received', to: 'cancelled', status: 'cancelled' } })
    expect(changed()[0]!.body).not.toContain('Seen elsewhere')

    // The delivery log shows both, delivered with the receiver's status code.
    await page.getByRole('link', { name: `Delivery log of ${url}` }).click()
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('Webhook deliveries')
    await expect(page.getByRole('row').filter({ hasText: 'referral.created' }).first()).toContainText('Delivered')
    await expect(page.getByRole('row').filter({ hasText: 'referral.status_changed' }).first()).toContainText('Delivered')
    await expect(page.getByRole('row').filter({ hasText: 'webhook.test' })).toContainText('204')

    // Disabled: nothing more is sent to it (and the other tests' referrals do not reach it).
    await page.getByRole('main').getByRole('link', { name: 'Integrations' }).click()
    await page.getByRole('button', { name: `Disable: ${url}` }).click()
    await expect(page.getByRole('button', { name: `Enable: ${url}` })).toBeVisible()
  } finally {
    await owner.update(webhookEndpoints).set({ status: 'disabled' }).where(eq(webhookEndpoints.url, url))
    server.close()
  }
})

test('staff and referrers cannot open the integrations page', async ({ signedInAs }) => {
  for (const account of ['staff@lakeview.test', 'referrer@lakeview.test']) {
    const page = await signedInAs(account)
    const response = await page.goto('/admin/integrations')
    expect(response?.status(), account).toBe(403)
  }
})

test('an endpoint failing for a day is disabled, its admins get one email saying so (its host, why, the page), and the page says they were told', async ({
  signedInAs,
  owner,
  request,
}) => {
  // Its email may wait out email.spec.ts's "mailer down" minute and a backoff.
  test.setTimeout(150_000)
  const server = createServer((req, res) => {
    req.resume()
    req.on('end', () => res.writeHead(500).end())
  })
  const port = await new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)))
  // A query that could be a receiver's token: it must never reach an email.
  const url = `http://127.0.0.1:${port}/failing?token=e2e-${randomUUID().slice(0, 8)}`
  const host = `127.0.0.1:${port}`
  try {
    const page = await signedInAs(ADMIN, '/admin/integrations', { javaScriptEnabled: false })
    await page.getByLabel('Endpoint address (HTTPS)').fill(url)
    await page.getByRole('button', { name: 'Add endpoint' }).click()
    await expect(page.getByLabel('Signing secret')).toBeVisible()
    const [endpoint] = await owner.select().from(webhookEndpoints).where(eq(webhookEndpoints.url, url))
    // It has failed for a day already (the test does not wait 24 hours); one more failure disables it.
    await owner.execute(sql`update webhook_endpoints set failing_since = now() - interval '25 hours', consecutive_failures = 50 where id = ${endpoint!.id}`)
    await page.goto('/admin/integrations')
    await page.getByRole('button', { name: `Send test event: ${url}` }).click()
    await expect
      .poll(async () => (await owner.select().from(webhookEndpoints).where(eq(webhookEndpoints.id, endpoint!.id)))[0]!.status, { timeout: 20_000 })
      .toBe('disabled')

    const admins = await owner
      .select({ email: users.email })
      .from(users)
      .where(and(eq(users.clinicId, endpoint!.clinicId), eq(users.role, 'admin'), eq(users.status, 'active')))
    const mine = async () =>
      (
        (await (await request.get(`${MAIL}/messages.json`)).json()) as { messages: { to: string[]; subject: string; text: string; html: string }[] }
      ).messages.filter((m) => m.subject.includes(`webhook endpoint disabled (${host})`))
    await expect.poll(async () => (await mine()).length, { timeout: 60_000 }).toBe(admins.length)
    // Once each: the courier's later runs send nothing more.
    await new Promise((resolve) => setTimeout(resolve, 6_000))
    const emails = await mine()
    expect(emails.flatMap((m) => m.to).sort()).toEqual(admins.map((a) => a.email).sort())
    for (const email of emails) {
      expect(email.text).toContain(`The webhook endpoint at ${host} has been disabled: every delivery to it failed for 24 hours.`)
      expect(email.text).toContain('/admin/integrations')
      expect(`${email.subject}\n${email.text}\n${email.html}`).not.toMatch(/token|failing\?/)
    }
    const deliveries = await owner.select().from(emailDeliveries).where(eq(emailDeliveries.endpointId, endpoint!.id))
    expect(deliveries.map((d) => [d.kind, d.status, d.referralId])).toEqual(admins.map(() => ['endpoint_disabled', 'sent', null]))

    await page.goto('/admin/integrations')
    await expect(page.getByRole('alert')).toContainText(`${host}: emailed to ${admins.length} ${admins.length === 1 ? 'admin' : 'admins'}`)
    await page.goto('/admin/email')
    await expect(page.getByRole('row').filter({ hasText: 'A webhook endpoint is disabled' }).first()).toContainText('Sent')
  } finally {
    await owner.update(webhookEndpoints).set({ status: 'disabled' }).where(eq(webhookEndpoints.url, url))
    server.close()
  }
})
