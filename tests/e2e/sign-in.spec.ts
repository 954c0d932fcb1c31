import { APP_URL, E2E, expect, revokeAtProvider, SESSION_COOKIE, signIn, test } from './fixtures'

// Signing in is the subject here: each test walks the flow on its own page (signIn), refusals
// included, where the other specs start from signedInAs.

const ROLES = [
  { email: 'superadmin@intakepilot.test', role: 'superadmin', clinic: 'No clinic selected', home: '/clinics' },
  { email: 'admin@northside.test', role: 'admin', clinic: 'Northside Physiotherapy', home: '/queue' },
  { email: 'staff@lakeview.test', role: 'staff', clinic: 'Lakeview Orthopaedics', home: '/queue' },
  { email: 'referrer@riverbend.test', role: 'referrer', clinic: 'Riverbend Sleep Clinic', home: '/my-referrals' },
]

for (const account of ROLES) {
  test(`signs in and out as ${account.role}`, async ({ page, context }) => {
    await signIn(page, account.email)
    // Each role lands on its own start page (a superadmin first picks a clinic).
    await expect(page).toHaveURL(account.home)
    await expect(page.getByTestId('current-clinic')).toHaveText(account.clinic)
    await expect(page.getByText(`· ${account.role}`)).toBeVisible()
    const cookie = (await context.cookies()).find((c) => c.name === SESSION_COOKIE)
    expect(cookie?.httpOnly).toBe(true)
    expect(cookie?.sameSite).toBe('Lax')

    await page.getByRole('button', { name: 'Sign out' }).click()
    // The provider's end-session page asks to confirm (no id_token_hint is kept: the cookie
    // stays small), like Entra's account picker; then it sends the user back to sign-in.
    await expect(page).toHaveURL(/\/session\/end/)
    await page.getByRole('button', { name: 'Sign out' }).click()
    await expect(page).toHaveURL(new RegExp(`^${APP_URL}/login`))
    expect((await context.cookies()).find((c) => c.name === SESSION_COOKIE)).toBeUndefined()
    await page.goto('/')
    await expect(page).toHaveURL('/login?redirectTo=%2F')
  })
}

test('signing in lands back on the page that asked for it', async ({ page }) => {
  await signIn(page, 'admin@lakeview.test', '/admin/users')
  await expect(page).toHaveURL('/admin/users')
})

test('an unprovisioned identity gets a clear page and no account', async ({ page }) => {
  await signIn(page, 'stranger@intakepilot.test')
  await expect(page.getByRole('heading', { name: 'Your account is not set up in IntakePilot' })).toBeVisible()
  await page.goto('/')
  await expect(page).toHaveURL(/\/login/)
})

test('an identity from a tenant not on the allow-list is refused', async ({ page }) => {
  await signIn(page, 'outsider@elsewhere.test')
  await expect(page.getByRole('heading', { name: 'Sign-in was refused' })).toBeVisible()
})

test('a disabled account cannot sign in', async ({ page }) => {
  await signIn(page, 'disabled@northside.test')
  await expect(page.getByRole('heading', { name: 'Your account is disabled' })).toBeVisible()
})

test('a tampered session cookie is refused', async ({ page, context }) => {
  await signIn(page, 'staff@northside.test')
  await expect(page).toHaveURL('/queue')
  const cookie = (await context.cookies()).find((c) => c.name === SESSION_COOKIE)!
  const flipped = cookie.value.slice(0, -5) + (cookie.value.at(-5) === 'A' ? 'B' : 'A') + cookie.value.slice(-4)
  await context.addCookies([{ ...cookie, value: flipped }])
  await page.goto('/')
  await expect(page).toHaveURL(/\/login\?redirectTo=%2F/)
})

test('an expired access token is refreshed on the server, once, and the session goes on', async ({ page, context }) => {
  await signIn(page, 'staff@riverbend.test')
  await expect(page).toHaveURL('/queue')
  const before = (await context.cookies()).find((c) => c.name === SESSION_COOKIE)!.value
  await page.waitForTimeout((E2E.accessTokenTtlSeconds + 2) * 1000)
  await page.reload()
  await expect(page).toHaveURL('/queue')
  await expect(page.getByTestId('current-clinic')).toHaveText('Riverbend Sleep Clinic')
  const after = (await context.cookies()).find((c) => c.name === SESSION_COOKIE)!.value
  // A new cookie: the rotated refresh token and the new expiry.
  expect(after).not.toBe(before)
  await page.reload()
  await expect(page.getByTestId('current-clinic')).toHaveText('Riverbend Sleep Clinic')
})

test('a revoked refresh token ends the session and remembers the page', async ({ page }) => {
  await signIn(page, 'admin@riverbend.test', '/admin/users')
  await expect(page).toHaveURL('/admin/users')
  await revokeAtProvider('admin@riverbend.test')
  await page.waitForTimeout((E2E.accessTokenTtlSeconds + 2) * 1000)
  await page.reload()
  await expect(page).toHaveURL('/login?redirectTo=%2Fadmin%2Fusers&reason=expired')
  await expect(page.getByText('Your session has ended')).toBeVisible()
})
