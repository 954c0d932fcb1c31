/**
 * A form that is sent with something wrong says so at its top: "There is a problem", each error
 * a link to its field, and focus (or, without JavaScript, the page itself) lands there. Also when
 * the only thing missing is the consent box at the bottom of the referral form.
 */
import { expect, fillReferral, go, referralValues, test, uniquePatient } from './fixtures'

const CONSENT_ONLY = /consent/i

test('without JavaScript, only the consent box missing: the reply lands on the summary, whose link leads to the box', async ({ signedInAs }) => {
  const page = await signedInAs('referrer2@lakeview.test', '/referrals/new', { javaScriptEnabled: false })
  await fillReferral(page, referralValues(uniquePatient()), { consent: false })
  const [response] = await Promise.all([
    page.waitForResponse((r) => r.request().method() === 'POST'),
    page.getByRole('button', { name: 'Send referral' }).click(),
  ])
  expect(response.status()).toBe(400)
  const summary = page.getByTestId('error-summary')
  await expect(summary).toBeFocused()
  await expect(summary).toBeInViewport()
  await expect(summary.getByRole('heading', { level: 2 })).toHaveText('There is a problem')
  const links = summary.getByRole('link')
  await expect(links).toHaveCount(1)
  await expect(links).toHaveText(CONSENT_ONLY)
  const target = (await links.getAttribute('href'))!.slice(1)
  await expect(page.locator(`[id="${target}"]`)).toHaveAttribute('name', 'consent')
  // Everything typed is still there.
  await expect(page.locator('[name=patient_address]')).toHaveValue('12 Harbour Lane, Toronto, ON')
})

test('with JavaScript, only the consent box missing: focus moves to the summary; its link puts focus in the box', async ({ signedInAs }) => {
  const page = await signedInAs('referrer2@lakeview.test', '/referrals/new')
  await fillReferral(page, referralValues(uniquePatient()), { consent: false })
  await page.getByRole('button', { name: 'Send referral' }).click()
  const summary = page.getByTestId('error-summary')
  await expect(summary).toBeFocused()
  await expect(summary.getByRole('link')).toHaveText(CONSENT_ONLY)
  await summary.getByRole('link').click()
  await expect(page.locator('input[name=consent]')).toBeFocused()
  // Putting it right clears the summary, and the correction never pulls focus back to it.
  await page.keyboard.press('Space')
  await expect(summary).toHaveCount(0)
  await expect(page.locator('input[name=consent]')).toBeFocused()
  await expect(page).toHaveURL(/\/referrals\/new$/)
})

test('with JavaScript, an error only the server finds (an email already in use) moves focus to the summary', async ({ signedInAs }) => {
  const page = await signedInAs('admin@lakeview.test', '/admin/users')
  const invite = page.getByRole('region', { name: /invite|add/i })
  await invite.getByLabel('Email').fill('staff@lakeview.test')
  await invite.getByLabel('Name').fill('Someone Again')
  await invite.getByLabel('Role').selectOption('staff')
  await invite.getByRole('button').click()
  const summary = page.getByTestId('error-summary')
  await expect(summary).toBeFocused()
  await expect(summary.getByRole('link')).toHaveText(/already a user/)
  // Typing a correction does not pull focus back.
  await invite.getByLabel('Email').fill('someone.new@lakeview.test')
  await expect(invite.getByLabel('Email')).toBeFocused()
})

test('with JavaScript, the whole form sent empty: one line per problem, in the order of the fields', async ({ signedInAs }) => {
  const page = await signedInAs('referrer2@lakeview.test')
  await go(page, '/referrals/new')
  await page.getByRole('button', { name: 'Send referral' }).click()
  const summary = page.getByTestId('error-summary')
  await expect(summary).toBeFocused()
  const hrefs = await summary.getByRole('link').evaluateAll((as) => as.map((a) => a.getAttribute('href')!.slice(1)))
  const fieldOrder = await page.locator('form [aria-invalid=true]').evaluateAll((els) => els.map((e) => e.id))
  expect(hrefs.length).toBeGreaterThan(3)
  expect(hrefs).toEqual(fieldOrder)
})
