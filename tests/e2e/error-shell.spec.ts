/**
 * An error on a page of the signed-in app keeps the app around it: the header with the clinic,
 * the navigation and Sign out stay, and the error shows where the page would have been. Without
 * the page's own error boundary, the app shell's boundary would replace the whole screen.
 */
import { expect, go, test } from './fixtures'

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
