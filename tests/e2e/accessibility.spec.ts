/**
 * Every page, in every state a person meets it, for each role, scanned with axe-core in Chromium
 * against WCAG 2.2 AA: empty and filled, with field errors (with JavaScript and without), 404,
 * 403, and with menus and dialogs open. Nothing serious or critical may be found
 * (docs/decisions/037-accessibility-bar.md).
 *
 * Each test gathers what every page it visits breaks and reports them together, so that one run
 * lists all the work left. The pages only read, except where a state needs a submit that is
 * refused (which changes nothing).
 */
import AxeBuilder from '@axe-core/playwright'
import type { Page } from '@playwright/test'
import { and, desc, eq } from 'drizzle-orm'
import { referrals, users } from '../../app/db/schema'
import { clinicBySlug, disabledEndpoint, expect, go, test, type Owner } from './fixtures'

const WCAG_22_AA = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa']

type Found = { state: string; rule: string; impact: string; help: string; nodes: string[] }

/** The serious and critical violations on the page as it is now, with what state it was in. */
async function violations(page: Page, state: string): Promise<Found[]> {
  const result = await new AxeBuilder({ page }).withTags(WCAG_22_AA).analyze()
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => ({ state, rule: v.id, impact: v.impact!, help: v.help, nodes: v.nodes.slice(0, 5).map((n) => n.target.join(' ')) }))
}

/** Collects a test's findings: `page(path)` opens and scans a page, `now(state)` scans what is on screen. */
function scanner(page: Page) {
  const found: Found[] = []
  return {
    found,
    async page(path: string, expectStatus = 200) {
      const response = await go(page, path)
      expect(response?.status(), path).toBe(expectStatus)
      found.push(...(await violations(page, path)))
    },
    async now(state: string) {
      found.push(...(await violations(page, state)))
    },
  }
}

const referralIdOf = async (owner: Owner, slug: string, submitter?: string) => {
  const clinic = await clinicBySlug(owner, slug)
  const [byUser] = submitter ? await owner.select({ id: users.id }).from(users).where(eq(users.email, submitter)) : [undefined]
  const [row] = await owner
    .select({ id: referrals.id })
    .from(referrals)
    .where(and(eq(referrals.clinicId, clinic.id), byUser ? eq(referrals.submittedBy, byUser.id) : undefined))
    .orderBy(desc(referrals.receivedAt))
    .limit(1)
  expect(row, `a seeded referral in ${slug}`).toBeDefined()
  return row!.id
}

/** An endpoint of the clinic for its delivery log. */
const endpointIdOf = (owner: Owner, slug: string) => disabledEndpoint(owner, slug, 'https://a11y-hooks.example.com/intake?token=never-shown-elsewhere')

/** Pages as they open, by who opens them. `:referral` is a seeded referral the account may open (for a referrer: their own). */
const PAGES: { as: string; paths: (string | [path: string, status: number])[] }[] = [
  { as: 'referrer@lakeview.test', paths: ['/', '/my-referrals', ['/my-referrals?before=not-a-cursor', 400], ['/settings/ai', 403]] },
  { as: 'referrer@lakeview.test', paths: ['/referrals/:referral', '/referrals/:referral/documents', '/referrals/:referral/print', '/referrals/new'] },
  {
    as: 'referrer@lakeview.test',
    paths: [
      ['/queue', 403],
      ['/admin/users', 403],
      ['/admin/disclosures', 403],
      ['/no-such-page', 404],
      ['/referrals/00000000-0000-4000-8000-000000000000', 404],
    ],
  },
  { as: 'staff@riverbend.test', paths: ['/', '/queue', '/queue?status=all', ['/queue?status=nonsense&before=bad', 400]] },
  {
    as: 'staff@riverbend.test',
    paths: [
      '/queue?status=cancelled',
      '/queue?status=declined&priority=emergent&assignee=unassigned',
      '/referrals/:referral',
      '/referrals/:referral/documents',
    ],
  },
  { as: 'staff@riverbend.test', paths: ['/referrals/:referral/print', '/referrals/inbound', '/settings/ai', ['/admin/users', 403], ['/nowhere/at/all', 404]] },
  { as: 'admin@riverbend.test', paths: ['/admin/users', '/admin/intake-form', '/admin/documents', ['/clinics', 403]] },
  { as: 'admin@riverbend.test', paths: ['/admin/clinic', '/turnaround', '/admin/disclosures'] },
  { as: 'staff@riverbend.test', paths: ['/turnaround', '/referrals/:referral/forward'] },
  {
    as: 'admin@riverbend.test',
    paths: [
      '/admin/audit',
      '/admin/audit?from=2026-01-01&to=2026-12-31&action=referral.read',
      ['/admin/audit?from=not-a-date', 400],
      '/referrals/:referral/access',
    ],
  },
  // Closing the loop (decisions 041, 043): notification choices, the email sent, the integrations and one endpoint's log.
  { as: 'admin@riverbend.test', paths: ['/settings/notifications', '/admin/email', '/admin/integrations'] },
  { as: 'admin@riverbend.test', paths: ['/admin/integrations/:endpoint', ['/admin/integrations/00000000-0000-4000-8000-000000000000', 404]] },
  { as: 'referrer@lakeview.test', paths: ['/settings/notifications', ['/admin/integrations', 403], ['/admin/email', 403]] },
]

test('signed out: the sign-in page and its messages; an unknown page goes to sign-in', async ({ page }) => {
  const scan = scanner(page)
  for (const path of ['/login', '/login?reason=expired', '/login?reason=disabled', '/no-such-page']) await scan.page(path)
  expect(scan.found).toEqual([])
})

// Two or three pages to a test: each test stays well inside the default timeout on a busy machine.
const GROUPS = PAGES.flatMap(({ as, paths }) => Array.from({ length: Math.ceil(paths.length / 3) }, (_, i) => ({ as, paths: paths.slice(i * 3, i * 3 + 3) })))

for (const [n, { as, paths }] of GROUPS.entries()) {
  test(`${as} (${n + 1}): ${paths.map((p) => (typeof p === 'string' ? p : `${p[0]} (${p[1]})`)).join(', ')}`, async ({ signedInAs, owner }) => {
    const page = await signedInAs(as)
    const slug = as.split('@')[1]!.replace('.test', '')
    const referral = paths.some((p) => String(p).includes(':referral')) ? await referralIdOf(owner, slug, as.startsWith('referrer') ? as : undefined) : ''
    const endpoint = paths.some((p) => String(p).includes(':endpoint')) ? await endpointIdOf(owner, slug) : ''
    const scan = scanner(page)
    for (const entry of paths) {
      const [path, status] = typeof entry === 'string' ? [entry, 200] : entry
      await scan.page(path.replace(':referral', referral).replace(':endpoint', endpoint), status)
    }
    expect(scan.found).toEqual([])
  })
}

test('the new referral form: sent empty, then partly corrected (JavaScript)', async ({ signedInAs }) => {
  const page = await signedInAs('referrer@lakeview.test', '/referrals/new')
  const scan = scanner(page)
  await page.getByRole('button', { name: 'Send referral' }).click()
  await expect(page.getByTestId('error-summary')).toBeFocused()
  await scan.now('/referrals/new, sent empty')
  await page.locator('input[name=patient_first_name]').fill('Ada')
  await page.locator('select[name=urgency]').selectOption('routine')
  await scan.now('/referrals/new, partly corrected')
  expect(scan.found).toEqual([])
})

/**
 * The server's own reply, as a browser without JavaScript gets it. axe runs in the page, so the
 * page keeps JavaScript but none of the app's scripts arrive: what shows is what the server sent.
 */
test('the new referral form sent empty, as the server answers it without JavaScript', async ({ signedInAs }) => {
  const page = await signedInAs('referrer@lakeview.test')
  await page.route(/\/assets\/.*\.js$/, (route) => route.abort())
  await go(page, '/referrals/new')
  await page.getByRole('button', { name: 'Send referral' }).click()
  await expect(page.getByTestId('error-summary')).toBeFocused()
  const scan = scanner(page)
  await scan.now('/referrals/new, the server reply to an empty form')
  expect(scan.found).toEqual([])
})

test('staff: the queue with rows selected, and its keyboard shortcuts dialog open', async ({ signedInAs }) => {
  const page = await signedInAs('staff@riverbend.test', '/queue')
  const scan = scanner(page)
  await page
    .getByRole('checkbox', { name: /^Select / })
    .first()
    .check()
  await scan.now('/queue, a row selected')
  await page.getByRole('button', { name: /Keyboard shortcuts/ }).click()
  await expect(page.getByRole('dialog', { name: 'Keyboard shortcuts' })).toBeVisible()
  await scan.now('/queue, the shortcuts dialog open')
  expect(scan.found).toEqual([])
})

test('staff: inbound entry and AI settings with errors', async ({ signedInAs }) => {
  const page = await signedInAs('staff@riverbend.test', '/referrals/inbound')
  const scan = scanner(page)
  await page.getByRole('button', { name: 'Enter referral' }).click()
  await expect(page.getByTestId('error-summary')).toBeFocused()
  await scan.now('/referrals/inbound, sent empty')
  await go(page, '/settings/ai')
  await page.getByLabel('Your model server').fill('not a url')
  await page.getByRole('button', { name: 'Save mine' }).click()
  await expect(page.getByTestId('error-summary')).toBeFocused()
  await scan.now('/settings/ai, with an error')
  expect(scan.found).toEqual([])
})

test('an admin: the users and document limits forms with errors', async ({ signedInAs }) => {
  const page = await signedInAs('admin@riverbend.test', '/admin/users')
  const scan = scanner(page)
  await page.getByRole('main').getByLabel('Email').fill('not an email')
  await page.getByRole('button', { name: /send invitation|add user/i }).click()
  await expect(page.getByTestId('error-summary')).toBeFocused()
  await scan.now('/admin/users, with errors')
  await go(page, '/admin/documents')
  await page.getByLabel('Largest file (MB)').fill('0')
  await page.getByRole('button', { name: 'Save' }).click()
  await expect(page.getByTestId('error-summary')).toBeFocused()
  await scan.now('/admin/documents, with an error')
  expect(scan.found).toEqual([])
})

test('an admin: the accounting of disclosures with errors (with JavaScript and without), then with results', async ({ signedInAs }) => {
  const page = await signedInAs('admin@riverbend.test', '/admin/disclosures')
  const scan = scanner(page)
  const search = page.getByRole('region', { name: 'Find the patient' })
  await search.getByLabel('Last name').fill('Nobody')
  await search.getByRole('button', { name: 'Show the accounting' }).click()
  await expect(page.getByTestId('error-summary')).toBeFocused()
  await scan.now('/admin/disclosures, with an error')
  await search.getByLabel('Health card number').fill('4821-093-771-KD')
  await search.getByRole('button', { name: 'Show the accounting' }).click()
  await expect(page.getByTestId('disclosures-summary')).toBeVisible()
  await scan.now('/admin/disclosures, answered')
  await page.route(/\/assets\/.*\.js$/, (route) => route.abort())
  await go(page, '/admin/disclosures')
  await page.getByRole('button', { name: 'Show the accounting' }).click()
  await expect(page.getByTestId('error-summary')).toBeFocused()
  await scan.now('/admin/disclosures, the server reply to an empty form')
  expect(scan.found).toEqual([])
})

test('the superadmin: choosing a clinic, sent empty, then the header with the clinic menu open', async ({ signedInAs }) => {
  const page = await signedInAs('superadmin@intakepilot.test', '/clinics')
  const scan = scanner(page)
  await scan.now('/clinics')
  const main = page.getByRole('main')
  await main.getByRole('button', { name: 'Switch clinic' }).click()
  await expect(page.getByTestId('error-summary')).toBeFocused()
  await scan.now('/clinics, sent empty')
  await main.getByLabel('Clinic', { exact: true }).selectOption({ index: 1 })
  await main.getByLabel('Reason').fill('Covering the intake desk today')
  await main.getByRole('button', { name: 'Switch clinic' }).click()
  await expect(page.getByTestId('current-clinic')).not.toHaveText('No clinic selected')
  await page.getByTestId('clinic-menu').locator('summary').click()
  await expect(page.getByLabel(/^Reason \(recorded/)).toBeVisible()
  await scan.now('the header with the clinic menu open')
  expect(scan.found).toEqual([])
})
