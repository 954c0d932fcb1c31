import type { Page } from '@playwright/test'
import { and, asc, desc, eq, isNull, sql, type SQL } from 'drizzle-orm'
import { referrals } from '../../app/db/schema'
import { clinicBySlug, cursor, expect, go, hydrated, submitReferral, test, uniquePatient, type Owner } from './fixtures'

/*
 * The staff queue: filters that live in the URL, keyset pages, patient search that keeps PHI
 * out of URLs, and hand-edited URLs that must never break the page. Lakeview's and
 * Riverbend's seeded referrals are only read here.
 */
const rows = (page: Page) => page.getByTestId('queue-row')
/** The rows on screen: id (from the link), reference, priority, status and assignee cells. */
const shown = (page: Page) =>
  rows(page).evaluateAll((trs) =>
    trs.map((tr) => {
      const cells = [...tr.querySelectorAll('td')].map((td) => td.textContent.trim())
      return {
        id: tr.querySelector('a')!.getAttribute('href')!.split('/').pop()!,
        reference: cells[1]!,
        priority: cells[2]!,
        status: cells[3]!,
        assignee: cells[5]!,
      }
    }),
  )
const lakeviewIds = async (owner: Owner, where: SQL | undefined, ...order: SQL[]) => {
  const lakeview = await clinicBySlug(owner, 'lakeview')
  return (
    await owner
      .select({ id: referrals.id })
      .from(referrals)
      .where(and(eq(referrals.clinicId, lakeview.id), where))
      .orderBy(...order)
  ).map((r) => r.id)
}

test('filters live in the URL and work; a bookmarked URL reproduces the view', async ({ signedInAs, owner }) => {
  const page = await signedInAs('staff@lakeview.test', '/queue')
  await expect(page).toHaveURL('/queue')
  const filters = page.getByRole('form', { name: 'Filters' })
  // With JavaScript each filter applies on change, once the page has hydrated (a choice made before
  // would be reset by it): the next waits for the last one's view.
  await hydrated(page)
  await filters.getByLabel('Status').selectOption('received')
  await expect(page).toHaveURL(/[?&]status=received/)
  await filters.getByLabel('Priority').selectOption('urgent')
  await expect(page).toHaveURL(/[?&]priority=urgent/)
  await filters.getByLabel('Assigned to').selectOption('unassigned')
  await expect(page).toHaveURL(/[?&]assignee=unassigned/)
  await filters.getByRole('button', { name: 'Apply' }).click()
  await expect(page).toHaveURL(/[?&]status=received&priority=urgent&assignee=unassigned/)
  // Other tests work Lakeview's referrals meanwhile, and the live queue updates a changed row in
  // place: the view is compared with the database as both stand at one moment, reloaded until they agree.
  const truthNow = () =>
    lakeviewIds(
      owner,
      and(eq(referrals.status, 'received'), eq(referrals.priority, 'urgent'), isNull(referrals.assignedTo)),
      desc(referrals.receivedAt),
      desc(referrals.id),
    )
  let view: Awaited<ReturnType<typeof shown>> = []
  await expect(async () => {
    await page.reload()
    view = await shown(page)
    expect(view.length).toBeGreaterThan(0)
    for (const row of view) expect(row).toMatchObject({ status: 'New', priority: 'Urgent', assignee: 'Unassigned' })
    expect(view.map((r) => r.id)).toEqual((await truthNow()).slice(0, 25))
  }).toPass({ timeout: 30_000 })

  // Bookmarked (and opened again after signing in): the same view, the controls showing it.
  const bookmark = page.url().replace(/^https?:\/\/[^/]+/, '')
  const again = await signedInAs('staff@lakeview.test', bookmark)
  expect(again.url().endsWith(bookmark)).toBe(true)
  await expect(async () => {
    await again.reload()
    expect((await shown(again)).map((r) => r.id)).toEqual((await truthNow()).slice(0, 25))
  }).toPass({ timeout: 30_000 })
  const againFilters = again.getByRole('form', { name: 'Filters' })
  await expect(againFilters.getByLabel('Status')).toHaveValue('received')
  await expect(againFilters.getByLabel('Priority')).toHaveValue('urgent')
  await expect(againFilters.getByLabel('Assigned to')).toHaveValue('unassigned')

  // Most urgent first: Lakeview has more than a page of emergent referrals, so page one is all emergent.
  await filters.getByLabel('Status').selectOption('all')
  await expect(page).toHaveURL(/[?&]status=all/)
  await filters.getByLabel('Priority').selectOption('')
  await expect(page).not.toHaveURL(/[?&]priority=/)
  await filters.getByLabel('Assigned to').selectOption('anyone')
  await expect(page).toHaveURL(/\/queue\?status=all$/)
  await filters.getByRole('button', { name: 'Apply' }).click()
  await expect(page).toHaveURL(/\/queue\?status=all$/)
  // The sort is the column headers' (links that keep the filters).
  await expect(page.getByRole('columnheader', { name: /Received/ })).toHaveAttribute('aria-sort', 'descending')
  await page
    .getByRole('columnheader', { name: /Priority/ })
    .getByRole('link')
    .click()
  await expect(page).toHaveURL(/status=all&sort=priority/)
  await expect(page.getByRole('columnheader', { name: /Priority/ })).toHaveAttribute('aria-sort', 'descending')
  await expect(page.getByRole('columnheader', { name: /Received/ })).not.toHaveAttribute('aria-sort')
  const urgentFirst = await shown(page)
  expect(urgentFirst.map((r) => r.priority)).toEqual(Array(25).fill('Emergent'))
  const rank = sql`case ${referrals.priority} when 'emergent' then 0 when 'urgent' then 1 else 2 end`
  expect(urgentFirst.map((r) => r.id)).toEqual((await lakeviewIds(owner, undefined, asc(rank), asc(referrals.receivedAt), asc(referrals.id))).slice(0, 25))
  // Positive control: newest first (the default) is another order with other priorities in it.
  await go(page, '/queue?status=all')
  expect((await shown(page)).map((r) => r.priority)).toContain('Routine')
})

test('"Next page" walks every referral of the view exactly once, by cursor', async ({ signedInAs, owner }) => {
  test.setTimeout(120_000)
  const page = await signedInAs('staff@lakeview.test', '/queue?status=all&sort=age')
  await expect(page).toHaveURL('/queue?status=all&sort=age')
  const seen: string[] = []
  for (let pages = 1; ; pages++) {
    expect(pages).toBeLessThan(30)
    const onPage = (await shown(page)).map((r) => r.id)
    expect(onPage.length).toBeGreaterThan(0)
    seen.push(...onPage)
    const next = page.getByRole('link', { name: 'Next page' })
    if ((await next.count()) === 0) break
    expect(onPage).toHaveLength(25)
    await next.click()
    await expect(page).toHaveURL(/[?&]cursor=[\w-]+/)
    expect(page.url()).not.toMatch(/offset|[?&]page=/)
    expect(page.url()).toMatch(/status=all/)
    await expect(page.getByRole('link', { name: 'First page' })).toBeVisible()
    await page.waitForFunction((first) => document.querySelector('[data-testid=queue-row] a')?.getAttribute('href') !== `/referrals/${first}`, onPage[0]!)
  }
  const truth = await lakeviewIds(owner, undefined, asc(referrals.receivedAt), asc(referrals.id))
  expect(truth.length).toBeGreaterThan(200)
  expect(new Set(seen).size).toBe(seen.length)
  expect(seen).toEqual(truth)
})

test('patient search by health card (any formatting) or last name + DOB, never in the URL; reference number by GET', async ({ signedInAs }) => {
  // Northside's: Riverbend's second referrer spends an exact rate-limit budget in api.spec.ts.
  const referrer = await signedInAs('referrer@northside.test')
  const patient = uniquePatient()
  const reference = await submitReferral(referrer, patient)

  const page = await signedInAs('staff@northside.test', '/queue')
  await expect(page).toHaveURL('/queue')
  const urls: string[] = []
  page.on('request', (r) => urls.push(r.url()))
  const search = page.getByRole('form', { name: 'Find a patient' })
  const find = async (fields: { healthCard?: string; lastName?: string; dob?: string }) => {
    await search.getByLabel('Health card').fill(fields.healthCard ?? '')
    await search.getByLabel('Last name').fill(fields.lastName ?? '')
    await search.getByLabel('Date of birth').fill(fields.dob ?? '')
    await search.getByRole('button', { name: 'Search patients' }).click()
  }
  const digits = patient.card.replace(/-/g, '')
  for (const healthCard of [
    patient.card,
    patient.card.toLowerCase(),
    patient.card.replace(/-/g, ' '),
    ` ${digits.toLowerCase()} `,
    digits.replace(/(.{3})/g, '$1-'),
  ]) {
    await find({ healthCard })
    await expect(page.getByRole('status')).toHaveText(/^1 referral for this patient/)
    expect((await shown(page)).map((r) => r.reference)).toEqual([reference])
  }
  await find({ lastName: patient.last.toUpperCase(), dob: patient.dob })
  await expect(page.getByRole('status')).toHaveText(/^1 referral for this patient/)
  expect((await shown(page)).map((r) => r.reference)).toEqual([reference])
  // Positive controls: another card, or the right name with another birthday, finds nothing.
  await find({ healthCard: `${patient.card}9` })
  await expect(page.getByRole('status')).toHaveText(/^0 referrals for this patient/)
  await find({ lastName: patient.last, dob: '1901-01-01' })
  await expect(page.getByRole('status')).toHaveText(/^0 referrals for this patient/)

  expect(urls.length).toBeGreaterThan(0)
  for (const url of [...urls, page.url()]) {
    for (const term of [digits.slice(0, 4), patient.last.slice(3), patient.dob]) expect(decodeURIComponent(url).toLowerCase()).not.toContain(term.toLowerCase())
  }

  const byReference = page.getByRole('form', { name: 'Find by reference number' })
  await byReference.getByLabel('Reference number').fill(reference.toLowerCase())
  await byReference.getByRole('button', { name: 'Find' }).click()
  await expect(page).toHaveURL(/[?&]ref=/)
  // The URL changes as the navigation commits; React renders its rows in a transition just after.
  await expect.poll(async () => (await shown(page)).map((r) => r.reference)).toEqual([reference])
  await go(page, `/queue?ref=${reference}`)
  expect((await shown(page)).map((r) => r.reference)).toEqual([reference])
})

const ID = '7f1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d'

test('a garbage cursor or bad filters in the URL never fail: the queue shows what it can, says what it left out, answers 400', async ({ signedInAs }) => {
  const page = await signedInAs('staff@lakeview.test', '/queue')
  await expect(page).toHaveURL('/queue')
  const hostile = [
    '/queue?cursor=garbage',
    '/queue?cursor=%00%FF',
    `/queue?cursor=${'A'.repeat(600)}`,
    `/queue?status=all&cursor=${cursor({ r: 'x', t: null, id: 5 })}`,
    `/queue?status=all&cursor=${cursor(['not', 'a', 'cursor'])}`,
    '/queue?status=bogus&priority=high&sort=sideways&assignee=everyone',
    '/queue?from=yesterday&to=2026-13-45&referrer=me',
    `/queue?ref=${'X'.repeat(200)}`,
  ]
  for (const url of hostile) {
    const response = await go(page, url)
    expect(response!.status(), url).toBe(400)
    await expect(page.getByRole('heading', { name: 'Queue' }), url).toBeVisible()
    await expect(page.getByRole('alert').filter({ hasText: 'could not be used and was left out' }), url).toBeVisible()
    expect(await rows(page).count(), url).toBeGreaterThan(0)
  }
  // Parameters the queue does not have are none of its business: nothing to say about them.
  const response = await go(page, '/queue?status=all&status=received&sort[]=age&utm_source=mail')
  expect(response!.status()).toBe(200)
  await expect(page.getByRole('alert')).toHaveCount(0)
  // Bad values fall back to the default view (open referrals, newest first), not to an error.
  await go(page, '/queue?status=bogus&sort=sideways')
  await expect(page.getByRole('form', { name: 'Filters' }).getByLabel('Status')).toHaveValue('open')
  await expect(page.getByRole('columnheader', { name: /Received/ })).toHaveAttribute('aria-sort', 'descending')
})

// A cursor is only base64 JSON: anyone can write one whose fields pass the shape check but not PostgreSQL.
test('a well-formed cursor with impossible values shows the first page too, with a 400', async ({ signedInAs }) => {
  const page = await signedInAs('staff@lakeview.test', '/queue?status=all')
  await expect(page).toHaveURL('/queue?status=all')
  const firstPage = (await shown(page)).map((r) => r.id)
  const crafted = {
    'fractional rank': [{ r: 1.5, t: '2026-01-01 00:00:00+00', id: ID }, 'priority'],
    'huge rank': [{ r: 1e300, t: '2026-01-01 00:00:00+00', id: ID }, 'priority'],
    'time "1"': [{ r: 0, t: '1', id: ID }, 'received'],
    'year 275760': [{ r: 0, t: '+275760-09-13T00:00:00Z', id: ID }, 'age'],
    'February 30': [{ r: 0, t: '2026-02-30 00:00:00+00', id: ID }, 'age'],
    'id of dashes': [{ r: 0, t: '2026-01-01 00:00:00+00', id: '-'.repeat(36) }, 'received'],
  } as const
  const outcomes: Record<string, number> = {}
  for (const [name, [value, sort]] of Object.entries(crafted)) {
    const response = await go(page, `/queue?status=all&sort=${sort}&cursor=${cursor(value)}`)
    outcomes[name] = response!.status()
  }
  expect(outcomes).toEqual(Object.fromEntries(Object.keys(crafted).map((name) => [name, 400])))
  // Positive control: the first page is what the default sort shows without a cursor.
  await go(page, `/queue?status=all&cursor=${cursor({ r: 0, t: '1', id: ID })}`)
  expect((await shown(page)).map((r) => r.id)).toEqual(firstPage)
})

test('an empty patient search, or a name without a date of birth, says what to enter', async ({ signedInAs }) => {
  const page = await signedInAs('staff@lakeview.test', '/queue')
  await expect(page).toHaveURL('/queue')
  // With JavaScript the browser checks it (once its validation code has been fetched): nothing is posted.
  await page.waitForLoadState('networkidle')
  const posts: string[] = []
  page.on('request', (r) => void (r.method() === 'POST' && posts.push(r.url())))
  const search = page.getByRole('form', { name: 'Find a patient' })
  const message = 'Enter a health card number, or a last name and a date of birth'
  await search.getByRole('button', { name: 'Search patients' }).click()
  await expect(search.getByText(message)).toBeVisible()
  await expect(search.getByLabel('Health card')).toHaveAttribute('aria-invalid', 'true')
  await search.getByLabel('Last name').fill('Tremblay')
  await search.getByRole('button', { name: 'Search patients' }).click()
  await expect(search.getByText(message)).toBeVisible()
  // The queue itself is still there, unchanged.
  expect(await rows(page).count()).toBeGreaterThan(0)
  expect(posts).toEqual([])

  // The server says the same without JavaScript (and answers 400, not 500).
  const plain = await signedInAs('staff@lakeview.test', '/queue', { javaScriptEnabled: false })
  const answer = plain.waitForResponse((r) => r.request().method() === 'POST')
  await plain.getByRole('form', { name: 'Find a patient' }).getByRole('button', { name: 'Search patients' }).click()
  expect((await answer).status()).toBe(400)
  await expect(plain.getByRole('form', { name: 'Find a patient' }).getByText(message)).toBeVisible()
})

test("a row's link opens the referral in the page with JavaScript, as a plain link without it, and in a new tab with a modifier", async ({ signedInAs }) => {
  const page = await signedInAs('staff@lakeview.test', '/queue')
  await expect(page).toHaveURL('/queue')
  await hydrated(page)
  const link = rows(page).first().locator('[data-row-link]')
  const href = await link.getAttribute('href')
  expect(href).toMatch(/^\/referrals\/[0-9a-f-]{36}$/)
  // In the page: the router fetches the data, no new document is loaded.
  const documents: string[] = []
  page.on('request', (request) => {
    if (request.resourceType() === 'document') documents.push(request.url())
  })
  await page.evaluate(() => ((window as unknown as { stillHere: boolean }).stillHere = true))
  await link.click()
  await expect(page).toHaveURL(href!)
  await expect(page.getByRole('region', { name: 'Work this referral' })).toBeVisible()
  expect(await page.evaluate(() => (window as unknown as { stillHere?: boolean }).stillHere)).toBe(true)
  expect(documents).toEqual([])
  // Back in the queue, Ctrl-click leaves the queue where it is and opens the referral beside it.
  await page.goBack()
  await expect(page).toHaveURL('/queue')
  const [opened] = await Promise.all([
    page.context().waitForEvent('page'),
    rows(page)
      .first()
      .locator('[data-row-link]')
      .click({ modifiers: ['ControlOrMeta'] }),
  ])
  await opened.waitForLoadState()
  expect(new URL(opened.url()).pathname).toMatch(/^\/referrals\/[0-9a-f-]{36}$/)
  await expect(page).toHaveURL('/queue')
  await opened.close()

  // Without JavaScript the same anchor is followed as a link.
  const plain = await signedInAs('staff@lakeview.test', '/queue', { javaScriptEnabled: false })
  await expect(plain).toHaveURL('/queue')
  const plainLink = plain.getByTestId('queue-row').first().locator('[data-row-link]')
  const plainHref = await plainLink.getAttribute('href')
  await plainLink.click()
  await expect(plain).toHaveURL(plainHref!)
  await expect(plain.getByRole('region', { name: 'Work this referral' })).toBeVisible()
})
