/** Referral helpers for the e2e specs: unique patients, filling the form, finding rows as the owner. */
import { randomUUID } from 'node:crypto'
import { test as base, expect, type Browser, type BrowserContext, type Page, type Request } from '@playwright/test'
import { and, desc, eq } from 'drizzle-orm'
import { auditLogs, clinics, referrals, users } from '../../app/db/schema'
import { APP_URL, IDP_URL } from '../../playwright.config'
import type { ownerDatabase } from './db'
import { PASSWORD, signIn } from './support'

type Owner = ReturnType<typeof ownerDatabase>['db']

/*
 * A page load aborts the requests still in flight. When one of them had just refreshed the
 * session (the provider rotates refresh tokens, and the access token lives 20 s here), its
 * new cookie is lost and the session ends (see the report on app/auth/identity.server.ts).
 * These specs therefore let in-flight requests finish before loading another page.
 */
const inflight = new WeakMap<BrowserContext, Set<Request>>()
function watch(context: BrowserContext) {
  const open = new Set<Request>()
  inflight.set(context, open)
  context.on('request', (r) => void (r.url().startsWith(APP_URL) && open.add(r)))
  context.on('requestfinished', (r) => void open.delete(r))
  context.on('requestfailed', (r) => void open.delete(r))
}
/** Playwright's test, with every context's requests watched (for go()). */
export const test = base.extend({
  context: async ({ context }, use) => {
    watch(context)
    await use(context)
  },
})
export async function settled(page: Page) {
  await expect.poll(() => inflight.get(page.context())?.size ?? 0, { message: 'requests still in flight' }).toBe(0)
}
/** page.goto, once nothing is in flight. */
export async function go(page: Page, url: string) {
  await settled(page)
  return page.goto(url)
}

/** A patient no other test uses: a letters-only last name (name + DOB matching ignores the rest) and card. */
export function uniquePatient() {
  const hex = randomUUID().replace(/-/g, '')
  const letters = Array.from(hex.slice(0, 8), (h) => 'abcdefghijklmnop'[parseInt(h, 16)]).join('')
  const n = parseInt(hex.slice(8, 12), 16)
  return {
    first: `Ada${letters.slice(0, 3)}`,
    last: `Zed${letters.slice(3)}`,
    dob: `${1950 + (n % 50)}-0${1 + (n % 9)}-${10 + (n % 19)}`,
    /** e.g. 3F2A-91C-0DE-7B */
    card: `${hex.slice(12, 16)}-${hex.slice(16, 19)}-${hex.slice(19, 22)}-${hex.slice(22, 24)}`.toUpperCase(),
  }
}
export type Patient = ReturnType<typeof uniquePatient>

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

const form = (page: Page) => page.locator('form:has(input[name=idempotencyKey])')

export async function fillReferral(page: Page, values: Record<string, string>, options: { urgency?: string; consent?: boolean } = {}) {
  const f = form(page)
  for (const [name, value] of Object.entries(values)) await f.locator(`[name="${name}"]`).fill(value)
  await f.locator('select[name=patient_sex]').selectOption('Female')
  await f.locator('select[name=urgency]').selectOption(options.urgency ?? 'routine')
  await f.locator('select[name=requested_service]').selectOption({ index: 1 })
  if (options.consent !== false) await f.locator('input[name=consent]').check()
}

/** The form's fields as the browser would post them (for replaying a submit). */
export const formEntries = (page: Page) =>
  form(page).evaluate((el) => Object.fromEntries(new FormData(el as HTMLFormElement)) as Record<string, string>)

/** Submits a referral through the page as the signed-in referrer; returns its reference number. */
export async function submitReferral(page: Page, patient: Patient, options: { urgency?: string } = {}) {
  await go(page, '/referrals/new')
  await fillReferral(page, referralValues(patient), options)
  await page.getByRole('button', { name: 'Send referral' }).click()
  await expect(page).toHaveURL(/\/my-referrals\?submitted=/)
  return (await page.getByTestId('reference-number').textContent())!
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

/** A new browser context signed in as email, on path (close it with page.context().close()). */
export async function signedInPage(browser: Browser, email: string, path = '/', options: { javaScriptEnabled?: boolean } = {}) {
  const context = await browser.newContext(options)
  watch(context)
  const page = await context.newPage()
  await signIn(page, email, path)
  await page.waitForURL(signedInUrl)
  return page
}

export async function referralByReference(db: Owner, referenceNumber: string) {
  const [row] = await db.select().from(referrals).where(eq(referrals.referenceNumber, referenceNumber))
  expect(row, `referral ${referenceNumber}`).toBeDefined()
  return row!
}

export async function userByEmail(db: Owner, email: string) {
  const [row] = await db.select().from(users).where(eq(users.email, email))
  return row!
}

export async function clinicBySlug(db: Owner, slug: string) {
  const [row] = await db.select().from(clinics).where(eq(clinics.slug, slug))
  return row!
}

/** The audit rows one request wrote (every response carries its X-Request-Id). */
export const auditOfRequest = (db: Owner, requestId: string) => db.select().from(auditLogs).where(eq(auditLogs.requestId, requestId)).orderBy(desc(auditLogs.id))

export const auditFor = (db: Owner, action: string, entityId: string) =>
  db.select().from(auditLogs).where(and(eq(auditLogs.action, action), eq(auditLogs.entityId, entityId))).orderBy(desc(auditLogs.id))
