/**
 * An error on a page of the signed-in app keeps the app around it: the header with the clinic,
 * the navigation and Sign out stay, and the error shows where the page would have been. Without
 * the page's own error boundary, the app shell's boundary would replace the whole screen.
 */
import { bearer, expect, go, test, token } from './fixtures'

const STAFF = 'staff@northside.test'
const REFERRER = 'referrer2@northside.test'

/** Pages a role may not open: each answers 403 inside the shell. */
const REFUSED = [
  { email: STAFF, paths: ['/admin/users', '/clinics', '/referrals/new', '/my-referrals'] },
  { email: REFERRER, paths: ['/queue', '/settings/ai'] },
]

for (const { email, paths } of REFUSED) {
  test(`a refused page keeps the app's header and navigation (${email})`, async ({ signedInAs }) => {
    const page = await signedInAs(email)
    await expect(page.getByTestId('current-clinic')).toHaveText('Northside Physiotherapy')
    for (const path of paths) {
      const response = await go(page, path)
      expect(response?.status(), path).toBe(403)
      await expect(page.getByRole('alert').getByRole('heading', { level: 1 }), path).toHaveText('Not allowed')
      await expect(page.getByTestId('current-clinic'), path).toHaveText('Northside Physiotherapy')
      await expect(page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Home' }), path).toBeVisible()
      await expect(page.getByRole('button', { name: 'Sign out' }), path).toBeVisible()
    }
    // In the app already: a client-side move to a refused page (one data request) keeps the shell too.
    await go(page, '/')
    await expect(page.getByRole('heading', { level: 1 })).toContainText('Hello')
    await page.waitForFunction(() => !!(window as { __remixRouter?: object }).__remixRouter)
    await page.evaluate((path) => (window as unknown as { __remixRouter: { navigate: (to: string) => Promise<void> } }).__remixRouter.navigate(path), paths[0]!)
    await expect(page.getByRole('alert').getByRole('heading', { level: 1 })).toHaveText('Not allowed')
    await expect(page.getByTestId('current-clinic')).toHaveText('Northside Physiotherapy')
    await expect(page).toHaveURL(new RegExp(`${paths[0]}$`))
  })
}

test("an unknown address, signed in, is a 404 inside the app's header and navigation, with its main landmark", async ({ signedInAs }) => {
  const page = await signedInAs(STAFF)
  for (const path of ['/no-such-page', '/referrals/inbound/nothing/here', '/admin']) {
    const response = await go(page, path)
    expect(response?.status(), path).toBe(404)
    await expect(page.getByRole('main').getByRole('alert').getByRole('heading', { level: 1 }), path).toHaveText('Not found')
    await expect(page.getByTestId('current-clinic'), path).toHaveText('Northside Physiotherapy')
    await expect(page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Queue' }), path).toBeVisible()
  }
  // A form posted to such an address is a 404 too, not "this page does not do that".
  const posted = await page.request.post('/no-such-page', { form: { x: '1' }, headers: { Origin: new URL(page.url()).origin } })
  expect(posted.status()).toBe(404)
  // A client-side move to it (one data request) keeps the shell as well.
  await go(page, '/')
  await page.waitForFunction(() => !!(window as { __remixRouter?: object }).__remixRouter)
  await page.evaluate(() => (window as unknown as { __remixRouter: { navigate: (to: string) => Promise<void> } }).__remixRouter.navigate('/no-such-page'))
  await expect(page.getByRole('main').getByRole('heading', { level: 1 })).toHaveText('Not found')
  await expect(page.getByTestId('current-clinic')).toHaveText('Northside Physiotherapy')
})

test("an unknown address under /api is the API's JSON 404 whatever the method, never the app shell's sign-in", async ({ request }) => {
  const headers = bearer(await token(STAFF))
  for (const method of ['GET', 'POST'] as const) {
    const response = await request.fetch('/api/v1/no-such-thing', { method, headers, maxRedirects: 0 })
    expect(response.status(), method).toBe(404)
    expect(await response.json()).toMatchObject({ code: 'NOT_FOUND', error: expect.any(String) })
  }
})

test('the first Tab reaches "Skip to main content", which leads past the header to the page', async ({ signedInAs }) => {
  const page = await signedInAs(STAFF, '/queue')
  await page.keyboard.press('Tab')
  const skip = page.getByRole('link', { name: 'Skip to main content' })
  await expect(skip).toBeFocused()
  await expect(skip).toBeInViewport()
  await page.keyboard.press('Enter')
  await expect(page.locator('#main-content')).toBeFocused()
  // The next Tab is on the page itself, not back in the header's links.
  await page.keyboard.press('Tab')
  expect(await page.evaluate(() => !!document.activeElement?.closest('main') && !document.activeElement.closest('header'))).toBe(true)
})

test('on a 390 px phone the header, with all of an admin’s links, wraps instead of scrolling sideways', async ({ signedInAs }, testInfo) => {
  const page = await signedInAs('admin@northside.test')
  await page.setViewportSize({ width: 390, height: 844 })
  for (const path of ['/', '/no-such-page']) {
    await go(page, path)
    await expect(page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Users' })).toBeInViewport()
    const { scrollWidth, clientWidth } = await page.evaluate(() => ({
      scrollWidth: document.documentElement.scrollWidth,
      clientWidth: document.documentElement.clientWidth,
    }))
    expect(scrollWidth, path).toBeLessThanOrEqual(clientWidth)
  }
  await testInfo.attach('header at 390 px', { body: await page.screenshot(), contentType: 'image/png' })
})
