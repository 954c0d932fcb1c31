/**
 * When the database cannot be reached (503 UNAVAILABLE), seen from outside: an API
 * call with a perfectly good token gets the JSON error, a page gets a friendly 503 page, and
 * neither carries a stack trace, a driver error or anything about the user.
 */
import { startAppWithoutDatabase } from './app-without-database'
import { bearer, E2E, expect, LEAKS, test, token } from './fixtures'

test('database unreachable: 503 UNAVAILABLE JSON from the API, a friendly 503 page for people', async ({ request, page }) => {
  test.setTimeout(120_000)
  const app = await startAppWithoutDatabase()
  try {
    const healthz = await request.get(`${app.origin}/healthz`)
    expect(healthz.status()).toBe(503)

    const api = await request.get(`${app.origin}/api/v1/me`, { headers: bearer(await token('staff@northside.test')) })
    const text = await api.text()
    expect(api.status(), text).toBe(503)
    expect(api.headers()['content-type']).toContain('application/json')
    expect(Number(api.headers()['retry-after'])).toBeGreaterThan(0)
    const requestId = api.headers()['x-request-id']
    expect(requestId).toMatch(/^[0-9a-f-]{36}$/)
    expect(JSON.parse(text)).toEqual({ error: expect.any(String), code: 'UNAVAILABLE', details: { requestId } })
    expect(text).not.toMatch(LEAKS)
    expect(text).not.toContain('staff@northside.test')
    // Still the API: CORS and no caching, as on every /api answer.
    const cors = await request.get(`${app.origin}/api/v1/referrals`, { headers: { ...bearer(await token('staff@northside.test')), Origin: E2E.corsOrigin } })
    expect(cors.status()).toBe(503)
    expect(cors.headers()['access-control-allow-origin']).toBe(E2E.corsOrigin)
    expect(cors.headers()['cache-control']).toBe('no-store')

    // A person on the sign-in page (it needs the database: sign-ins are rate limited per address).
    const response = (await page.goto(`${app.origin}/login`))!
    expect(response.status()).toBe(503)
    expect(response.headers()['content-type']).toContain('text/html')
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('IntakePilot is temporarily unavailable')
    await expect(page.getByRole('main')).toContainText('try again in a moment')
    await expect(page.getByRole('main').locator('code')).toHaveText(response.headers()['x-request-id']!)
    expect(await response.text()).not.toMatch(LEAKS)
  } finally {
    await app.stop()
  }
})
