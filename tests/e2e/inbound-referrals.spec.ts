import { randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import type { Page } from '@playwright/test'
import { count, eq } from 'drizzle-orm'
import { referralDocuments, referrals } from '../../app/db/schema'
import {
  auditFor,
  expect,
  fillReferral,
  formEntries,
  go,
  referralByReference,
  referralValues,
  SAME_ORIGIN,
  test,
  uniquePatient,
  userByEmail,
  type Owner,
} from './fixtures'
import { clinicInstant } from '../../app/utils/clinic-time'

/*
 * Referrals that came by fax, phone, email or in person, entered by staff on the referrer's
 * behalf: with JavaScript and without, the turnaround counted from the day it was received,
 * the marks in the queue and on the referral page, and what is refused (a referrer, another
 * clinic's referrer, bad input) with nothing stored.
 */
const STAFF = 'staff@northside.test'
/** Northside keeps the default zone: a received day and time are Toronto's. */
const CLINIC_ZONE = 'America/Toronto'
// The clinic's calendar day n days ago (its own zone, not UTC: in the evening they differ).
const daysAgo = (n: number) => new Intl.DateTimeFormat('en-CA', { timeZone: CLINIC_ZONE }).format(new Date(Date.now() - n * 86_400_000))
const withKey = async (owner: Owner, key: string) => (await owner.select({ n: count() }).from(referrals).where(eq(referrals.idempotencyKey, key)))[0]!.n
const inboundForm = (page: Page) => page.locator('form:has(input[name=idempotencyKey])')

/** axe-core (installed with eslint-plugin-jsx-a11y; @axe-core/playwright is not), run in the page as the tools do. */
const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js')
async function expectNoAxeViolations(page: Page) {
  // Evaluated over the DevTools protocol, which the page's CSP does not govern.
  await page.evaluate(readFileSync(AXE, 'utf8'))
  const violations = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run: (c: Document, o: object) => Promise<{ violations: { id: string; nodes: { target: string[] }[] }[] }> } })
      .axe
    // listitem: every form's field errors are a <ul role="alert"> (app/components/forms.tsx), shared by all pages: reported, not this page's own.
    const result = await axe.run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
      rules: { listitem: { enabled: false } },
    })
    return result.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)
  })
  expect(violations).toEqual([])
}

async function fillInbound(page: Page, inbound: { arrivedVia?: string; receivedOn?: string; receivedTime?: string; referrer?: string; referrerName?: string }) {
  const f = inboundForm(page)
  if (inbound.arrivedVia) await f.locator('select[name=arrivedVia]').selectOption(inbound.arrivedVia)
  if (inbound.receivedOn !== undefined) await f.locator('input[name=receivedOn]').fill(inbound.receivedOn)
  if (inbound.receivedTime !== undefined) await f.locator('input[name=receivedTime]').fill(inbound.receivedTime)
  if (inbound.referrer) await f.locator('select[name=referrerId]').selectOption({ label: inbound.referrer })
  if (inbound.referrerName !== undefined) await f.locator('input[name=referrerName]').fill(inbound.referrerName)
}

test('without JavaScript, staff enter a faxed referral received two days ago: the queue counts its age and overdue flag from that day', async ({
  signedInAs,
  owner,
}) => {
  const patient = uniquePatient()
  const page = await signedInAs(STAFF, '/referrals/inbound', { javaScriptEnabled: false })
  await expect(page.getByRole('heading', { name: 'New inbound referral' })).toBeVisible()
  await expect(page.getByRole('navigation').getByRole('link', { name: 'New inbound referral' })).toBeVisible()
  const referrerAccount = await userByEmail(owner, 'referrer@northside.test')
  await fillInbound(page, { arrivedVia: 'Fax', receivedOn: daysAgo(2), referrer: `${referrerAccount.displayName} (${referrerAccount.organization})` })
  await fillReferral(page, referralValues(patient), { urgency: 'emergent' })
  await page.getByRole('button', { name: 'Enter referral' }).click()
  await expect(page).toHaveURL(/\/referrals\/inbound\?entered=NOR-[0-9A-Z]{7}$/)
  const reference = (await page.getByTestId('reference-number').textContent())!
  await expect(page.getByRole('status')).toContainText(`Referral ${reference} entered.`)

  const row = await referralByReference(owner, reference)
  const staff = await userByEmail(owner, STAFF)
  expect(row).toMatchObject({ submittedBy: referrerAccount.id, enteredBy: staff.id, channel: 'fax', priority: 'emergent', referrerName: null })
  // The day and time are the clinic's (Northside: Toronto, the default zone).
  expect(row.receivedAt.toISOString()).toBe(clinicInstant(daysAgo(2), '00:00', CLINIC_ZONE)!.toISOString())
  const [audit] = await auditFor(owner, 'referral.create', row.id)
  expect(audit).toMatchObject({ actorId: staff.id, outcome: 'success', details: { channel: 'fax', enteredBy: staff.id, referrer: referrerAccount.id } })
  expect(JSON.stringify(audit)).not.toContain(patient.last)

  // The queue: two days old against a 24-hour target, so overdue; marked as entered by staff.
  await page.getByRole('link', { name: 'Find it in the queue' }).click()
  const queueRow = page.getByTestId('queue-row').filter({ hasText: reference })
  await expect(queueRow).toHaveCount(1)
  await expect(queueRow).toContainText('2 d ago')
  await expect(queueRow).toContainText(daysAgo(2))
  await expect(queueRow.getByTestId('overdue')).toHaveText('Overdue for triage')
  await expect(queueRow.getByTestId('entered-by-staff')).toContainText('Entered by staff')
  await expect(queueRow).toContainText(referrerAccount.displayName)

  // The referral page says so, with the day it was received and who entered it.
  await queueRow.getByRole('link', { name: new RegExp(patient.last) }).click()
  await expect(page.getByTestId('entered-by-staff')).toBeVisible()
  await expect(page.getByTestId('entered-line')).toContainText(`Entered by ${staff.displayName}`)
  await expect(page.getByTestId('entered-line')).toContainText(new RegExp(`from a fax received ${daysAgo(2)} 00:00 E[SD]T`))
})

test('with JavaScript, a referrer typed in: the form says what is missing before it is sent, the queue shows the typed name; no axe violations', async ({
  signedInAs,
  owner,
}) => {
  const patient = uniquePatient()
  const name = `Dr. Fax ${patient.last}`
  const page = await signedInAs(STAFF, '/referrals/inbound')
  await expectNoAxeViolations(page)
  await fillInbound(page, { arrivedVia: 'Phone call', receivedOn: daysAgo(1), receivedTime: '14:05', referrer: 'Someone else: type their name below' })
  await fillReferral(page, referralValues(patient))
  const key = await inboundForm(page).locator('input[name=idempotencyKey]').inputValue()
  await page.getByRole('button', { name: 'Enter referral' }).click()
  await expect(page.locator('#' + (await page.locator('input[name=referrerName]').getAttribute('id')) + '-error')).toHaveText(
    'Type the referrer’s name, or choose them from the list',
  )
  await expect(page.locator('input[name=referrerName]')).toHaveAttribute('aria-invalid', 'true')
  expect(await withKey(owner, key)).toBe(0)
  await expectNoAxeViolations(page)

  await page.locator('input[name=referrerName]').fill(name)
  await page.locator('input[name=referrerPractice]').fill('Harbour Walk-in Clinic')
  await page.getByRole('button', { name: 'Enter referral' }).click()
  await expect(page).toHaveURL(/\/referrals\/inbound\?entered=/)
  const reference = (await page.getByTestId('reference-number').textContent())!
  const row = await referralByReference(owner, reference)
  const staff = await userByEmail(owner, STAFF)
  expect(row).toMatchObject({
    submittedBy: staff.id,
    enteredBy: staff.id,
    channel: 'phone',
    referrerName: name,
    referrerOrganization: 'Harbour Walk-in Clinic',
  })
  expect(row.receivedAt.toISOString()).toBe(clinicInstant(daysAgo(1), '14:05', CLINIC_ZONE)!.toISOString())
  const [audit] = await auditFor(owner, 'referral.create', row.id)
  expect(audit!.details).toEqual({ channel: 'phone', enteredBy: staff.id, referrer: 'typed-in' })
  // The form is empty again for the next one.
  await expect(inboundForm(page).locator('input[name=patient_last_name]')).toHaveValue('')
  for (const name of ['arrivedVia', 'referrerId', 'urgency']) {
    await expect(inboundForm(page).locator(`select[name=${name}] option:checked`), name).toHaveText(/Choose/)
  }

  await go(page, `/queue?ref=${reference}&status=all`)
  const queueRow = page.getByTestId('queue-row').filter({ hasText: reference })
  await expect(queueRow).toContainText(name)
  await expect(queueRow.getByTestId('entered-by-staff')).toBeVisible()
  await queueRow.getByRole('link', { name: new RegExp(patient.last) }).click()
  await expect(page.getByTestId('entered-line')).toContainText(`referrer (no account here): ${name} (Harbour Walk-in Clinic)`)
})

test('a referrer cannot open the page or post to it, and is not offered it', async ({ signedInAs, owner }) => {
  const page = await signedInAs('referrer@northside.test', '/my-referrals')
  await expect(page.getByRole('navigation').getByRole('link', { name: 'New inbound referral' })).toHaveCount(0)
  const opened = await page.request.get('/referrals/inbound', { maxRedirects: 0 })
  expect(opened.status()).toBe(403)
  const key = randomUUID()
  const posted = await page.request.post('/referrals/inbound', {
    headers: SAME_ORIGIN,
    form: { idempotencyKey: key, formVersion: '1', arrivedVia: 'fax', receivedOn: daysAgo(0), referrerId: 'someone-else', referrerName: 'Me' },
  })
  expect(posted.status()).toBe(403)
  expect(await withKey(owner, key)).toBe(0)
})

test('another clinic’s referrer cannot be picked: a field error, every value kept, nothing stored', async ({ signedInAs, owner }) => {
  const patient = uniquePatient()
  const page = await signedInAs(STAFF, '/referrals/inbound', { javaScriptEnabled: false })
  const foreign = await userByEmail(owner, 'referrer@lakeview.test')
  const options = await inboundForm(page)
    .locator('select[name=referrerId] option')
    .evaluateAll((els) => els.map((e) => (e as HTMLOptionElement).value))
  expect(options).not.toContain(foreign.id)
  // A tampered page: the foreign referrer's id put into the list.
  await inboundForm(page)
    .locator('select[name=referrerId]')
    .evaluate((select, id) => (select as unknown as HTMLSelectElement).add(new Option('Lakeview referrer', id)), foreign.id)
  await fillInbound(page, { arrivedVia: 'Fax', receivedOn: daysAgo(1), referrer: 'Lakeview referrer' })
  await fillReferral(page, referralValues(patient))
  const key = (await formEntries(page)).idempotencyKey!
  const [response] = await Promise.all([
    page.waitForResponse((r) => r.request().method() === 'POST'),
    page.getByRole('button', { name: 'Enter referral' }).click(),
  ])
  expect(response.status()).toBe(400)
  await expect(page.getByRole('alert').getByText('Choose one of this clinic’s referrers from the list')).toBeVisible()
  await expect(inboundForm(page).locator('input[name=patient_last_name]')).toHaveValue(patient.last)
  expect(await withKey(owner, key)).toBe(0)
})

test('without JavaScript, bad input gets field errors next to the fields, keeps what was typed, and stores nothing', async ({ signedInAs, owner }) => {
  const patient = uniquePatient()
  const page = await signedInAs(STAFF, '/referrals/inbound', { javaScriptEnabled: false })
  // No channel, a day in the future, someone else without a name, and the form's own required field left out.
  await fillInbound(page, { receivedOn: daysAgo(-3), referrer: 'Someone else: type their name below' })
  await fillReferral(page, { ...referralValues(patient), patient_phone: '' })
  const key = (await formEntries(page)).idempotencyKey!
  const [response] = await Promise.all([
    page.waitForResponse((r) => r.request().method() === 'POST'),
    page.getByRole('button', { name: 'Enter referral' }).click(),
  ])
  expect(response.status()).toBe(400)
  const errorOf = async (name: string) => page.locator(`#${await inboundForm(page).locator(`[name=${name}]`).getAttribute('id')}-error`)
  await expect(await errorOf('arrivedVia')).toHaveText('Choose how the referral arrived')
  await expect(await errorOf('receivedOn')).toHaveText('Date received cannot be in the future')
  await expect(await errorOf('referrerName')).toHaveText('Type the referrer’s name, or choose them from the list')
  await expect(await errorOf('patient_phone')).toContainText('required')
  await expect(inboundForm(page).locator('input[name=patient_last_name]')).toHaveValue(patient.last)
  await expect(inboundForm(page).locator('input[name=receivedOn]')).toHaveValue(daysAgo(-3))
  expect(await withKey(owner, key)).toBe(0)
})

const PDF = Buffer.from(
  '%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n',
)
const EXECUTABLE = Buffer.concat([Buffer.from('MZ'), Buffer.alloc(254, 0x90)])

test('without JavaScript, the faxed original is attached with the referral; an executable named .pdf is refused and nothing is kept', async ({
  signedInAs,
  owner,
}) => {
  const patient = uniquePatient()
  const page = await signedInAs(STAFF, '/referrals/inbound', { javaScriptEnabled: false })
  const referrerAccount = await userByEmail(owner, 'referrer@northside.test')
  const fill = async () => {
    await fillInbound(page, { arrivedVia: 'Fax', receivedOn: daysAgo(1), referrer: `${referrerAccount.displayName} (${referrerAccount.organization})` })
    await fillReferral(page, referralValues(patient))
  }
  await fill()
  await inboundForm(page).locator('input[name=documents]').setInputFiles({ name: 'fax.pdf', mimeType: 'application/pdf', buffer: EXECUTABLE })
  const key = (await formEntries(page)).idempotencyKey!
  const [refused] = await Promise.all([
    page.waitForResponse((r) => r.request().method() === 'POST'),
    page.getByRole('button', { name: 'Enter referral' }).click(),
  ])
  expect(refused.status()).toBe(400)
  await expect(page.getByTestId('documents-field').getByRole('alert')).toBeVisible()
  await expect(inboundForm(page).locator('input[name=patient_last_name]')).toHaveValue(patient.last)
  expect(await withKey(owner, key)).toBe(0)

  await inboundForm(page).locator('input[name=documents]').setInputFiles({ name: 'fax.pdf', mimeType: 'application/pdf', buffer: PDF })
  await page.getByRole('button', { name: 'Enter referral' }).click()
  await expect(page).toHaveURL(/\/referrals\/inbound\?entered=/)
  const row = await referralByReference(owner, (await page.getByTestId('reference-number').textContent())!)
  const staff = await userByEmail(owner, STAFF)
  const documents = await owner.select().from(referralDocuments).where(eq(referralDocuments.referralId, row.id))
  expect(documents).toHaveLength(1)
  expect(documents[0]).toMatchObject({ uploadedBy: staff.id, attachedWith: 'staff', contentType: 'application/pdf', sizeBytes: PDF.length })

  await go(page, `/referrals/${row.id}`)
  await expect(page.getByTestId('document-list').getByTestId('document')).toHaveCount(1)
})
