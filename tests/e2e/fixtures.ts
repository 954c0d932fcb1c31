/**
 * What every e2e spec starts from: Playwright's `test` with this stack's fixtures, the stack's
 * constants, and the steps and queries the specs share.
 *
 * - `signedInAs(account, path?)`: a browser of its own, signed in through the real flow (our
 *   sign-in page, the provider's page, back), on `path`; closed when the test ends.
 * - `owner`: the e2e stack's database as its owner, for checking what really was written. One
 *   connection per worker, ended when the worker ends (with fullyParallel a worker leaves and
 *   comes back to a file, so a spec's own afterAll would end it under a later test).
 * - every browser context's requests are watched, so that `go()` loads a page only once nothing
 *   is in flight (see `settled`).
 */
import { randomUUID } from 'node:crypto'
import { test as base, expect, type APIRequestContext, type APIResponse, type BrowserContext, type Page, type Request } from '@playwright/test'
import { and, desc, eq, sql } from 'drizzle-orm'
import { auditLogs, clinics, referrals, users, webhookEndpoints } from '../../app/db/schema'
import { APP_URL, E2E, IDP_URL } from '../../playwright.config'
import { DEMO_PASSWORD, DEMO_TENANT_ID, findDemoAccount } from '../../scripts/lib/demo-accounts'
import { CLI_CLIENT_ID, CLI_REDIRECT_URI, getTokensFor } from '../../scripts/lib/idp-login'
import { connectDatabase } from '../../scripts/lib/neon-node'
import { DATABASE_NAME, OWNER_ROLE } from '../../scripts/lib/postgres'
import { clinicDay, DEFAULT_TIME_ZONE } from '../../app/utils/clinic-time'

export { expect, APP_URL, E2E, IDP_URL }

/** Every demo account's password at the local provider. */
export const PASSWORD = DEMO_PASSWORD
/** The local provider's issuer, as Entra names it: one per tenant. */
export const ISSUER = `${IDP_URL}/${DEMO_TENANT_ID}/v2.0`
export const SESSION_COOKIE = 'intakepilot_session'
/**
 * What a browser sends with every form it posts from one of our pages. Playwright's request API
 * sends no Origin, and a state-changing request that carries the session cookie without one is
 * refused as cross-site (app/server/csrf.server.ts).
 */
export const SAME_ORIGIN = { Origin: APP_URL }

/** Today as the seeded clinics' date fields take it: their own calendar day (the default zone), not UTC's. */
export const today = () => clinicDay(Date.now(), DEFAULT_TIME_ZONE)
/** A list cursor written by hand: base64url JSON, the shape the app's own cursors have. */
export const cursor = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')

/* ---------------------------------------------------------------- the database */

/** The e2e stack's database as `role`, through its Neon relay. */
export const stackDatabaseUrl = (role: { user: string; password: string }) =>
  `postgres://${role.user}:${role.password}@127.0.0.1:${E2E.pgPort}/${DATABASE_NAME}`
/** A connection of its own (end it): for a superuser, or a transaction held across requests. */
export const connectAs = (role: { user: string; password: string }) => connectDatabase({ url: stackDatabaseUrl(role), wsProxy: `127.0.0.1:${E2E.relayPort}` })
export type Owner = ReturnType<typeof connectDatabase>['db']

/* ---------------------------------------------------------------- requests in flight */

/*
 * A page load aborts the requests still in flight. When one of them had just refreshed the
 * session (the provider rotates refresh tokens, and the access token lives 20 s here), its
 * new cookie is lost and the session ends (see the report on app/auth/identity.server.ts).
 * The specs therefore let in-flight requests finish before loading another page.
 */
const inflight = new WeakMap<BrowserContext, Set<Request>>()
function watch(context: BrowserContext) {
  const open = new Set<Request>()
  inflight.set(context, open)
  context.on('request', (r) => void (r.url().startsWith(APP_URL) && open.add(r)))
  context.on('requestfinished', (r) => void open.delete(r))
  context.on('requestfailed', (r) => void open.delete(r))
}
export async function settled(page: Page) {
  await expect.poll(() => inflight.get(page.context())?.size ?? 0, { message: 'requests still in flight' }).toBe(0)
}
/** Once React has taken the page over (app/root.tsx marks it): typing before then skips the browser's checks. */
export const hydrated = (page: Page) => page.locator('html[data-hydrated]').waitFor({ state: 'attached' })

/** page.goto, once nothing is in flight. */
export async function go(page: Page, url: string) {
  await settled(page)
  return page.goto(url)
}

/* ---------------------------------------------------------------- signing in */

/** Signs in through the real flow: our sign-in page -> the provider's page -> back. */
export async function signIn(page: Page, email: string, path = '/') {
  await page.goto(path)
  await expect(page).toHaveURL(/\/login\?redirectTo=/)
  await page.getByRole('button', { name: 'Sign in with Microsoft' }).click()
  await expect(page).toHaveURL(new RegExp(`^${IDP_URL}/`))
  await page.locator('input[name=login]').fill(email)
  await page.locator('input[name=password]').fill(PASSWORD)
  await page.locator('form button[type=submit]').first().click()
}

const signedInUrl = (url: URL) => url.origin === APP_URL && !/^\/(login|auth)/.test(url.pathname)

/** From our sign-in page on: the provider may still have a session, then it sends them straight back. */
export async function signInAgain(page: Page, email: string) {
  await page.getByRole('button', { name: 'Sign in with Microsoft' }).click()
  await page.waitForURL((url) => url.href.startsWith(IDP_URL) || signedInUrl(url))
  if (page.url().startsWith(IDP_URL)) {
    await page.locator('input[name=login]').fill(email)
    await page.locator('input[name=password]').fill(PASSWORD)
    await page.locator('form button[type=submit]').first().click()
  }
}

export async function revokeAtProvider(email: string) {
  const response = await fetch(`${IDP_URL}/__dev/revoke`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ email }),
  })
  expect(response.ok).toBe(true)
}

/** A demo account (scripts/lib/demo-accounts.ts) by email, e.g. 'staff@lakeview.test'. */
export type SignedInAs = (account: string, path?: string, options?: { javaScriptEnabled?: boolean }) => Promise<Page>

export const test = base.extend<{ signedInAs: SignedInAs }, { owner: Owner }>({
  owner: [
    // eslint-disable-next-line no-empty-pattern -- Playwright reads a fixture's dependencies from this destructuring: it has none
    async ({}, use) => {
      const connection = connectAs(OWNER_ROLE)
      await use(connection.db)
      await connection.end()
    },
    { scope: 'worker' },
  ],
  context: async ({ context }, use) => {
    watch(context)
    await use(context)
  },
  signedInAs: async ({ browser }, use) => {
    const opened: BrowserContext[] = []
    await use(async (account, path = '/', options = {}) => {
      if (!findDemoAccount(account)) throw new Error(`${account} is not a demo account (scripts/lib/demo-accounts.ts)`)
      const context = await browser.newContext(options)
      opened.push(context)
      watch(context)
      const page = await context.newPage()
      await signIn(page, account, path)
      await page.waitForURL(signedInUrl)
      if (options.javaScriptEnabled !== false) await hydrated(page)
      return page
    })
    for (const context of opened) await context.close()
  },
})

/* ---------------------------------------------------------------- the API */

/** Tokens from the local provider, as the headless CLI client gets them. */
export const tokensFor = (email: string) => getTokensFor({ issuer: ISSUER, email, clientId: CLI_CLIENT_ID, redirectUri: CLI_REDIRECT_URI })
export const bearer = (token: string) => ({ Authorization: `Bearer ${token}` })
// Access tokens live 20 s here (+60 s skew): each test gets its own.
export const token = async (email: string) => (await tokensFor(email)).access_token

export type ApiErrorBody = { error: string; code: string; details: { fields: Record<string, string[]> } & Record<string, unknown> }

export async function expectError(response: APIResponse, status: number, code: string): Promise<ApiErrorBody> {
  expect(response.status(), await response.text()).toBe(status)
  expect(response.headers()['content-type']).toContain('application/json')
  const body = (await response.json()) as ApiErrorBody
  expect(body).toMatchObject({ code, error: expect.any(String) })
  expect(body).toHaveProperty('details')
  return body
}

/** What no error a user or client sees may carry: a stack frame, an exception's name, an SQL or network error. */
export const LEAKS = /\bat \S+ \(|\bat async\b|node_modules|\.ts:\d+|\bError:|PhiDecryptError|ECONNREFUSED|WebSocket|Neon|postgres|SELECT |decrypt/i

/** Values for every required field of the clinic's current form (whatever its version). */
export async function referralBody(request: APIRequestContext, access: string) {
  const form = (await (await request.get('/api/v1/intake-form', { headers: bearer(access) })).json()).data
  const data: Record<string, string | boolean | number> = {}
  for (const f of form.fields as { key: string; type: string; required: boolean; options?: string[]; format?: string }[]) {
    if (!f.required) continue
    data[f.key] =
      { date: '1980-02-03', phone: '(416) 555-0123', email: 'p@example.test', number: 1, checkbox: true, select: f.options?.[0] ?? '' }[f.type] ??
      `API ${f.key}`
    // A field with a declared format gets a value of that shape (the default form's health card: Ontario's).
    if (f.format) data[f.key] = ontarioCard(randomUUID().replace(/-/g, ''))
  }
  data.patient_last_name = `Api${randomUUID().slice(0, 8)}`
  return { formVersion: form.version as number, data }
}

/* ---------------------------------------------------------------- referrals through the page */

/** A patient no other test uses: a letters-only last name (name + DOB matching ignores the rest) and card. */
export function uniquePatient() {
  const hex = randomUUID().replace(/-/g, '')
  const letters = Array.from(hex.slice(0, 8), (h) => 'abcdefghijklmnop'[parseInt(h, 16)]).join('')
  const n = parseInt(hex.slice(8, 12), 16)
  return {
    first: `Ada${letters.slice(0, 3)}`,
    last: `Zed${letters.slice(3)}`,
    dob: `${1950 + (n % 50)}-0${1 + (n % 9)}-${10 + (n % 19)}`,
    /** Ontario-shaped (the default form checks it), e.g. 4821-093-771-KD */
    card: ontarioCard(hex),
  }
}
export type Patient = ReturnType<typeof uniquePatient>

/** 10 digits from 48 random bits, then a 2-letter version code. */
function ontarioCard(hex: string) {
  const digits = (BigInt(`0x${hex.slice(12, 24)}`) % 10_000_000_000n).toString().padStart(10, '0')
  const code = Array.from(hex.slice(24, 26), (h) => 'ABCDEFGHJKLMNPQR'[parseInt(h, 16)]).join('')
  return `${digits.slice(0, 4)}-${digits.slice(4, 7)}-${digits.slice(7)}-${code}`
}

/** Every field of the default form, by name (labels are edited by other specs; names are stable). */
export function referralValues(p: Patient): Record<string, string> {
  return {
    patient_first_name: p.first,
    patient_last_name: p.last,
    patient_dob: p.dob,
    health_card_number: p.card,
    patient_phone: '(416) 555-0142',
    patient_email: `${p.first.toLowerCase()}@example.com`,
    patient_address: '12 Harbour Lane, Toronto, ON',
    clinician_name: 'Dr. Amara Okafor',
    clinician_practice: 'Maple Family Health Team',
    clinician_phone: '(416) 555-0199',
    clinician_billing_number: '123456',
    reason: `Persistent knee pain after a fall (${p.last}).`,
    history: 'Hypertension.',
    medications: 'Ramipril 5 mg daily',
    allergies: 'No known drug allergies',
  }
}

const referralForm = (page: Page) => page.locator('form:has(input[name=idempotencyKey])')

export async function fillReferral(page: Page, values: Record<string, string>, options: { urgency?: string; consent?: boolean } = {}) {
  const f = referralForm(page)
  for (const [name, value] of Object.entries(values)) await f.locator(`[name="${name}"]`).fill(value)
  await f.locator('select[name=patient_sex]').selectOption('Female')
  await f.locator('select[name=urgency]').selectOption(options.urgency ?? 'routine')
  await f.locator('select[name=requested_service]').selectOption({ index: 1 })
  if (options.consent !== false) await f.locator('input[name=consent]').check()
}

/** The form's text fields as the browser would post them (for replaying a submit without files: the file input is left out). */
export const formEntries = (page: Page) =>
  referralForm(page).evaluate(
    (el) => Object.fromEntries([...new FormData(el as HTMLFormElement)].filter(([, value]) => typeof value === 'string')) as Record<string, string>,
  )

/** Submits a referral through the page as the signed-in referrer; returns its reference number. */
export async function submitReferral(page: Page, patient: Patient, options: { urgency?: string } = {}) {
  await go(page, '/referrals/new')
  await fillReferral(page, referralValues(patient), options)
  await page.getByRole('button', { name: 'Send referral' }).click()
  await expect(page).toHaveURL(/\/my-referrals\?submitted=/)
  return (await page.getByTestId('reference-number').textContent())!
}

/* ---------------------------------------------------------------- rows, as the owner reads them */

export async function referralByReference(db: Owner, referenceNumber: string) {
  const [row] = await db.select().from(referrals).where(eq(referrals.referenceNumber, referenceNumber))
  expect(row, `referral ${referenceNumber}`).toBeDefined()
  return row!
}

export async function userByEmail(db: Owner, email: string) {
  const [row] = await db.select().from(users).where(eq(users.email, email))
  return row!
}

/**
 * The accounts' rate-limit windows of this minute, emptied. The FHIR specs send a few hundred API
 * requests as the Northside and Lakeview accounts other specs share, two workers at a time; the
 * per-user limit (100 a minute) would then refuse a neighbour's page. The limit itself is tested
 * with Riverbend accounts only those tests use (api.spec.ts, rate-limit-page.spec.ts).
 */
export async function spareRateLimits(db: Owner, emails: readonly string[]) {
  for (const email of emails) await db.execute(sql`delete from rate_limits where key = (select 'user:' || id from users where email = ${email})`)
}
/** The shared accounts the FHIR and PHI-coverage specs work as. */
export const FHIR_ACCOUNTS = [
  'staff@northside.test',
  'admin@northside.test',
  'referrer@northside.test',
  'referrer2@northside.test',
  'staff@lakeview.test',
  'admin@lakeview.test',
] as const

export async function clinicBySlug(db: Owner, slug: string) {
  const [row] = await db.select().from(clinics).where(eq(clinics.slug, slug))
  return row!
}

/** The audit rows one request wrote (every response carries its X-Request-Id). */
export const auditOfRequest = (db: Owner, requestId: string) =>
  db.select().from(auditLogs).where(eq(auditLogs.requestId, requestId)).orderBy(desc(auditLogs.id))

export const auditFor = (db: Owner, action: string, entityId: string) =>
  db
    .select()
    .from(auditLogs)
    .where(and(eq(auditLogs.action, action), eq(auditLogs.entityId, entityId)))
    .orderBy(desc(auditLogs.id))

/**
 * A webhook endpoint of the clinic at this address, made once: disabled, so nothing is ever sent to
 * it, and its placeholder secret is never opened. For the pages that list endpoints and their logs.
 */
export async function disabledEndpoint(owner: Owner, slug: string, url: string) {
  const clinic = await clinicBySlug(owner, slug)
  const [found] = await owner
    .select({ id: webhookEndpoints.id })
    .from(webhookEndpoints)
    .where(and(eq(webhookEndpoints.clinicId, clinic.id), eq(webhookEndpoints.url, url)))
  if (found) return found.id
  const [made] = await owner
    .insert(webhookEndpoints)
    .values({
      clinicId: clinic.id,
      url,
      topics: ['referral.created'],
      secret: { v: 1, iv: '', ct: '' },
      status: 'disabled',
      disabledReason: 'admin',
      disabledAt: new Date(),
    })
    .returning({ id: webhookEndpoints.id })
  return made!.id
}
