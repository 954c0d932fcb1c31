/**
 * What a cookie can no longer do (docs/decisions/020-server-side-sessions.md), seen from the
 * browser: a session cookie replayed after sign-out, after a disable and re-enable, or after a
 * role change signs nobody in; a referral draft never reaches another user on the same browser;
 * a planted AI-endpoint cookie changes nothing; a referral sent while the database refuses
 * connections is kept and, sent again, makes exactly one referral.
 *
 * Serial: referrer2@lakeview.test (used by no other spec) is disabled and has its role changed here.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { APIRequestContext, BrowserContext, Page } from '@playwright/test'
import { eq, sql } from 'drizzle-orm'
import { referrals, users } from '../../app/db/schema'
import type { LocalSecrets } from '../../scripts/lib/secrets'
import { startAppWithoutDatabase } from './app-without-database'
import {
  APP_URL,
  E2E,
  expect,
  fillReferral,
  formEntries,
  go,
  referralValues,
  SAME_ORIGIN,
  SESSION_COOKIE,
  settled,
  signIn,
  signInAgain,
  test,
  uniquePatient,
  type SignedInAs,
} from './fixtures'

test.describe.configure({ mode: 'serial' })

const ME = 'referrer2@lakeview.test'
const COLLEAGUE = 'referrer@lakeview.test'

const sessionCookie = async (context: BrowserContext) => (await context.cookies()).find((c) => c.name === SESSION_COOKIE)!
const draftCookies = async (context: BrowserContext) => (await context.cookies()).filter((c) => c.name.startsWith('intakepilot_draft_'))
/** A request that carries only this session cookie, as an attacker replaying it would send it. */
const replay = (request: APIRequestContext, value: string) =>
  request.get(`${APP_URL}/my-referrals`, { headers: { Cookie: `${SESSION_COOKIE}=${value}` }, maxRedirects: 0 })
async function expectSignedOut(request: APIRequestContext, value: string) {
  const response = await replay(request, value)
  expect(response.status()).toBe(302)
  expect(response.headers().location).toMatch(/^\/login\?redirectTo=%2Fmy-referrals/)
  // The cookie is cleared, never refreshed into a new one.
  expect(response.headers()['set-cookie']).toMatch(new RegExp(`^${SESSION_COOKIE}=;.*Max-Age=0`))
}

/**
 * The first person walked away: their app session ended and the browser forgot them at the
 * provider too (cookies are per host, not port: the provider's are dropped here as well). Only
 * the referral draft cookies stay, as they would.
 */
const walkAway = (context: BrowserContext) => context.clearCookies({ name: /^(?!intakepilot_draft_)/ })

async function signOut(page: Page) {
  await page.getByRole('button', { name: 'Sign out' }).click()
  await expect(page).toHaveURL(/\/session\/end/)
  await page.getByRole('button', { name: 'Sign out' }).click()
  await expect(page).toHaveURL(new RegExp(`^${APP_URL}/login`))
}

/** An admin of Lakeview, on the users page, in a browser of their own. */
async function lakeviewAdmin(signedInAs: SignedInAs) {
  const page = await signedInAs('admin@lakeview.test', '/admin/users')
  await expect(page).toHaveURL('/admin/users')
  return { page, row: page.getByTestId(`user-${ME}`) }
}

test('after sign-out, the old session cookie signs nobody in, even once its access token has expired', async ({ signedInAs, request }) => {
  const page = await signedInAs(COLLEAGUE)
  const context = page.context()
  await expect(page).toHaveURL('/my-referrals')
  const old = (await sessionCookie(context)).value
  // Control: the cookie alone works while the session is live.
  expect((await replay(request, old)).status()).toBe(200)

  await signOut(page)
  await expectSignedOut(request, old)
  // The browser carrying it again fares no better.
  await context.addCookies([{ name: SESSION_COOKIE, value: old, domain: '127.0.0.1', path: '/', httpOnly: true, sameSite: 'Lax' }])
  await page.goto('/my-referrals')
  await expect(page).toHaveURL('/login?redirectTo=%2Fmy-referrals&reason=expired')
  // Past the access token's life, it is not refreshed at the provider either.
  await page.waitForTimeout((E2E.accessTokenTtlSeconds + 2) * 1000)
  await expectSignedOut(request, old)
})

test('a disable and re-enable ends the session for good: the old cookie is refused, a new sign-in works', async ({ signedInAs, request }) => {
  const admin = await lakeviewAdmin(signedInAs)
  const page = await signedInAs(ME)
  const context = page.context()
  await expect(page).toHaveURL('/my-referrals')
  const old = (await sessionCookie(context)).value

  await admin.row.getByRole('button', { name: 'Disable' }).click()
  await expect(admin.row).toContainText('Disabled')
  await admin.row.getByRole('button', { name: 'Enable' }).click()
  await expect(admin.row).toContainText('Active')

  await expectSignedOut(request, old)
  await page.reload()
  await expect(page).toHaveURL('/login?redirectTo=%2Fmy-referrals&reason=expired')
  await signInAgain(page, ME)
  await expect(page).toHaveURL('/my-referrals')
  await expect(page.getByTestId('current-clinic')).toHaveText('Lakeview Orthopaedics')
})

test('a role change ends the session: the old cookie is refused; the next sign-in has the new role', async ({ signedInAs, request, owner }) => {
  const admin = await lakeviewAdmin(signedInAs)
  const page = await signedInAs(ME)
  const context = page.context()
  await expect(page).toHaveURL('/my-referrals')
  const old = (await sessionCookie(context)).value

  await admin.row.getByLabel(/Role of/).selectOption('staff')
  await admin.row.getByRole('button', { name: 'Change' }).click()
  await expect(admin.page.getByText('Saved.')).toBeVisible()
  try {
    await expectSignedOut(request, old)
    await page.reload()
    await expect(page).toHaveURL(/\/login\?redirectTo=%2Fmy-referrals&reason=expired/)
    await go(page, '/login')
    await signInAgain(page, ME)
    await expect(page).toHaveURL('/queue')
    await expect(page.getByText('· staff')).toBeVisible()
  } finally {
    await admin.row.getByLabel(/Role of/).selectOption('referrer')
    await admin.row.getByRole('button', { name: 'Change' }).click()
    await expect.poll(async () => (await owner.select({ role: users.role }).from(users).where(eq(users.email, ME)))[0]!.role).toBe('referrer')
  }
})

test('two referrers on one browser: the second never sees the first one’s draft, and sign-out clears it', async ({ signedInAs }) => {
  const patient = uniquePatient()
  const page = await signedInAs(ME, '/referrals/new')
  const context = page.context()
  await expect(page).toHaveURL('/referrals/new')
  await fillReferral(page, referralValues(patient))
  // The session ends mid-form; the referral is kept as a draft in this browser.
  await context.clearCookies({ name: SESSION_COOKIE })
  await page.getByRole('button', { name: 'Send referral' }).click()
  await expect(page).toHaveURL('/login?redirectTo=%2Freferrals%2Fnew&reason=expired')
  expect((await draftCookies(context)).length).toBeGreaterThan(0)
  for (const cookie of await draftCookies(context)) expect(cookie.value).not.toContain(patient.last)

  // A colleague of the same clinic signs in at the same browser and opens the form: empty.
  await walkAway(context)
  await signInAgain(page, COLLEAGUE)
  await expect(page).toHaveURL('/referrals/new')
  await expect(page.locator('[name=patient_last_name]')).toHaveValue('')
  await expect(page.getByText('Everything you entered is below')).toHaveCount(0)
  await expect(page.locator('body')).not.toContainText(patient.last)
  expect(await draftCookies(context)).toEqual([])
  await settled(page)
  await signOut(page)

  // Again, and this time the first referrer signs in elsewhere in the app, then signs out.
  await signIn(page, ME, '/referrals/new')
  await expect(page).toHaveURL('/referrals/new')
  await fillReferral(page, referralValues(patient))
  await context.clearCookies({ name: SESSION_COOKIE })
  await page.getByRole('button', { name: 'Send referral' }).click()
  await expect(page).toHaveURL(/\/login\?/)
  await go(page, '/login?redirectTo=%2Fmy-referrals')
  await signInAgain(page, ME)
  await expect(page).toHaveURL('/my-referrals')
  expect((await draftCookies(context)).length).toBeGreaterThan(0)
  await settled(page)
  await signOut(page)
  expect(await draftCookies(context)).toEqual([])
  // Whoever opens the form next starts empty.
  await signInAgain(page, COLLEAGUE)
  await go(page, '/referrals/new')
  await expect(page.locator('[name=patient_last_name]')).toHaveValue('')
})

test('a planted AI-endpoint cookie changes neither the CSP nor where a referral is sent; a malformed one is no error', async ({ signedInAs, owner }) => {
  const evil = 'http://evil.example:9999'
  const page = await signedInAs('staff@riverbend.test')
  const context = page.context()
  await expect(page).toHaveURL('/queue')
  for (const value of [encodeURIComponent(`${evil}/v1`), '%E0%A4%A', '%']) {
    await context.addCookies([{ name: 'intakepilot_ai_endpoint', value, domain: '127.0.0.1', path: '/' }])
    const response = (await go(page, '/queue'))!
    expect(response.status(), value).toBe(200)
    const csp = response.headers()['content-security-policy']!
    expect(csp).toMatch(/connect-src 'self' [^;]+;/)
    expect(csp).not.toContain('evil.example')
  }
  const requests: string[] = []
  page.on('request', (r) => void requests.push(r.url()))
  await page.getByTestId('queue-row').first().getByRole('link').first().click()
  await expect(page).toHaveURL(/\/referrals\/[0-9a-f-]{36}$/)
  await expect(page.getByTestId('ai-destination')).not.toContainText('evil.example')
  await page.getByRole('button', { name: 'Generate AI summaries' }).click()
  await expect(page.getByRole('alert')).toContainText('could not be reached')
  expect(requests.filter((url) => url.includes('evil.example'))).toEqual([])

  // The staff member's own setting, kept with their account, does apply (and is then cleared).
  await go(page, '/settings/ai')
  await expect(page.getByTestId('ai-endpoint')).not.toContainText('evil.example')
  await page.getByLabel('Your model server').fill('http://127.0.0.1:4321/v1')
  await page.getByRole('button', { name: 'Save mine' }).click()
  await expect(page.getByTestId('ai-endpoint')).toHaveText('http://127.0.0.1:4321/v1')
  const csp = (await go(page, '/queue'))!.headers()['content-security-policy']!
  expect(csp).toContain("connect-src 'self' http://127.0.0.1:4321;")
  await go(page, '/settings/ai')
  await page.getByLabel('Your model server').fill('')
  await page.getByRole('button', { name: 'Save mine' }).click()
  await expect(page.getByTestId('ai-endpoint')).not.toHaveText('http://127.0.0.1:4321/v1')
  await expect
    .poll(async () => (await owner.select({ aiEndpoint: users.aiEndpoint }).from(users).where(eq(users.email, 'staff@riverbend.test')))[0]!.aiEndpoint)
    .toBeNull()
})

test('a second clinic cannot invite an email another clinic has: a field error that names no clinic', async ({ signedInAs, owner }) => {
  const page = await signedInAs('admin@lakeview.test', '/admin/users')
  const main = page.getByRole('main')
  await main.getByLabel('Email').fill('Staff@Northside.test')
  await main.getByLabel('Name').fill('Someone Else')
  await main.getByLabel('Role', { exact: true }).selectOption('staff')
  await main.getByRole('button', { name: 'Add user' }).click()
  await expect(main.getByRole('alert').getByText('This email already has an IntakePilot account')).toBeVisible()
  await expect(main).not.toContainText('Northside')
  const rows = await owner
    .select({ email: users.email })
    .from(users)
    .where(sql`lower(${users.email}) = 'staff@northside.test'`)
  expect(rows).toEqual([{ email: 'staff@northside.test' }])
})

function isRunning(pid: number) {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

/** The e2e stack's own secrets (npm start --ephemeral keeps them in its data folder). */
function e2eStackSecrets(): LocalSecrets {
  for (const entry of readdirSync(tmpdir())) {
    const stack = join(tmpdir(), entry, 'stack.json')
    if (!entry.startsWith('intakepilot-') || !existsSync(stack)) continue
    const info = JSON.parse(readFileSync(stack, 'utf8')) as { appOrigin: string; pid: number }
    // A stack that was killed leaves its folder behind, with the same origin and other secrets.
    if (info.appOrigin !== APP_URL || !isRunning(info.pid)) continue
    return JSON.parse(readFileSync(join(tmpdir(), entry, 'secrets.json'), 'utf8')) as LocalSecrets
  }
  throw new Error(`no running e2e stack for ${APP_URL} in ${tmpdir()}`)
}

test('a referral sent while the database refuses connections is kept, offered again, and sent once', async ({ signedInAs, owner }) => {
  test.setTimeout(150_000)
  // The same app and secrets, with its database unreachable: what the browser meets in an outage.
  const down = await startAppWithoutDatabase({ secrets: e2eStackSecrets() })
  try {
    const patient = uniquePatient()
    const page = await signedInAs(ME, '/referrals/new')
    const context = page.context()
    await expect(page).toHaveURL('/referrals/new')
    await fillReferral(page, referralValues(patient))
    const entries = await formEntries(page)
    const key = entries.idempotencyKey!

    // The page post (no JavaScript) and the single-fetch post (with it) both keep the draft.
    const data = await context.request.post(`${down.origin}/referrals/new.data`, { form: entries, headers: { Origin: down.origin }, maxRedirects: 0 })
    expect(data.status()).toBe(202)
    expect(data.headers()['set-cookie']).toContain('intakepilot_draft_0=')
    const sent = await context.request.post(`${down.origin}/referrals/new`, { form: entries, headers: { Origin: down.origin }, maxRedirects: 0 })
    expect(sent.status()).toBe(503)
    expect(await sent.text()).toContain('Nothing you entered has been lost')
    expect(sent.headers()['set-cookie']).toContain('intakepilot_draft_0=')
    expect(await owner.select().from(referrals).where(eq(referrals.idempotencyKey, key))).toEqual([])

    // The database is back (the stack's own app): the form comes back filled, with the same key.
    await go(page, '/referrals/new')
    await expect(page.getByRole('status')).toContainText('IntakePilot was unavailable when you sent this referral')
    for (const [name, value] of Object.entries(referralValues(patient))) await expect(page.locator(`[name="${name}"]`), name).toHaveValue(value)
    await expect(page.locator('input[name=idempotencyKey]')).toHaveValue(key)
    await page.getByRole('button', { name: 'Send referral' }).click()
    await expect(page).toHaveURL(/\/my-referrals\?submitted=/)
    const reference = await page.getByTestId('reference-number').textContent()

    // Sent once more with the same key (a retry): the same referral, not a second one.
    const retry = await context.request.post(`${APP_URL}/referrals/new`, { form: entries, headers: SAME_ORIGIN, maxRedirects: 0 })
    expect(retry.status()).toBe(302)
    expect(retry.headers().location).toBe(`/my-referrals?submitted=${reference}`)
    const created = await owner.select().from(referrals).where(eq(referrals.idempotencyKey, key))
    expect(created).toHaveLength(1)
    expect(created[0]!.referenceNumber).toBe(reference)
  } finally {
    await down.stop()
  }
})
