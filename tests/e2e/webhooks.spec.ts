/**
 * Webhooks end to end (docs/decisions/043-signed-webhooks.md): an admin registers a receiver this
 * test starts on the integrations page, copies the secret it shows once, and the courier (in
 * workerd, beside the app) delivers a test event and a new referral to it, each verifying with
 * that secret. An address into a private network is refused on the page, and nothing is stored.
 */
import { randomUUID } from 'node:crypto'
import { createServer, type IncomingHttpHeaders } from 'node:http'
import { eq } from 'drizzle-orm'
import { Webhook } from 'standardwebhooks'
import { webhookEndpoints } from '../../app/db/schema'
import { bearer, expect, referralBody, test, token } from './fixtures'

const ADMIN = 'admin@lakeview.test'

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

    // The delivery log shows both, delivered with the receiver's status code.
    await page.getByRole('link', { name: `Delivery log of ${url}` }).click()
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('Webhook deliveries')
    await expect(page.getByRole('row').filter({ hasText: 'referral.created' }).first()).toContainText('Delivered')
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
