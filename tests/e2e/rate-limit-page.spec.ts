/**
 * The rate limit as a person meets it: a signed-in user who has made 100 requests
 * this minute gets a friendly page, not an error dump: a plain heading, when they can carry on
 * (from Retry-After), no stack. The same user's API calls get 429 RATE_LIMITED JSON, since the
 * budget is per user, pages and API together.
 */
import { bearer, expect, expectError, LEAKS, test, token } from './fixtures'

// A demo account only this spec uses (scripts/lib/demo-accounts.ts): its budget is spent here.
const EMAIL = 'busy@riverbend.test'

test('over 100 requests a minute: a friendly 429 page, and 429 JSON from the API', async ({ signedInAs }) => {
  test.setTimeout(150_000)
  // The budget is a fixed minute: spend it and look at the page within one.
  const second = new Date().getUTCSeconds()
  if (second > 25) await new Promise((resolve) => setTimeout(resolve, (61 - second) * 1000))

  const page = await signedInAs(EMAIL, '/queue')
  await expect(page).toHaveURL(/\/queue/)
  // The rest of the budget, spent with the browser's own session cookie.
  const spend = page.context().request
  let refused = 0
  for (let batch = 0; batch < 12 && !refused; batch++) {
    const statuses = await Promise.all(Array.from({ length: 10 }, async () => (await spend.get('/healthz')).status()))
    refused = statuses.filter((s) => s === 429).length
  }
  expect(refused).toBeGreaterThan(0)

  // In the app already (client-side navigation asks for /_root.data, not a page): the browser is
  // sent to the page itself, so the person sees the same friendly page, not a broken screen.
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Home' }).click()
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Please wait a moment')
  await expect(page).toHaveURL(/\/$/)

  const response = (await page.goto('/queue'))!
  expect(response.status()).toBe(429)
  const headers = response.headers()
  const retryAfter = Number(headers['retry-after'])
  expect(retryAfter).toBeGreaterThan(0)
  expect(retryAfter).toBeLessThanOrEqual(60)
  expect(headers).toMatchObject({ 'ratelimit-limit': '100', 'ratelimit-remaining': '0', 'ratelimit-reset': String(retryAfter) })
  expect(headers['content-type']).toContain('text/html')

  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Please wait a moment')
  await expect(page.getByRole('main')).toContainText(new RegExp(`carry on in ${retryAfter} seconds?\\b`))
  await expect(page.getByRole('link', { name: 'Try again' })).toHaveAttribute('href', '/queue')
  await expect(page.getByRole('main').locator('code')).toHaveText(headers['x-request-id']!)
  expect(await response.text()).not.toMatch(LEAKS)
  await page.screenshot({ path: test.info().outputPath('rate-limited.png'), fullPage: true })

  // The API, for the same person: the same budget, spent.
  const api = await page.request.get('/api/v1/me', { headers: bearer(await token(EMAIL)) })
  const body = await expectError(api, 429, 'RATE_LIMITED')
  expect(Number(api.headers()['retry-after'])).toBeGreaterThan(0)
  expect(api.headers()).toMatchObject({ 'ratelimit-limit': '100', 'ratelimit-remaining': '0' })
  expect(body.details).toMatchObject({ requestId: api.headers()['x-request-id'] })
})
