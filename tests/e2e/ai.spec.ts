import type { Page } from '@playwright/test'
import { and, desc, eq } from 'drizzle-orm'
import { auditLogs, processingResults, users } from '../../app/db/schema'
import { PROMPT_VERSION } from '../../app/ai/prompts'
import { startFakeLmStudio, type FakeLmStudio } from '../support/fake-lm-studio'
import { E2E, expect, SAME_ORIGIN, test } from './fixtures'

// Serial: one staff member, one referral, one stand-in model server.
test.describe.configure({ mode: 'serial' })

let lm: FakeLmStudio
let referralUrl = ''
test.beforeAll(async () => {
  lm = await startFakeLmStudio(0)
})
test.afterAll(async () => {
  await lm?.close()
})

async function useEndpoint(page: Page, endpoint: string) {
  await page.goto('/settings/ai')
  await page.getByLabel('Your model server').fill(endpoint)
  await page.getByRole('button', { name: 'Save mine' }).click()
  await expect(page.getByTestId('ai-endpoint')).toHaveText(endpoint)
}

test('generates three summaries in parallel from the browser, saves them with provenance, encrypted', async ({ signedInAs, owner }) => {
  const page = await signedInAs('staff@lakeview.test')
  await expect(page).toHaveURL('/queue')
  await useEndpoint(page, lm.url)
  await page.goto('/queue')
  await page.getByTestId('queue-row').first().getByRole('link').first().click()
  await expect(page).toHaveURL(/\/referrals\/[0-9a-f-]{36}$/)
  referralUrl = page.url()
  const referralId = referralUrl.split('/').pop()!

  // The page says where the data goes, and its CSP lets the page reach exactly that origin.
  await expect(page.getByTestId('ai-destination')).toContainText(lm.url)
  const response = await page.reload()
  const csp = response!.headers()['content-security-policy']!
  expect(csp).toContain(`connect-src 'self' ${new URL(lm.url).origin};`)

  await page.getByRole('button', { name: 'Generate AI summaries' }).click()
  await expect(page.getByTestId('stream-triage')).toContainText('Red flag', { timeout: 15_000 })
  await expect(page.getByText('Saved. Review each summary')).toBeVisible()
  expect(lm.maxInFlight()).toBe(3)

  const [result] = await owner.select().from(processingResults).where(eq(processingResults.referralId, referralId))
  const entries = (result!.summaries as { entries: Record<string, unknown>[] }).entries
  expect(entries.map((e) => e.kind).sort()).toEqual(['missing', 'summary', 'triage'])
  const [staff] = await owner.select().from(users).where(eq(users.email, 'staff@lakeview.test'))
  for (const entry of entries) {
    expect(entry).toMatchObject({ model: 'qwen2.5-7b-instruct', promptVersion: 'referral-v1', generatedBy: staff!.id, decision: 'pending' })
    expect(entry.inputHash).toMatch(/^[0-9a-f]{64}$/)
    expect(entry.text).toMatchObject({ v: 1, kid: expect.any(String), iv: expect.any(String), ct: expect.any(String) })
  }
  expect(JSON.stringify(result!.summaries)).not.toContain('Red flag')
  const [generated] = await owner
    .select()
    .from(auditLogs)
    .where(and(eq(auditLogs.action, 'ai.generate'), eq(auditLogs.entityId, referralId)))
    .orderBy(desc(auditLogs.id))
  expect(generated).toMatchObject({ outcome: 'success', actorId: staff!.id })
})

test('accepting a summary makes it the referral’s summary, and is recorded', async ({ signedInAs, owner }) => {
  const page = await signedInAs('staff@lakeview.test', new URL(referralUrl).pathname)
  await expect(page.getByTestId('accepted-summaries')).toHaveCount(0)
  await page.getByText(/All generated summaries/).click()
  const triage = page.getByTestId('summary-entry').filter({ hasText: 'Triage: urgency' }).first()
  await triage.getByRole('button', { name: 'Accept' }).click()
  await expect(page.getByTestId('accepted-summaries')).toContainText('Red flag')
  const referralId = referralUrl.split('/').pop()!
  const [accepted] = await owner
    .select()
    .from(auditLogs)
    .where(and(eq(auditLogs.action, 'ai.accept'), eq(auditLogs.entityId, referralId)))
  expect(accepted?.details).toMatchObject({ decision: 'accepted' })
})

test('when the model server is down the page says how to start it, and nothing is saved', async ({ signedInAs, owner }) => {
  const page = await signedInAs('staff@lakeview.test')
  await useEndpoint(page, `http://127.0.0.1:${E2E.appPort + 2}/v1`)
  await page.goto(new URL(referralUrl).pathname)
  const referralId = referralUrl.split('/').pop()!
  const before = await owner.select().from(processingResults).where(eq(processingResults.referralId, referralId))
  await page.getByRole('button', { name: 'Generate AI summaries' }).click()
  await expect(page.getByRole('alert')).toContainText('could not be reached')
  await expect(page.getByRole('alert')).toContainText('Enable CORS')
  // The rest of the page still works.
  await expect(page.getByRole('button', { name: 'Add note' })).toBeEnabled()
  const after = await owner.select().from(processingResults).where(eq(processingResults.referralId, referralId))
  expect(JSON.stringify(after)).toBe(JSON.stringify(before))
  await useEndpoint(page, lm.url)
})

test('the CSP blocks any other origin', async ({ signedInAs }) => {
  const page = await signedInAs('staff@lakeview.test', new URL(referralUrl).pathname)
  const blocked = await page.evaluate(async (port) => {
    const violation = new Promise<string>((resolve) => document.addEventListener('securitypolicyviolation', (e) => resolve(e.violatedDirective)))
    const outcome = await fetch(`http://127.0.0.1:${port}/v1/models`).then(
      () => 'fetched',
      () => 'refused',
    )
    return { outcome, directive: await violation }
  }, E2E.appPort + 1)
  expect(blocked).toEqual({ outcome: 'refused', directive: 'connect-src' })
})

test('without JavaScript there is no generate button', async ({ signedInAs }) => {
  const page = await signedInAs('staff@lakeview.test', new URL(referralUrl).pathname, { javaScriptEnabled: false })
  await expect(page.getByRole('heading', { name: 'AI summaries' })).toBeVisible()
  await expect(page.getByRole('button', { name: 'Generate AI summaries' })).toHaveCount(0)
})

test("a refused save is recorded: a referrer (403) and another clinic's staff (404) change nothing", async ({ signedInAs, owner }) => {
  const id = new URL(referralUrl).pathname.split('/').at(-1)!
  const countSaved = async () => (await owner.select().from(processingResults).where(eq(processingResults.referralId, id))).length
  const before = await countSaved()
  const form = { intent: 'save', model: 'intruder', promptVersion: PROMPT_VERSION, summary: 'x', triage: 'y', missing: 'z' }
  for (const [email, status, reason] of [
    ['referrer@lakeview.test', 403, 'forbidden'],
    ['staff@northside.test', 404, 'not_found'],
  ] as const) {
    const page = await signedInAs(email, '/')
    const response = await page.request.post(`/referrals/${id}/summaries`, { form, headers: SAME_ORIGIN, maxRedirects: 0 })
    expect(response.status(), email).toBe(status)
    const rows = await owner.select().from(auditLogs).where(eq(auditLogs.requestId, response.headers()['x-request-id']!))
    expect(rows, email).toMatchObject([{ action: 'ai.generate', entityId: id, outcome: 'denied', details: { reason } }])
  }
  expect(await countSaved()).toBe(before)
})
