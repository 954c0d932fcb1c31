/**
 * The sender cancels their own referral on its page (docs/decisions/060-sender-cancels.md), with
 * JavaScript and without: a "Cancel referral…" disclosure asks for the reason the clinic reads and
 * is the confirmation; a missing reason is an error at its field and changes nothing; the cancel
 * closes the referral, the clinic's queue and history show it, and the form is gone. A colleague
 * referrer does not see the referral at all; a declined one offers no cancel.
 */
import { randomUUID } from 'node:crypto'
import type { Locator } from '@playwright/test'
import { and, eq, sql } from 'drizzle-orm'
import { auditLogs, outboxEvents, referralEvents, referrals } from '../../app/db/schema'
import { bearer, expect, go, referralBody, spareRateLimits, test, token, userByEmail, type Owner } from './fixtures'

// Northside's shared sender: the tests that list its referrals (documents.spec.ts) run after this project, alone.
const [SENDER, COLLEAGUE, STAFF] = ['referrer@northside.test', 'referrer2@northside.test', 'staff@northside.test']

let o: Owner
test.beforeEach(async ({ owner }) => {
  o = owner
  await spareRateLimits(owner, [SENDER, COLLEAGUE, STAFF])
})

async function sent(request: Parameters<typeof referralBody>[0]) {
  const access = await token(SENDER)
  const response = await request.post('/api/v1/referrals', {
    headers: { ...bearer(access), 'Idempotency-Key': randomUUID() },
    data: await referralBody(request, access),
  })
  expect(response.status(), await response.text()).toBe(201)
  const id = (await response.json()).data.id as string
  return { id, reference: (await stored(id)).referenceNumber }
}
const stored = async (id: string) => (await o.select().from(referrals).where(eq(referrals.id, id)))[0]!
const statusEvents = (id: string) =>
  o
    .select()
    .from(referralEvents)
    .where(and(eq(referralEvents.referralId, id), eq(referralEvents.type, 'status')))

/** The field is invalid and its error is what aria-describedby points at. */
async function expectFieldError(field: Locator, message: string) {
  await expect(field).toHaveAttribute('aria-invalid', 'true')
  const described = (await field.getAttribute('aria-describedby')) ?? ''
  expect(described, 'aria-describedby').not.toBe('')
  const texts = await Promise.all(described.split(/\s+/).map((id) => field.page().locator(`[id="${id}"]`).allTextContents()))
  expect(texts.flat().join(' ')).toContain(message)
}

for (const javaScriptEnabled of [true, false]) {
  const mode = javaScriptEnabled ? 'with JavaScript' : 'without JavaScript'

  test(`the sender cancels on the referral's page: the reason asked at its field, then the referral closed for the clinic too (${mode})`, async ({
    signedInAs,
  }) => {
    const page = await signedInAs(SENDER, '/my-referrals', { javaScriptEnabled })
    const { id, reference } = await sent(page.request)
    await go(page, `/referrals/${id}`)
    const confirm = page.getByRole('form', { name: 'Cancel this referral?' })
    await expect(confirm).toBeHidden()
    await page.getByText('Cancel referral…').click()
    await expect(confirm).toBeVisible()
    await expect(confirm.getByText('The clinic stops working on it and reads your reason.')).toBeVisible()

    // No reason: the error at the field, nothing changed, the form still open.
    await confirm.getByRole('button', { name: 'Cancel referral' }).click()
    await expectFieldError(confirm.getByLabel('Reason (the clinic sees it)'), 'Give a reason: the clinic will see it.')
    expect(await stored(id)).toMatchObject({ status: 'received', version: 1 })
    expect(await statusEvents(id)).toEqual([])

    await confirm.getByLabel('Reason (the clinic sees it)').fill('The patient chose a clinic nearer home')
    await confirm.getByRole('button', { name: 'Cancel referral' }).click()
    await expect(page.getByRole('status').filter({ hasText: 'Referral cancelled.' })).toBeVisible()
    await expect(page.getByRole('heading', { level: 1 }).locator('..')).toContainText('Cancelled')
    await expect(page.getByText('Cancel referral…')).toHaveCount(0)
    // The sender reads their reason among the messages with the clinic.
    await expect(page.getByRole('region', { name: 'Messages' })).toContainText('The patient chose a clinic nearer home')

    const sender = await userByEmail(o, SENDER)
    expect(await stored(id)).toMatchObject({ status: 'cancelled', version: 2 })
    expect((await statusEvents(id)).map((e) => [e.data, e.actorId])).toEqual([
      [{ from: 'received', to: 'cancelled', reasonCode: 'referrer_withdrew' }, sender.id],
    ])
    const audited = await o
      .select()
      .from(auditLogs)
      .where(and(eq(auditLogs.entityId, id), eq(auditLogs.action, 'referral.status')))
    expect(audited.map((a) => [a.actorId, a.outcome, a.details])).toEqual([
      [sender.id, 'success', { from: 'received', to: 'cancelled', reasonCode: 'referrer_withdrew' }],
    ])
    const announced = await o
      .select()
      .from(outboxEvents)
      .where(and(eq(outboxEvents.referralId, id), eq(outboxEvents.topic, 'referral.status_changed')))
    expect(announced.map((e) => e.data.to)).toEqual(['cancelled'])

    // The clinic's queue shows it cancelled; its history names the move, its category and the reason.
    const staff = await signedInAs(STAFF, `/queue?status=cancelled&ref=${reference}`, { javaScriptEnabled })
    await expect(staff.getByRole('row').filter({ hasText: reference })).toContainText('Cancelled')
    await go(staff, `/referrals/${id}`)
    const history = staff.getByRole('region', { name: 'History' })
    await expect(history).toContainText('Status: New → Cancelled (Referrer withdrew it)')
    await expect(history).toContainText('The patient chose a clinic nearer home')
  })
}

test('a colleague referrer cannot open the referral or cancel it; a declined referral offers its sender no cancel', async ({ signedInAs }) => {
  const page = await signedInAs(SENDER, '/my-referrals', { javaScriptEnabled: false })
  const { id } = await sent(page.request)

  const colleague = await signedInAs(COLLEAGUE, '/my-referrals', { javaScriptEnabled: false })
  const opened = await go(colleague, `/referrals/${id}`)
  expect(opened!.status()).toBe(404)
  await expect(colleague.getByText('Cancel referral…')).toHaveCount(0)
  // A post of the form's fields as the colleague: not there, nothing changed.
  const forged = await colleague.request.post(`/referrals/${id}`, {
    form: { intent: 'cancel', version: '1', reason: 'Not mine' },
    headers: { Origin: new URL(colleague.url()).origin },
  })
  expect(forged.status()).toBe(404)
  expect(await stored(id)).toMatchObject({ status: 'received', version: 1 })

  await o
    .update(referrals)
    .set({ status: 'declined', version: sql`${referrals.version} + 1` })
    .where(eq(referrals.id, id))
  await go(page, `/referrals/${id}`)
  await expect(page.getByRole('heading', { level: 1 }).locator('..')).toContainText('Declined')
  await expect(page.getByText('Cancel referral…')).toHaveCount(0)
  // A stale page's post: the workflow refuses it, said on the page, nothing changed.
  const late = await page.request.post(`/referrals/${id}`, {
    form: { intent: 'cancel', version: '2', reason: 'Too late' },
    headers: { Origin: new URL(page.url()).origin },
  })
  expect(late.status()).toBe(400)
  expect(await stored(id)).toMatchObject({ status: 'declined', version: 2 })
  expect(await statusEvents(id)).toEqual([])
})
