/**
 * A patient's accounting of disclosures as a privacy officer uses it: Riverbend's
 * admin finds a patient by health card number, or by last name and date of birth, and gets
 * every recorded access to that patient's referrals (and none of another patient's), the same
 * rows in the CSV, and both the search and the export in the audit trail with ids and counts
 * only. The terms never reach an address. Bad input gives field errors and records nothing;
 * staff and referrers are refused; another clinic finds nothing. It all works without JavaScript.
 */
import { randomUUID } from 'node:crypto'
import type { APIRequestContext, Page } from '@playwright/test'
import { and, desc, eq, inArray, sql } from 'drizzle-orm'
import { auditLogs } from '../../app/db/schema'
import { clinicTimeZone, formatClinicTime } from '../../app/utils/clinic-time'
import {
  bearer,
  clinicBySlug,
  expect,
  go,
  referralBody,
  referralByReference,
  SAME_ORIGIN,
  test,
  token,
  uniquePatient,
  userByEmail,
  type Owner,
  type Patient,
} from './fixtures'

const ADMIN = 'admin@riverbend.test'
const STAFF = 'staff@riverbend.test'
const REFERRER = 'referrer@riverbend.test'

/** A referral for the patient, sent by Riverbend's referrer over the API. */
async function referralFor(request: APIRequestContext, owner: Owner, patient: Patient) {
  const access = await token(REFERRER)
  const body = await referralBody(request, access)
  Object.assign(body.data, {
    patient_first_name: patient.first,
    patient_last_name: patient.last,
    patient_dob: patient.dob,
    health_card_number: patient.card,
  })
  const response = await request.post('/api/v1/referrals', { headers: { ...bearer(access), 'Idempotency-Key': randomUUID() }, data: body })
  expect(response.status(), await response.text()).toBe(201)
  const { referenceNumber } = (await response.json()).data as { referenceNumber: string }
  return referralByReference(owner, referenceNumber)
}

// The tests of this file share Riverbend's admin, and count the accountings they record: one at a time.
test.describe.configure({ mode: 'default' })

/** The admin's accountings, newest first; with a referral id, only those that found it. */
const disclosureRows = (owner: Owner, actorId: string, referralId?: string) =>
  owner
    .select()
    .from(auditLogs)
    .where(
      and(
        eq(auditLogs.actorId, actorId),
        inArray(auditLogs.action, ['disclosures.read', 'disclosures.export']),
        referralId ? sql`${auditLogs.details} -> 'ids' @> jsonb_build_array(${referralId}::text)` : undefined,
      ),
    )
    .orderBy(desc(auditLogs.id))

/** What each row of the page says: its audit entry number and its referral's reference. */
const rowsOnPage = (page: Page) =>
  page.getByTestId('disclosure-row').evaluateAll((rows) => rows.map((r) => ({ seq: Number(r.getAttribute('data-entry')), text: (r as HTMLElement).innerText })))

/** A CSV's data rows (a header line, then rows, then the # trailer), split on the commas outside quotes. */
function csvRows(text: string) {
  const lines = text.trimEnd().split('\r\n')
  const header = lines[0]!.split(',')
  const rows = lines.slice(1, -1).map((line) => {
    const cells = line.match(/("([^"]|"")*"|[^,]*)(,|$)/g)!.map((c) =>
      c
        .replace(/,$/, '')
        .replace(/^"(.*)"$/s, '$1')
        .replaceAll('""', '"'),
    )
    return Object.fromEntries(header.map((h, i) => [h, cells[i] ?? '']))
  })
  return { header, rows, trailer: lines.at(-1)! }
}

async function search(page: Page, fields: { healthCard?: string; lastName?: string; dob?: string; from?: string; to?: string }) {
  const form = page.getByRole('region', { name: 'Find the patient' })
  await form.getByLabel('Health card number').fill(fields.healthCard ?? '')
  await form.getByLabel('Last name').fill(fields.lastName ?? '')
  await form.getByLabel('Date of birth').fill(fields.dob ?? '')
  if (fields.from !== undefined) await form.getByLabel('First day').fill(fields.from)
  if (fields.to !== undefined) await form.getByLabel('Last day').fill(fields.to)
  await form.getByRole('button', { name: 'Show the accounting' }).click()
}

test('the accounting finds every access to one patient’s referrals and none of another’s; the CSV holds the same rows; both are audited with ids only', async ({
  signedInAs,
  owner,
  request,
}) => {
  test.slow() // two people sign in; three referrals are made
  const [ada, bea] = [uniquePatient(), uniquePatient()]
  const [a1, a2, b1] = [await referralFor(request, owner, ada), await referralFor(request, owner, ada), await referralFor(request, owner, bea)]
  const clinic = await clinicBySlug(owner, 'riverbend')
  const zone = clinicTimeZone(clinic.settings)

  // Staff open one of Ada's referrals, print the other, and open Bea's.
  const staff = await signedInAs(STAFF, `/referrals/${a1.id}`)
  await go(staff, `/referrals/${a2.id}/print`)
  await go(staff, `/referrals/${b1.id}`)
  const staffUser = await userByEmail(owner, STAFF)
  const [staffRead] = await owner
    .select()
    .from(auditLogs)
    .where(and(eq(auditLogs.action, 'referral.read'), eq(auditLogs.entityId, a1.id), eq(auditLogs.actorId, staffUser.id)))

  const page = await signedInAs(ADMIN, '/admin/disclosures')
  const addresses: string[] = []
  page.on('request', (r) => addresses.push(r.url()))
  await expect(page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Disclosures' })).toBeVisible()
  await search(page, { healthCard: ada.card })
  const summary = page.getByTestId('disclosures-summary')
  await expect(summary).toContainText('to 2 referrals of this patient')
  await expect(summary).toContainText(a1.referenceNumber)
  await expect(page).toHaveURL('/admin/disclosures')

  const shown = await rowsOnPage(page)
  expect(shown.length).toBeGreaterThanOrEqual(4) // each referral's creation and its staff access at least
  for (const row of shown) expect(row.text).toMatch(new RegExp(`${a1.referenceNumber}|${a2.referenceNumber}`))
  await expect(page.locator('main')).not.toContainText(b1.referenceNumber)
  // Who (name and role), when (the clinic's time), what (in words), from where.
  const read = page.locator(`[data-entry="${staffRead!.seq}"]`)
  await expect(read).toContainText(staffUser.displayName)
  await expect(read).toContainText('staff')
  await expect(read).toContainText('Opened a referral')
  await expect(read).toContainText(formatClinicTime(staffRead!.occurredAt, zone, { seconds: true }))
  await expect(read).toContainText(staffRead!.userAgent!.slice(0, 40))
  await expect(page.locator('main')).toContainText('Printed a referral')
  // No patient detail on the page beyond what the officer typed into the form.
  const text = await page.locator('main').innerText()
  for (const detail of [ada.first, bea.card, bea.last]) expect(text).not.toContain(detail)

  // The page agrees with the trail: every row about Ada's referrals, lists that showed them included, before this search.
  const admin = await userByEmail(owner, ADMIN)
  const [searched] = await disclosureRows(owner, admin.id, a1.id)
  expect(searched).toMatchObject({ action: 'disclosures.read', entityType: 'patient', outcome: 'success', clinicId: clinic.id })
  expect((searched!.details!.ids as string[]).sort()).toEqual([a1.id, a2.id].sort())
  expect(searched!.details!.rows).toBe(shown.length)
  const expected = await owner.execute<{ seq: number }>(sql`select seq from audit_logs where clinic_id = ${clinic.id}::uuid and id < ${searched!.id}
    and ((entity_type = 'referral' and entity_id in (${a1.id}, ${a2.id}))
      or (action = 'referral.list' and (details -> 'ids' @> jsonb_build_array(${a1.id}::text) or details -> 'ids' @> jsonb_build_array(${a2.id}::text))))
    order by seq desc`)
  expect(shown.map((r) => r.seq)).toEqual(expected.rows.map((r) => Number(r.seq)))

  // The file: the same rows (later list views by other tests aside), no patient detail, a download named by the day.
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download CSV' }).click()])
  expect(download.suggestedFilename()).toMatch(/^disclosures-\d{4}-\d{2}-\d{2}\.csv$/)
  const file = await (await import('node:fs/promises')).readFile(await download.path(), 'utf8')
  const csv = csvRows(file)
  expect(csv.header).toEqual([
    'when (clinic time)',
    'when (UTC)',
    'who',
    'role',
    'what',
    'action',
    'outcome',
    'referral',
    'from IP',
    'user agent',
    'audit entry',
  ])
  const newest = shown[0]!.seq
  expect(csv.rows.map((r) => Number(r['audit entry'])).filter((seq) => seq <= newest)).toEqual(shown.map((r) => r.seq))
  const csvRead = csv.rows.find((r) => Number(r['audit entry']) === staffRead!.seq)!
  expect(csvRead).toMatchObject({ who: staffUser.displayName, role: 'staff', what: 'Opened a referral', referral: a1.referenceNumber })
  expect(csvRead['when (clinic time)']).toBe(formatClinicTime(staffRead!.occurredAt, zone, { seconds: true }))
  expect(csv.trailer).toMatch(/^# intakepilot-disclosures: \d+ rows; .* complete$/)
  for (const detail of [ada.first, ada.last, ada.card, ada.dob]) expect(file).not.toContain(detail)
  await expect(page).toHaveURL('/admin/disclosures')

  const [exported] = await disclosureRows(owner, admin.id, a1.id)
  expect(exported).toMatchObject({ action: 'disclosures.export', entityType: 'patient', outcome: 'success' })
  expect((exported!.details!.ids as string[]).sort()).toEqual([a1.id, a2.id].sort())
  expect(exported!.details!.rows).toBe(csv.rows.length)
  for (const row of [searched, exported]) for (const term of [ada.card, ada.last, ada.dob, ada.first]) expect(JSON.stringify(row)).not.toContain(term)
  // The export's headers, as a program would see them.
  const direct = await page.request.post('/admin/disclosures/export', {
    form: { healthCard: ada.card, from: '2026-01-01', to: '2026-12-31' },
    headers: SAME_ORIGIN,
  })
  expect(direct.status()).toBe(200)
  expect(direct.headers()['content-type']).toBe('text/csv; charset=utf-8')
  expect(direct.headers()['content-disposition']).toMatch(/^attachment; filename="disclosures-\d{4}-\d{2}-\d{2}\.csv"$/)

  // By last name (any case) and date of birth: the same referrals.
  await search(page, { lastName: ada.last.toUpperCase(), dob: ada.dob })
  await expect(summary).toContainText('to 2 referrals of this patient')
  // Bea's: her referral only.
  await search(page, { healthCard: bea.card })
  await expect(summary).toContainText('to 1 referral of this patient')
  await expect(summary).toContainText(b1.referenceNumber)
  await expect(page.locator('main')).not.toContainText(a1.referenceNumber)

  for (const address of addresses) for (const term of [ada.card, ada.last, ada.last.toUpperCase(), bea.card]) expect(address).not.toContain(term)
  for (const address of addresses) expect(decodeURIComponent(address)).not.toContain(ada.dob)

  // The screens, kept with the results: wide, phone (the table scrolls in its card, not the page) and print.
  await search(page, { healthCard: ada.card })
  await expect(summary).toContainText('to 2 referrals of this patient')
  await page.setViewportSize({ width: 1280, height: 900 })
  await page.screenshot({ path: test.info().outputPath('disclosures-1280.png'), fullPage: true })
  await page.setViewportSize({ width: 390, height: 844 })
  await page.screenshot({ path: test.info().outputPath('disclosures-390.png'), fullPage: true })
  expect(await page.evaluate(() => document.documentElement.scrollWidth <= document.documentElement.clientWidth)).toBe(true)
  await page.setViewportSize({ width: 1280, height: 900 })
  await page.emulateMedia({ media: 'print' })
  await expect(page.getByRole('region', { name: 'Find the patient' })).toBeHidden()
  await expect(page.getByRole('button', { name: 'Download CSV' })).toBeHidden()
  await expect(page.getByText(/Prepared .* by /)).toBeVisible()
  await page.screenshot({ path: test.info().outputPath('disclosures-print.png'), fullPage: true })
})

test('without JavaScript: bad input gives field errors and records nothing; a search and its export work', async ({ signedInAs, owner, request }) => {
  test.slow()
  const patient = uniquePatient()
  const referral = await referralFor(request, owner, patient)
  const admin = await userByEmail(owner, ADMIN)
  const page = await signedInAs(ADMIN, '/admin/disclosures', { javaScriptEnabled: false })
  const before = (await disclosureRows(owner, admin.id)).length
  const form = page.getByRole('region', { name: 'Find the patient' })
  const summary = page.getByTestId('error-summary')

  await search(page, {})
  await expect(summary).toContainText('Enter a health card number, or a last name and a date of birth')
  await expect(form.locator('#disclosures-healthCard-error')).toHaveText('Enter a health card number, or a last name and a date of birth')
  await expect(summary).toBeFocused()

  await search(page, { lastName: patient.last })
  await expect(form.locator('#disclosures-dob-error')).toHaveText('Enter the date of birth with the last name')
  await search(page, { healthCard: patient.card, from: '2026-06-01', to: '2026-05-01' })
  await expect(form.locator('#disclosures-to-error')).toHaveText('The last day must be on or after the first day')
  await search(page, { healthCard: patient.card, from: '2010-01-01', to: '2026-05-01' })
  await expect(form.locator('#disclosures-from-error')).toHaveText('The period is at most 6 years: from 2020-05-01 at the earliest')
  await search(page, { healthCard: patient.card, from: '2026-02-31', to: '2026-05-01' })
  await expect(form.locator('#disclosures-from-error')).toHaveText('Enter the first day as YYYY-MM-DD')
  // What was typed stays in the form (the body), never in the address.
  await expect(form.getByLabel('Health card number')).toHaveValue(patient.card)
  await expect(page).toHaveURL('/admin/disclosures')
  expect((await disclosureRows(owner, admin.id)).length).toBe(before)

  const refused = await page.request.post('/admin/disclosures', { form: { healthCard: 'x', from: '2026-01-01', to: '2026-01-02' }, headers: SAME_ORIGIN })
  expect(refused.status()).toBe(400)
  const badExport = await page.request.post('/admin/disclosures/export', {
    form: { lastName: patient.last, from: 'x', to: '2026-01-02' },
    headers: SAME_ORIGIN,
  })
  expect(badExport.status()).toBe(400)
  expect(await badExport.text()).not.toContain(patient.last)
  expect((await disclosureRows(owner, admin.id)).length).toBe(before)

  await search(page, { healthCard: patient.card, from: '2026-01-01', to: '2031-12-31' })
  await expect(page.getByTestId('disclosures-summary')).toContainText(`to 1 referral of this patient (${referral.referenceNumber})`)
  await expect(page.getByText("To print, use your browser's Print command.")).toBeVisible()
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download CSV' }).click()])
  const file = await (await import('node:fs/promises')).readFile(await download.path(), 'utf8')
  expect(csvRows(file).rows.every((r) => r.referral === referral.referenceNumber)).toBe(true)
  expect(csvRows(file).trailer).toContain('2026-01-01 to 2031-12-31')
  const [exported, searched] = await disclosureRows(owner, admin.id, referral.id)
  expect([searched!.action, exported!.action]).toEqual(['disclosures.read', 'disclosures.export'])
})

test('staff and referrers are refused (recorded); another clinic’s admin finds nothing of this clinic’s patient', async ({ signedInAs, owner, request }) => {
  test.slow()
  const patient = uniquePatient()
  await referralFor(request, owner, patient)
  const body = { healthCard: patient.card, from: '2026-01-01', to: '2026-12-31' }
  for (const account of [STAFF, REFERRER]) {
    const page = await signedInAs(account, '/admin/disclosures')
    await expect(page.getByRole('heading', { name: 'Not allowed' })).toBeVisible()
    await expect(page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Disclosures' })).toHaveCount(0)
    for (const response of [
      await page.request.get('/admin/disclosures', { maxRedirects: 0 }),
      await page.request.post('/admin/disclosures', { form: body, headers: SAME_ORIGIN, maxRedirects: 0 }),
      await page.request.post('/admin/disclosures/export', { form: body, headers: SAME_ORIGIN, maxRedirects: 0 }),
    ]) {
      expect(response.status(), account).toBe(403)
      expect(await response.text()).not.toContain(patient.last)
      const rows = await owner.select().from(auditLogs).where(eq(auditLogs.requestId, response.headers()['x-request-id']!))
      expect(rows, account).toHaveLength(1)
      expect(rows[0], account).toMatchObject({ outcome: 'denied', entityType: 'patient', details: { reason: 'forbidden' } })
      expect(JSON.stringify(rows[0])).not.toContain(patient.card)
    }
  }
  const lakeview = await signedInAs('admin@lakeview.test', '/admin/disclosures')
  await search(lakeview, { healthCard: patient.card })
  await expect(lakeview.getByTestId('disclosures-summary')).toContainText('No referral in this clinic matches this patient')
  await expect(lakeview.getByTestId('disclosure-row')).toHaveCount(0)
})
