/**
 * Status changes on the referral page, as staff make them, with JavaScript and without: one
 * button per allowed move; a decline or a cancel opens its own small form that asks for the
 * reason and is the confirmation (nothing changes before it is confirmed); a booking asks for
 * the appointment's date and time; errors sit at their field (aria-invalid, aria-describedby);
 * after a move nothing is chosen for the next one. "Assign to me" is one press. axe scans each
 * state of the panel.
 */
import { randomUUID } from 'node:crypto'
import AxeBuilder from '@axe-core/playwright'
import type { APIRequestContext, Locator, Page } from '@playwright/test'
import { and, asc, eq, sql } from 'drizzle-orm'
import { referralEvents, referrals } from '../../app/db/schema'
import { CANCEL_REASONS, DECLINE_REASONS } from '../../app/referrals/reason-codes'
import { bearer, expect, go, referralBody, test, token, userByEmail, type Owner } from './fixtures'

const [STAFF, REFERRER] = ['staff@lakeview.test', 'referrer2@lakeview.test']
const WCAG = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa']

let o: Owner
const forgetRequestCounts = () => o.execute(sql`delete from rate_limits where key in (select 'user:' || id from users where email in (${STAFF}, ${REFERRER}))`)
test.beforeEach(async ({ owner }) => {
  o = owner
  await forgetRequestCounts()
})

async function newReferral(request: APIRequestContext) {
  const access = await token(REFERRER)
  const response = await request.post('/api/v1/referrals', {
    headers: { ...bearer(access), 'Idempotency-Key': randomUUID() },
    data: await referralBody(request, access),
  })
  expect(response.status()).toBe(201)
  return (await response.json()).data.id as string
}
const stored = async (id: string) => (await o.select().from(referrals).where(eq(referrals.id, id)))[0]!
const statusEvents = (id: string) =>
  o
    .select()
    .from(referralEvents)
    .where(and(eq(referralEvents.referralId, id), eq(referralEvents.type, 'status')))
    // In the order they were written: an unordered select may come back in another.
    .orderBy(asc(referralEvents.createdAt), asc(referralEvents.id))

/** axe runs in the page, so only with JavaScript (the markup is the same without). */
async function expectAxeClean(page: Page, label: string, javaScriptEnabled = true) {
  if (!javaScriptEnabled) return
  // The error lists' own markup (`listitem`) is the shared FieldError's, fixed with the error
  // shells; this spec checks what the status panel adds.
  const { violations } = await new AxeBuilder({ page }).withTags(WCAG).disableRules(['listitem']).analyze()
  const bad = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
  expect(
    bad.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`),
    label,
  ).toEqual([])
}

/** The field is invalid and its error is what aria-describedby points at. */
async function expectFieldError(field: Locator, message: string) {
  await expect(field).toHaveAttribute('aria-invalid', 'true')
  const described = (await field.getAttribute('aria-describedby')) ?? ''
  expect(described, 'aria-describedby').not.toBe('')
  const ids = described.split(/\s+/)
  const texts = await Promise.all(ids.map((id) => field.page().locator(`[id="${id}"]`).allTextContents()))
  expect(texts.flat().join(' ')).toContain(message)
}

for (const javaScriptEnabled of [true, false]) {
  const mode = javaScriptEnabled ? 'with JavaScript' : 'without JavaScript'

  test(`a decline asks for a reason at its field and a confirmation; nothing changes before it (${mode})`, async ({ signedInAs }) => {
    const page = await signedInAs(STAFF, '/queue', { javaScriptEnabled })
    const id = await newReferral(page.request)
    await go(page, `/referrals/${id}`)
    const panel = page.getByRole('region', { name: 'Work this referral' })
    // Only buttons for the moves: no reason, no appointment, no status list with one already chosen.
    await expect(panel.getByRole('button', { name: 'Start review' })).toBeVisible()
    await expect(panel.getByLabel(/Reason/)).toHaveCount(0)
    await expect(panel.getByLabel(/Appointment/)).toHaveCount(0)
    await expect(panel.locator('select[name=to], input[name=to][type=radio]')).toHaveCount(0)
    await expectAxeClean(page, `panel ${mode}`, javaScriptEnabled)

    await panel.getByRole('link', { name: 'Decline…' }).click()
    const confirm = panel.getByRole('form', { name: 'Decline this referral?' })
    await expect(confirm).toBeVisible()
    await expect(confirm.getByText('The referral closes and the referrer reads your reason.')).toBeVisible()
    expect((await stored(id)).status, 'opening the decline form changes nothing').toBe('received')
    await expect(confirm.getByLabel(/Appointment/)).toHaveCount(0)
    await expectAxeClean(page, `decline form ${mode}`, javaScriptEnabled)

    // The kind of reason offers the decline categories the dashboard counts, none chosen.
    const kind = confirm.getByLabel('Kind of reason')
    await expect(kind).toHaveValue('')
    await expect(kind.locator('option')).toHaveText(['Choose one', ...Object.values(DECLINE_REASONS)])

    // Confirming without a reason: the errors sit at the kind and the reason, and nothing changed.
    await confirm.getByRole('button', { name: 'Decline referral' }).click()
    await expectFieldError(confirm.getByLabel('Reason (the referrer sees it)'), 'Give a reason: the referrer will see it.')
    await expectFieldError(kind, 'Choose the kind of reason.')
    await expect(page.getByRole('alert').filter({ hasText: 'Give a reason' })).toHaveCount(1)
    expect((await stored(id)).status).toBe('received')
    expect(await statusEvents(id)).toEqual([])
    await expectAxeClean(page, `decline form with its error ${mode}`, javaScriptEnabled)

    // Going back closes it, still without a change.
    await confirm.getByRole('link', { name: 'Go back without changing the status' }).click()
    await expect(confirm).toHaveCount(0)
    expect((await stored(id)).status).toBe('received')

    await panel.getByRole('link', { name: 'Decline…' }).click()
    await confirm.getByLabel('Reason (the referrer sees it)').fill('Outside our catchment area')
    await confirm.getByLabel('Kind of reason').selectOption({ label: 'Outside the clinic’s scope' })
    await confirm.getByRole('button', { name: 'Decline referral' }).click()
    await expect(page.getByRole('status')).toHaveText('Status changed to Declined.')
    expect((await stored(id)).status).toBe('declined')
    // The category rides in the status event, where the dashboard reads it; the history names it.
    expect((await statusEvents(id)).map((e) => e.data)).toEqual([{ from: 'received', to: 'declined', reasonCode: 'outside_scope' }])
    await expect(page.getByText('Status: New → Declined (Outside the clinic’s scope)')).toBeVisible()
    // Afterwards: the next moves are offered, none chosen, no small form open.
    await expect(panel.getByRole('heading', { name: /Status: Declined/ })).toBeVisible()
    await expect(panel.getByRole('button', { name: 'Reopen for review' })).toBeVisible()
    await expect(panel.getByRole('form', { name: /this referral\?|Book the appointment/ })).toHaveCount(0)
  })

  test(`a cancel is confirmed in its own form; a direct move goes in one press (${mode})`, async ({ signedInAs }) => {
    const page = await signedInAs(STAFF, '/queue', { javaScriptEnabled })
    const id = await newReferral(page.request)
    await go(page, `/referrals/${id}`)
    const panel = page.getByRole('region', { name: 'Work this referral' })
    await panel.getByRole('button', { name: 'Start review' }).click()
    await expect(page.getByRole('status')).toHaveText('Status changed to In review.')
    expect((await stored(id)).status).toBe('in_review')

    await panel.getByRole('link', { name: 'Cancel referral…' }).click()
    const confirm = panel.getByRole('form', { name: 'Cancel this referral?' })
    expect((await stored(id)).status).toBe('in_review')
    await confirm.getByLabel('Reason (the referrer sees it)').fill('The patient moved away')
    // A cancel's own categories: not the decline's.
    await expect(confirm.getByLabel('Kind of reason').locator('option')).toHaveText(['Choose one', ...Object.values(CANCEL_REASONS)])
    await confirm.getByLabel('Kind of reason').selectOption({ label: 'Patient could not be reached' })
    await confirm.getByRole('button', { name: 'Cancel referral' }).click()
    await expect(page.getByRole('status')).toHaveText('Status changed to Cancelled.')
    expect((await stored(id)).status).toBe('cancelled')
    expect((await statusEvents(id)).at(-1)?.data).toEqual({ from: 'in_review', to: 'cancelled', reasonCode: 'patient_unreachable' })
  })

  test(`a booking asks for the appointment's date and time, at their fields (${mode})`, async ({ signedInAs }) => {
    const page = await signedInAs(STAFF, '/queue', { javaScriptEnabled })
    const id = await newReferral(page.request)
    await go(page, `/referrals/${id}`)
    const panel = page.getByRole('region', { name: 'Work this referral' })
    await panel.getByRole('button', { name: 'Accept' }).click()
    await expect(page.getByRole('status')).toHaveText('Status changed to Accepted.')

    await panel.getByRole('link', { name: 'Book appointment…' }).click()
    const booking = panel.getByRole('form', { name: 'Book the appointment' })
    await expect(booking.getByLabel(/Reason/)).toHaveCount(0)
    await booking.getByRole('button', { name: 'Book appointment' }).click()
    await expectFieldError(booking.getByLabel('Appointment date'), 'Give the appointment date.')
    await expectFieldError(booking.getByLabel('Appointment time (clinic time)'), 'Give the appointment time.')
    expect((await stored(id)).status).toBe('accepted')
    await expectAxeClean(page, `booking form with errors ${mode}`, javaScriptEnabled)

    const day = new Date(Date.now() + 7 * 86_400_000).toISOString().slice(0, 10)
    await booking.getByLabel('Appointment date').fill(day)
    await booking.getByLabel('Appointment time (clinic time)').fill('14:30')
    await booking.getByRole('button', { name: 'Book appointment' }).click()
    await expect(page.getByRole('status')).toHaveText('Status changed to Scheduled.')
    expect((await stored(id)).status).toBe('scheduled')
    await expect(page.getByRole('region', { name: 'History' }).getByText(`Appointment on ${day} at 14:30`)).toBeVisible()
  })
}

test('"Assign to me" assigns the signed-in staff member in one press, and is gone once done', async ({ signedInAs }) => {
  const page = await signedInAs(STAFF, '/queue')
  const id = await newReferral(page.request)
  await go(page, `/referrals/${id}`)
  const panel = page.getByRole('region', { name: 'Work this referral' })
  await panel.getByRole('button', { name: 'Assign to me' }).click()
  await expect(page.getByRole('status')).toHaveText('Assigned.')
  const me = await userByEmail(o, STAFF)
  expect((await stored(id)).assignedTo).toBe(me.id)
  await expect(panel.getByLabel('Assigned to')).toHaveValue(me.id)
  await expect(panel.getByRole('button', { name: 'Assign to me' })).toHaveCount(0)
})
