import { expect, test } from './fixtures'

test('the front door renders: sign-in page with its security headers', async ({ page }) => {
  const response = await page.goto('/login')
  expect(response?.status()).toBe(200)
  await expect(page.getByRole('heading', { name: 'Sign in' })).toBeVisible()
  const headers = response!.headers()
  expect(headers['content-security-policy']).toMatch(/script-src 'nonce-[^']+' 'strict-dynamic'/)
  expect(headers['content-security-policy']).toContain("frame-ancestors 'none'")
  expect(headers['x-content-type-options']).toBe('nosniff')
  expect(headers['referrer-policy']).toBe('same-origin')
  expect(headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/)
  // Remix's scripts carry the nonce and run (the page hydrates under the enforced CSP).
  const nonce = /'nonce-([^']+)'/.exec(headers['content-security-policy']!)![1]
  const scripts = await page.locator('script').evaluateAll((els) => els.map((el) => (el as HTMLScriptElement).nonce))
  expect(scripts.length).toBeGreaterThan(0)
  expect(new Set(scripts)).toEqual(new Set([nonce]))
})

test('/healthz answers ok through db.tenant', async ({ request }) => {
  const response = await request.get('/healthz')
  expect(response.status()).toBe(200)
  expect(await response.json()).toEqual({ status: 'ok', db: 'ok' })
})

test('a page without a session redirects to sign-in and remembers where it was', async ({ page }) => {
  await page.goto('/admin/users?role=staff')
  await expect(page).toHaveURL('/login?redirectTo=%2Fadmin%2Fusers%3Frole%3Dstaff')
})

test('an unknown page shows the friendly error with a request id, never a stack trace', async ({ request }) => {
  const response = await request.get('/no-such-page', { maxRedirects: 0 })
  // Without a session even unknown pages go to sign-in first: nothing is revealed.
  expect([302, 404]).toContain(response.status())
  const body = await response.text()
  expect(body).not.toMatch(/at .+\.(js|ts):\d+/)
})
