/**
 * Email, end to end (docs/decisions/041): a change in the app, the outbox, the courier in workerd,
 * SMTP over its TCP socket to the local mail catcher that `npm start` runs
 * (scripts/lib/mail-catcher.ts), read back from the catcher's page. Serial: one test stops the
 * catcher's SMTP listener for a while.
 */
import { randomUUID } from 'node:crypto'
import type { APIRequestContext } from '@playwright/test'
import { and, desc, eq, sql } from 'drizzle-orm'
import { auditLogs, clinics, emailDeliveries, emailPreferences } from '../../app/db/schema'
import { localConfig } from '../../scripts/lib/config'
import { bearer, E2E, expect, referralBody, test, token, userByEmail, type Owner } from './fixtures'

test.describe.configure({ mode: 'serial' })

const MAIL = `http://127.0.0.1:${localConfig({ PG_PORT: String(E2E.pgPort) }).mailPagePort}`
type Caught = { to: string[]; subject: string; text: string; html: string; messageId: string | null }

const caught = async (request: APIRequestContext, reference: string): Promise<Caught[]> =>
  ((await (await request.get(`${MAIL}/messages.json`)).json()) as { messages: Caught[] }).messages.filter((m) => m.subject.includes(`(${reference})`))

/** A referral sent by northside's referrer through the API, moved to review by staff; its decrypted fields as staff read them. */
async function referralInReview(request: APIRequestContext) {
  const referrer = await token('referrer@northside.test')
  const created = await request.post('/api/v1/referrals', {
    headers: { ...bearer(referrer), 'Idempotency-Key': randomUUID() },
    data: await referralBody(request, referrer),
  })
  expect(created.status(), await created.text()).toBe(201)
  const { id } = (await created.json()).data
  const staff = await token('staff@northside.test')
  const read = (await (await request.get(`/api/v1/referrals/${id}`, { headers: bearer(staff) })).json()).data
  const moved = await request.patch(`/api/v1/referrals/${id}`, { headers: bearer(staff), data: { status: 'in_review', version: read.version } })
  expect(moved.status()).toBe(200)
  const decline = (reason: string) =>
    request.patch(`/api/v1/referrals/${id}`, {
      headers: bearer(staff),
      data: { status: 'declined', reason, reasonCode: 'criteria_not_met', version: read.version + 1 },
    })
  return { id, reference: read.referenceNumber as string, fields: read.data as Record<string, unknown>, decline }
}

const deliveriesOf = (owner: Owner, referralId: string) => owner.select().from(emailDeliveries).where(eq(emailDeliveries.referralId, referralId))

test('a decline sends the referrer one email: the clinic, the reference, the outcome and a sign-in link, no patient data', async ({ request, owner }) => {
  const referral = await referralInReview(request)
  const reason = `Outside our catchment area ${referral.reference}-reason`
  expect((await referral.decline(reason)).status()).toBe(200)
  await expect.poll(async () => (await caught(request, referral.reference)).length, { timeout: 20_000 }).toBe(1)
  // And only one: the cron's runs after it send nothing more.
  await new Promise((resolve) => setTimeout(resolve, 6_000))
  const [email, ...more] = await caught(request, referral.reference)
  expect(more).toEqual([])
  expect(email!.to).toEqual(['referrer@northside.test'])
  const [clinic] = await owner.select().from(clinics).where(eq(clinics.slug, 'northside'))
  expect(email!.subject).toBe(`${clinic!.name}: referral declined (${referral.reference})`)
  expect(email!.text).toContain(`Referral ${referral.reference} has been declined.`)
  expect(email!.text).toContain(`/referrals/${referral.id}`)
  // Nothing of the patient, and not the free-text reason: every decrypted field checked.
  const whole = `${email!.subject}\n${email!.text}\n${email!.html}`
  const values = Object.values(referral.fields).filter((v): v is string => typeof v === 'string' && v.trim().length >= 3)
  expect(values.length).toBeGreaterThan(3)
  for (const value of values) expect(whole, 'a field of the referral is in the email').not.toContain(value)
  expect(whole).not.toContain('catchment')
  const [delivery] = await deliveriesOf(owner, referral.id)
  expect(delivery).toMatchObject({ kind: 'declined', status: 'sent', attempts: 1 })
  expect(email!.messageId).toBe(`<${delivery!.id}@127.0.0.1>`)
})

test('the mailer down, then up: the email waits, is retried, and arrives once', async ({ request, owner }) => {
  const referral = await referralInReview(request)
  expect((await request.post(`${MAIL}/smtp/stop`)).status()).toBe(204)
  try {
    expect((await referral.decline('No capacity this season')).status()).toBe(200)
    await expect.poll(async () => (await deliveriesOf(owner, referral.id))[0]?.lastError ?? null, { timeout: 20_000 }).toBe('smtp_unreachable')
    expect(await caught(request, referral.reference)).toEqual([])
    expect((await deliveriesOf(owner, referral.id))[0]).toMatchObject({ status: 'pending', sentAt: null })
  } finally {
    expect((await request.post(`${MAIL}/smtp/start`)).status()).toBe(204)
  }
  // The backoff's first retry is 10 s away, the next cron run within 5 s of that.
  await expect.poll(async () => (await caught(request, referral.reference)).length, { timeout: 40_000 }).toBe(1)
  await new Promise((resolve) => setTimeout(resolve, 6_000))
  expect(await caught(request, referral.reference)).toHaveLength(1)
  const [delivery, ...more] = await deliveriesOf(owner, referral.id)
  expect(more).toEqual([])
  expect(delivery).toMatchObject({ status: 'sent', lastError: null })
  expect(delivery!.attempts).toBeGreaterThanOrEqual(2)
})

test('a referrer who turned declines off gets no email for one', async ({ request, owner }) => {
  const referrer = await userByEmail(owner, 'referrer@northside.test')
  const setOff = (off: ('declined' | 'accepted')[]) =>
    owner
      .insert(emailPreferences)
      .values({ clinicId: referrer.clinicId!, userId: referrer.id, off })
      .onConflictDoUpdate({ target: [emailPreferences.clinicId, emailPreferences.userId], set: { off } })
  await setOff(['declined'])
  try {
    const referral = await referralInReview(request)
    expect((await referral.decline('Not offered here')).status()).toBe(200)
    // The event is done (so the courier has seen it), and nothing was recorded or sent for it.
    await expect
      .poll(
        async () =>
          (await owner.execute<{ n: number }>(sql`select count(*)::int as n from outbox_events where referral_id = ${referral.id} and done_at is null`))
            .rows[0]!.n,
        { timeout: 20_000 },
      )
      .toBe(0)
    await new Promise((resolve) => setTimeout(resolve, 6_000))
    expect(await deliveriesOf(owner, referral.id)).toEqual([])
    expect(await caught(request, referral.reference)).toEqual([])
  } finally {
    await setOff([])
  }
})

test('the mail page lists what was caught, and says it never left the machine', async ({ page }) => {
  await page.goto(MAIL)
  await expect(page.getByRole('heading', { name: 'Caught mail' })).toBeVisible()
  await expect(page.getByText('Nothing here left this machine')).toBeVisible()
})

test("saving one's choices on the settings page is kept and recorded in the clinic's trail (the kinds turned off, as codes)", async ({ signedInAs, owner }) => {
  const account = 'referrer2@lakeview.test'
  const me = await userByEmail(owner, account)
  const page = await signedInAs(account, '/settings/notifications', { javaScriptEnabled: false })
  await page.getByLabel('A referral of mine is completed').uncheck()
  await page.getByRole('button', { name: 'Save' }).click()
  await expect(page.getByText('Saved.')).toBeVisible()
  await expect(page.getByLabel('A referral of mine is completed')).not.toBeChecked()
  const [saved] = await owner.select().from(emailPreferences).where(eq(emailPreferences.userId, me.id))
  expect(saved!.off).toEqual(['completed'])
  const [row] = await owner
    .select()
    .from(auditLogs)
    .where(and(eq(auditLogs.actorId, me.id), eq(auditLogs.action, 'notifications.settings')))
    .orderBy(desc(auditLogs.occurredAt))
    .limit(1)
  expect(row).toMatchObject({ clinicId: me.clinicId, entityType: 'user', entityId: me.id, details: { off: ['completed'] }, outcome: 'success' })
  // Back as it was.
  await page.getByLabel('A referral of mine is completed').check()
  await page.getByRole('button', { name: 'Save' }).click()
  await expect(page.getByText('Saved.')).toBeVisible()
  expect((await owner.select().from(emailPreferences).where(eq(emailPreferences.userId, me.id)))[0]!.off).toEqual([])
})
