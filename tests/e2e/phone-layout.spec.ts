/**
 * On a 390 px phone, every page but the queue (which has its own cards) fits the screen: the
 * document never scrolls sideways (`scrollWidth <= clientWidth`), for each role's pages, with
 * a full-page screenshot of each kept with the test's results. A failure names the elements
 * that stick out, so the fix starts from the right place.
 */
import { randomUUID } from 'node:crypto'
import type { Page } from '@playwright/test'
import { sql } from 'drizzle-orm'
import { bearer, disabledEndpoint, expect, go, referralBody, test, token, type Owner } from './fixtures'

const PHONE = { width: 390, height: 844 }
const [STAFF, ADMIN, REFERRER] = ['staff@lakeview.test', 'admin@lakeview.test', 'referrer2@lakeview.test']

let o: Owner
test.beforeEach(async ({ owner }) => {
  o = owner
  await o.execute(sql`delete from rate_limits where key in (select 'user:' || id from users where email in (${STAFF}, ${ADMIN}, ${REFERRER}))`)
})

/**
 * The document's overflow, and what sticks out past the right edge (the deepest such elements).
 * What a card scrolls inside itself (a wide table of ids) does not move the page, so it is not counted.
 */
const overflow = (page: Page) =>
  page.evaluate(() => {
    const root = document.documentElement
    const limit = root.clientWidth
    const clipped = (el: HTMLElement) => {
      for (let up = el.parentElement; up && up !== document.body; up = up.parentElement) if (getComputedStyle(up).overflowX !== 'visible') return true
      return false
    }
    const out = [...document.body.querySelectorAll<HTMLElement>('*')].filter((el) => el.getBoundingClientRect().right > limit + 0.5 && !clipped(el))
    const deepest = out.filter((el) => !out.some((other) => other !== el && el.contains(other)))
    const name = (el: HTMLElement) =>
      `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''} "${(el.textContent ?? '').trim().slice(0, 30)}" (${Math.round(el.getBoundingClientRect().right)}px)`
    return { scrollWidth: root.scrollWidth, clientWidth: limit, sticksOut: deepest.slice(0, 8).map(name) }
  })

async function expectFits(page: Page, path: string, label: string) {
  await go(page, path)
  await page.waitForLoadState('networkidle')
  const { scrollWidth, clientWidth, sticksOut } = await overflow(page)
  await page.screenshot({ path: test.info().outputPath(`${label.replace(/\W+/g, '-')}.png`), fullPage: true })
  expect.soft(sticksOut, `${label} (${path}): elements past ${clientWidth}px`).toEqual([])
  expect.soft(scrollWidth, `${label} (${path}): scrollWidth`).toBeLessThanOrEqual(clientWidth)
}

async function newReferral(page: Page) {
  const access = await token(REFERRER)
  const response = await page.request.post('/api/v1/referrals', {
    headers: { ...bearer(access), 'Idempotency-Key': randomUUID() },
    data: await referralBody(page.request, access),
  })
  expect(response.status()).toBe(201)
  return (await response.json()).data.id as string
}

test('staff pages fit a 390 px phone: the referral (with a small form open), its documents and access tab', async ({ signedInAs }) => {
  const page = await signedInAs(STAFF, '/queue')
  await page.setViewportSize(PHONE)
  const id = await newReferral(page)
  await expectFits(page, `/referrals/${id}`, 'staff referral')
  await expectFits(page, `/referrals/${id}?move=declined`, 'staff referral decline form')
  await expectFits(page, `/referrals/${id}/documents`, 'staff referral documents')
  await expectFits(page, '/referrals/inbound', 'inbound referral')
})

test('admin pages fit a 390 px phone: users, audit trail, accounting of disclosures, documents, intake form, access history', async ({ signedInAs }) => {
  const page = await signedInAs(ADMIN, '/')
  await page.setViewportSize(PHONE)
  await expectFits(page, '/admin/users', 'admin users')
  await expectFits(page, '/admin/audit', 'admin audit')
  // The accounting's form (its results, a wide table in a card that scrolls, are in tests/e2e/disclosures.spec.ts).
  await expectFits(page, '/admin/disclosures', 'admin disclosures')
  await expectFits(page, '/admin/documents', 'admin documents')
  await expectFits(page, '/admin/intake-form', 'admin intake form')
  await expectFits(page, '/settings/ai', 'AI settings')
  const id = await newReferral(page)
  await expectFits(page, `/referrals/${id}/access`, 'admin referral access')
})

test('referrer pages fit a 390 px phone: my referrals, a referral, its documents, a new referral', async ({ signedInAs }) => {
  const page = await signedInAs(REFERRER, '/my-referrals')
  await page.setViewportSize(PHONE)
  const id = await newReferral(page)
  await expectFits(page, '/my-referrals', 'my referrals')
  await expectFits(page, `/referrals/${id}`, 'referrer referral')
  await expectFits(page, `/referrals/${id}/documents`, 'referrer referral documents')
  await expectFits(page, '/referrals/new', 'new referral')
})

test('the superadmin’s clinics page fits a 390 px phone', async ({ signedInAs }) => {
  const page = await signedInAs('superadmin@intakepilot.test', '/clinics')
  await page.setViewportSize(PHONE)
  await expectFits(page, '/clinics', 'clinics')
})

test('notification and integrations pages fit a 390 px phone: email settings, email sent, integrations, an endpoint’s log', async ({ signedInAs }) => {
  const page = await signedInAs(ADMIN, '/')
  await page.setViewportSize(PHONE)
  // An endpoint with a long address (disabled: nothing is sent to it), so that the pages show one at its widest.
  const endpoint = await disabledEndpoint(
    o,
    'lakeview',
    'https://phone-layout-hooks.example.com/a/rather/long/path/for/an/integration/endpoint?with=a&query=string',
  )
  await expectFits(page, '/settings/notifications', 'email settings')
  await expectFits(page, '/admin/email', 'email sent')
  await expectFits(page, '/admin/integrations', 'integrations')
  await expectFits(page, `/admin/integrations/${endpoint}`, 'endpoint delivery log')
})
