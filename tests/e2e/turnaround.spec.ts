import AxeBuilder from '@axe-core/playwright'
import type { Page } from '@playwright/test'
import { and, desc, eq, sql } from 'drizzle-orm'
import { auditLogs, clinics } from '../../app/db/schema'
import { bearer, clinicBySlug, expect, go, referralBody, SAME_ORIGIN, test, token, type Owner } from './fixtures'

/*
 * The Turnaround page, its CSV and the home page's links into the queue, as staff see them:
 * the numbers are the database's (read here as the owner, around the page's own read, since
 * other tests add referrals meanwhile), the charts are SVG drawn by the server (there without
 * JavaScript), each with its data as a table, and nothing on it names a patient.
 */
const OPEN = sql`status in ('received','in_review','info_requested','accepted','scheduled')`

async function counts(owner: Owner, slug: string, since: string) {
  const clinic = await clinicBySlug(owner, slug)
  const [row] = (
    await owner.execute<{ received: number; open: number; declined: number }>(sql`
      select count(*) filter (where received_at >= (${since}::timestamp at time zone 'America/Toronto'))::int as received,
             count(*) filter (where ${OPEN})::int as open,
             count(*) filter (where status = 'declined' and received_at >= (${since}::timestamp at time zone 'America/Toronto'))::int as declined
        from referrals where clinic_id = ${clinic.id}`)
  ).rows
  return row!
}

const card = (page: Page, label: string) =>
  page
    .locator('dl > div', { has: page.locator('dt', { hasText: label }) })
    .locator('dd')
    .first()
const number = async (page: Page, label: string) => Number((await card(page, label).innerText()).replace(/[^\d]/g, ''))

async function seriousViolations(page: Page) {
  const results = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa']).analyze()
  return results.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)
}

test('staff see turnaround against the targets, six charts each with its data table, the numbers the database holds', async ({ signedInAs, owner }) => {
  const page = await signedInAs('staff@riverbend.test', '/')
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Turnaround' }).click()
  await expect(page).toHaveURL('/turnaround')
  await expect(page.getByRole('heading', { level: 1, name: 'Turnaround' })).toBeVisible()

  const since = /the 12 weeks since (\d{4}-\d{2}-\d{2})/.exec(await page.locator('main').innerText())![1]!
  expect(new Date(`${since}T12:00:00Z`).getUTCDay()).toBe(1)
  const after = await counts(owner, 'riverbend', since)
  expect(after.received).toBeGreaterThan(0)
  expect(await number(page, 'Received in the period')).toBeLessThanOrEqual(after.received)
  expect(await number(page, 'Received in the period')).toBeGreaterThanOrEqual(after.received - 5)
  expect(await number(page, 'Open now')).toBeLessThanOrEqual(after.open)
  expect(await number(page, 'Open now')).toBeGreaterThanOrEqual(after.open - 5)

  for (const title of [
    'Time to triage',
    'Time to booking',
    'How long open referrals have waited',
    'Referrals received by week',
    'Referrals by referrer',
    'Decline reasons',
  ]) {
    const figure = page.getByRole('figure', { name: title })
    // The image's name says what it shows, in words and numbers.
    await expect(figure.getByRole('img')).toHaveAccessibleName(new RegExp(`^${title} .*\\d`))
    await figure.getByText('Show the data as a table').click()
    await expect(figure.getByRole('table')).toBeVisible()
  }
  // The weekly table: one row a week, adding up to the period's count.
  const weekly = page.getByRole('figure', { name: 'Referrals received by week' }).getByRole('table')
  const weeks = await weekly.locator('tbody tr').evaluateAll((trs) => trs.map((tr) => Number(tr.querySelector('td')!.textContent)))
  expect(weeks).toHaveLength(12)
  expect(weeks.reduce((a, b) => a + b, 0)).toBe(await number(page, 'Received in the period'))
  // Triage per priority, and its targets: the defaults (Riverbend sets none).
  const triage = page.getByRole('figure', { name: 'Time to triage' }).getByRole('table')
  await expect(triage.getByRole('row', { name: /^Emergent/ })).toContainText('24 h')
  await expect(triage.getByRole('row', { name: /^Routine/ })).toContainText('14 days')

  expect(await seriousViolations(page)).toEqual([])
  // On a phone: no sideways scroll (a wide data table scrolls inside its own box).
  await page.setViewportSize({ width: 390, height: 844 })
  expect(await page.evaluate(() => document.documentElement.scrollWidth <= document.documentElement.clientWidth)).toBe(true)
  await page.screenshot({ path: test.info().outputPath('turnaround-390.png'), fullPage: true })
})

test('without JavaScript the charts are there and the period changes by the form', async ({ signedInAs }) => {
  const page = await signedInAs('staff@lakeview.test', '/turnaround', { javaScriptEnabled: false })
  await expect(page.locator('figure svg[role="img"]')).toHaveCount(6)
  // The legend's swatches are drawn, not styled (the CSP drops style attributes): one per priority, in its colour.
  const legend = page.getByRole('figure', { name: 'How long open referrals have waited' }).getByRole('list', { name: 'Legend' })
  expect(await legend.locator('rect').evaluateAll((rects) => rects.map((r) => r.getAttribute('fill')))).toEqual(['#b91c1c', '#b45309', '#0369a1'])
  await page.getByLabel('Period').selectOption('4')
  await page.getByRole('button', { name: 'Show' }).click()
  await expect(page).toHaveURL('/turnaround?weeks=4')
  await expect(page.getByText(/^Referrals received in the 4 weeks since/)).toBeVisible()
  await page.getByRole('figure', { name: 'Referrals received by week' }).getByText('Show the data as a table').click()
  await expect(page.getByRole('figure', { name: 'Referrals received by week' }).locator('tbody tr')).toHaveCount(4)
})

test('the CSV holds the page’s numbers, a fact a row, and nothing about a patient', async ({ signedInAs, owner }) => {
  const page = await signedInAs('staff@riverbend.test', '/turnaround?weeks=26')
  const download = page.waitForEvent('download')
  await page.getByRole('link', { name: 'Download CSV' }).click()
  const file = await download
  expect(file.suggestedFilename()).toMatch(/^turnaround-\d{4}-\d{2}-\d{2}-26-weeks\.csv$/)
  const csv = await (await file.createReadStream()).toArray().then((chunks) => Buffer.concat(chunks).toString('utf8'))
  const lines = csv.trimEnd().split('\r\n')
  expect(lines[0]).toBe('section,item,measure,value')
  const sections = new Set(lines.slice(1).map((l) => l.split(',')[0]))
  for (const section of ['period', 'open', 'triage', 'booking', 'aging', 'weekly', 'referrer']) expect(sections).toContain(section)
  for (const section of sections) expect(['period', 'open', 'triage', 'booking', 'aging', 'weekly', 'referrer', 'decline_reason']).toContain(section)
  const since = lines.find((l) => l.startsWith('period,since,'))!.split(',')[3]!
  const received = Number(lines.find((l) => l.startsWith('period,received,'))!.split(',')[3])
  const truth = await counts(owner, 'riverbend', since)
  expect(received).toBeLessThanOrEqual(truth.received)
  expect(received).toBeGreaterThanOrEqual(truth.received - 5)
  expect(lines.filter((l) => l.startsWith('weekly,'))).toHaveLength(26)
  // No patient: none of the clinic's reference numbers, and no field of a referral's form.
  const refs = await owner.execute<{ reference_number: string }>(
    sql`select reference_number from referrals r join clinics c on c.id = r.clinic_id where c.slug = 'riverbend'`,
  )
  for (const { reference_number } of refs.rows) expect(csv).not.toContain(reference_number)
})

test('a period the page does not offer is a 400 that says which ones it does; referrers get no dashboard', async ({ signedInAs }) => {
  const page = await signedInAs('staff@lakeview.test', '/turnaround?weeks=100000')
  await expect(page.getByRole('alert')).toHaveText(/Period: choose 4, 12, 26, 52 weeks/)
  const bad = await page.request.get('/turnaround?weeks=x')
  expect(bad.status()).toBe(400)
  const badCsv = await page.request.get('/turnaround.csv?weeks=-1')
  expect(badCsv.status()).toBe(400)
  expect(await badCsv.text()).toContain('choose 4, 12, 26, 52 weeks')

  const referrer = await signedInAs('referrer@lakeview.test', '/')
  await expect(referrer.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Turnaround' })).toHaveCount(0)
  expect((await referrer.request.get('/turnaround')).status()).toBe(403)
  expect((await referrer.request.get('/turnaround.csv')).status()).toBe(403)
})

test('the home page’s counts open the queue filtered to what they counted', async ({ signedInAs, owner }) => {
  const page = await signedInAs('staff@lakeview.test', '/')
  await page.goto('/')
  expect(await seriousViolations(page)).toEqual([])
  await page.getByRole('link', { name: /^Declined: \d+/ }).click()
  await expect(page).toHaveURL('/queue?status=declined')
  await page.goto('/')

  const banner = page.getByTestId('untriaged-banner')
  const lakeview = await clinicBySlug(owner, 'lakeview')
  const truth = async (priority: string) =>
    (
      await owner.execute<{ n: number }>(
        sql`select count(*)::int as n from referrals where clinic_id = ${lakeview.id} and status = 'received' and priority = ${priority}`,
      )
    ).rows[0]!.n
  const emergentLink = banner.getByRole('link', { name: /^\d+ emergent$/ })
  const shown = Number((await emergentLink.innerText()).split(' ')[0])
  expect(shown).toBeLessThanOrEqual(await truth('emergent'))
  await emergentLink.click()
  await expect(page).toHaveURL('/queue?status=received&priority=emergent&sort=age')
  const rows = page.getByTestId('queue-row')
  await expect(rows.first()).toBeVisible()
  for (const text of await rows.allInnerTexts()) expect(text).toMatch(/Emergent/)

  // A referrer's home counts their own referrals, and links into no queue.
  const referrer = await signedInAs('referrer@lakeview.test', '/')
  await expect(referrer.getByTestId('untriaged-banner')).toHaveCount(0)
  await expect(referrer.locator('dl a')).toHaveCount(0)
})

test('an admin sets the booking targets on the clinic settings page; the dashboard measures against them; bad values change nothing', async ({
  signedInAs,
  owner,
}) => {
  // Riverbend's booking targets only: the triage ones drive the queue's overdue marker, which other tests read.
  const before = await clinicBySlug(owner, 'riverbend')
  try {
    const page = await signedInAs('admin@riverbend.test', '/admin/clinic')
    const section = page.getByRole('region', { name: 'Turnaround targets' })
    const booking = section.getByRole('group', { name: 'Time to booking (days)' })
    await expect(booking.getByLabel('Emergent')).toHaveValue('3')
    await expect(section.getByRole('group', { name: 'Time to triage (hours)' }).getByLabel('Routine')).toHaveValue('336')
    expect(await seriousViolations(page)).toEqual([])

    await booking.getByLabel('Emergent').fill('0')
    await section.getByRole('button', { name: 'Save targets' }).click()
    await expect(booking.getByLabel('Emergent')).toHaveAttribute('aria-invalid', 'true')
    // At the field, and in the summary above the form as a link to it.
    await expect(booking.getByText('The emergent booking target is at least 1 day')).toBeVisible()
    await expect(section.getByRole('link', { name: 'The emergent booking target is at least 1 day' })).toHaveAttribute(
      'href',
      '#turnaround-targets-booking_emergent',
    )
    expect((await clinicBySlug(owner, 'riverbend')).settings).toEqual(before.settings)

    for (const value of ['99999', 'abc', '1.5', '-3', '']) {
      const fields = {
        intent: 'turnaround-targets',
        triage_emergent: '24',
        triage_urgent: '72',
        triage_routine: '336',
        booking_urgent: '14',
        booking_routine: '90',
      }
      const response = await page.request.post('/admin/clinic', { form: { ...fields, booking_emergent: value }, headers: SAME_ORIGIN })
      expect(response.status(), value).toBe(400)
    }
    expect((await clinicBySlug(owner, 'riverbend')).settings).toEqual(before.settings)

    await booking.getByLabel('Emergent').fill('5')
    await section.getByRole('button', { name: 'Save targets' }).click()
    await expect(section.getByRole('status')).toHaveText('Saved.')
    const after = await clinicBySlug(owner, 'riverbend')
    expect(after.settings.bookingHours).toEqual({ emergent: 120, urgent: 336, routine: 2160 })
    expect(after.settings.turnaroundHours).toEqual(before.settings.turnaroundHours)
    const [row] = await owner
      .select()
      .from(auditLogs)
      .where(and(eq(auditLogs.clinicId, after.id), eq(auditLogs.action, 'clinic.settings')))
      .orderBy(desc(auditLogs.seq))
      .limit(1)
    expect(row?.details).toMatchObject({ section: 'turnaround-targets', bookingHours: { emergent: 120 } })

    await page.goto('/turnaround')
    const figure = page.getByRole('figure', { name: 'Time to booking' })
    await figure.getByText('Show the data as a table').click()
    const table = figure.getByRole('table')
    await expect(table.getByRole('row', { name: /^Emergent/ })).toContainText('5 days')

    const staff = await signedInAs('staff@riverbend.test')
    const refused = await staff.request.post('/admin/clinic', { form: { intent: 'turnaround-targets', booking_emergent: '1' }, headers: SAME_ORIGIN })
    expect(refused.status()).toBe(403)
  } finally {
    await owner.update(clinics).set({ settings: before.settings }).where(eq(clinics.id, before.id))
  }
})

test('a decline’s kind of reason, chosen on the referral page, is what the dashboard counts', async ({ signedInAs }) => {
  const page = await signedInAs('staff@riverbend.test', '/turnaround')
  const reasons = page.getByRole('figure', { name: 'Decline reasons' })
  const countOf = async (label: string) => {
    await go(page, '/turnaround')
    await reasons.getByText('Show the data as a table').click()
    const row = reasons
      .getByRole('table')
      .getByRole('row')
      .filter({ has: page.getByRole('rowheader', { name: label, exact: true }) })
    return (await row.count()) ? Number((await row.getByRole('cell').last().innerText()).replace(/[^\d]/g, '')) : 0
  }
  const before = await countOf('Referral criteria not met')

  const access = await token('referrer@riverbend.test')
  const created = await page.request.post('/api/v1/referrals', {
    headers: { ...bearer(access), 'Idempotency-Key': crypto.randomUUID() },
    data: await referralBody(page.request, access),
  })
  expect(created.status()).toBe(201)
  const id = (await created.json()).data.id as string
  await go(page, `/referrals/${id}`)
  const panel = page.getByRole('region', { name: 'Work this referral' })
  await panel.getByRole('link', { name: 'Decline…' }).click()
  const confirm = panel.getByRole('form', { name: 'Decline this referral?' })
  await confirm.getByLabel('Kind of reason').selectOption({ label: 'Referral criteria not met' })
  await confirm.getByLabel('Reason (the referrer sees it)').fill('No imaging yet')
  await confirm.getByRole('button', { name: 'Decline referral' }).click()
  await expect(page.getByRole('status')).toHaveText('Status changed to Declined.')

  expect(await countOf('Referral criteria not met')).toBe(before + 1)
})
