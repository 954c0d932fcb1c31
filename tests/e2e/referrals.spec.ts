import type { Page } from '@playwright/test'
import { and, asc, count, eq, ne } from 'drizzle-orm'
import { referralEvents, referrals } from '../../app/db/schema'
import {
  auditFor,
  auditOfRequest,
  clinicBySlug,
  expect,
  fillReferral,
  formEntries,
  go,
  referralByReference,
  referralValues,
  SAME_ORIGIN,
  SESSION_COOKIE,
  settled,
  signInAgain,
  submitReferral,
  test,
  uniquePatient,
  userByEmail,
  type Owner,
} from './fixtures'

/*
 * Referrers submit, staff work, and what each of them (and an attacker) can see. Every test
 * makes its own patients, so tests can run in parallel on the shared demo database.
 */
const SEALED = { v: 1, kid: expect.any(String), iv: expect.any(String), ct: expect.any(String) }
const withKey = (owner: Owner, key: string) => owner.select().from(referrals).where(eq(referrals.idempotencyKey, key))
const requestId = (response: { headers(): Record<string, string> } | null) => response!.headers()['x-request-id']!

test('with JavaScript, a referrer sends the form and gets a reference number; the PHI is encrypted at rest', async ({ signedInAs, owner }) => {
  const patient = uniquePatient()
  const page = await signedInAs('referrer@northside.test', '/referrals/new')
  await expect(page).toHaveURL('/referrals/new')
  await fillReferral(page, referralValues(patient), { urgency: 'urgent' })
  await page.getByRole('button', { name: 'Send referral' }).click()
  await expect(page).toHaveURL(/\/my-referrals\?submitted=NOR-[0-9A-Z]{7}$/)
  await expect(page.getByRole('status')).toContainText('Referral sent.')
  const reference = (await page.getByTestId('reference-number').textContent())!
  await expect(page.getByRole('link', { name: `${patient.first} ${patient.last}` })).toBeVisible()

  const row = await referralByReference(owner, reference)
  const me = await userByEmail(owner, 'referrer@northside.test')
  expect(row).toMatchObject({ submittedBy: me.id, status: 'received', priority: 'urgent' })
  for (const field of ['patient_last_name', 'patient_first_name', 'patient_dob', 'health_card_number', 'reason']) {
    expect(row.formData[field], field).toEqual(SEALED)
  }
  const stored = JSON.stringify(row)
  for (const plain of [patient.last, patient.first, patient.card, patient.card.replace(/-/g, ''), patient.dob]) expect(stored).not.toContain(plain)
  expect(row.healthCardIndex).toMatch(/^[A-Za-z0-9+/]{43}=$/)
  expect(row.nameDobIndex).toMatch(/^[A-Za-z0-9+/]{43}=$/)
  // Positive control: non-PHI fields stay readable (for filters), so the check above has teeth.
  expect(row.formData.urgency).toBe('urgent')
  expect(row.formData.clinician_name).toBe('Dr. Amara Okafor')
})

test('without JavaScript, errors sit next to their fields, every value stays, nothing is created; corrected, it goes through', async ({
  signedInAs,
  owner,
}) => {
  // Riverbend's referrer submits only here, so their count is this test's to watch.
  const me = await userByEmail(owner, 'referrer@riverbend.test')
  const mine = async () => (await owner.select({ n: count() }).from(referrals).where(eq(referrals.submittedBy, me.id)))[0]!.n
  const before = await mine()
  const page = await signedInAs('referrer@riverbend.test', '/referrals/new', { javaScriptEnabled: false })
  await expect(page).toHaveURL('/referrals/new')
  const patient = uniquePatient()
  const typed = {
    ...referralValues(patient),
    patient_last_name: '',
    patient_dob: '',
    health_card_number: '',
    reason: '',
    patient_email: 'not-an-email',
    patient_phone: 'call me maybe',
  }
  const key = await page.locator('input[name=idempotencyKey]').inputValue()
  await fillReferral(page, typed, { urgency: 'emergent', consent: false })
  await page.getByRole('button', { name: 'Send referral' }).click()

  await expect(page).toHaveURL('/referrals/new')
  const errors: Record<string, string> = {
    patient_last_name: 'Last name is required',
    patient_dob: 'Date of birth',
    health_card_number: 'Health card / insurance number is required',
    reason: 'Reason for referral is required',
    patient_email: 'Email: enter a valid email address',
    patient_phone: 'Patient phone: enter a phone number',
    consent: 'Confirm that the patient consents',
  }
  for (const [name, message] of Object.entries(errors)) {
    const input = page.locator(`[name="${name}"]`)
    await expect(input, name).toHaveAttribute('aria-invalid', 'true')
    const ids = ((await input.getAttribute('aria-describedby')) ?? '').split(' ').filter(Boolean)
    await expect(page.locator(ids.map((id) => `[id="${id}"]`).join(',') || '#none').filter({ hasText: message }), name).toHaveCount(1)
  }
  // Positive control: fields that were fine carry no error.
  for (const name of ['patient_first_name', 'clinician_phone']) await expect(page.locator(`[name="${name}"]`)).not.toHaveAttribute('aria-invalid', 'true')
  for (const [name, value] of Object.entries(typed)) await expect(page.locator(`[name="${name}"]`), name).toHaveValue(value)
  await expect(page.locator('select[name=urgency]')).toHaveValue('emergent')
  await expect(page.locator('select[name=patient_sex]')).toHaveValue('Female')
  expect(await withKey(owner, key)).toHaveLength(0)
  expect(await mine()).toBe(before)

  await fillReferral(page, referralValues(patient), { urgency: 'emergent' })
  await page.getByRole('button', { name: 'Send referral' }).click()
  await expect(page).toHaveURL(/\/my-referrals\?submitted=RIV-/)
  const row = await referralByReference(owner, (await page.getByTestId('reference-number').textContent())!)
  expect(row).toMatchObject({ submittedBy: me.id, priority: 'emergent' })
  expect(await mine()).toBe(before + 1)
})

test('with JavaScript, the browser shows the same errors, when a field is left and on submit, and posts nothing', async ({ signedInAs }) => {
  const page = await signedInAs('referrer@northside.test', '/referrals/new')
  await expect(page).toHaveURL('/referrals/new')
  // The validation code is fetched after the page is up (until then the server validates).
  await page.waitForLoadState('networkidle')
  const posts: string[] = []
  page.on('request', (r) => void (r.method() === 'POST' && posts.push(r.url())))
  const field = (name: string) => page.locator(`[name="${name}"]`)
  const errorOf = async (name: string) => {
    const ids = ((await field(name).getAttribute('aria-describedby')) ?? '').split(' ').filter(Boolean)
    return page.locator(ids.map((id) => `[id="${id}"]`).join(',') || '#none')
  }

  await field('patient_email').fill('not-an-email')
  await field('patient_email').blur()
  await expect(field('patient_email')).toHaveAttribute('aria-invalid', 'true')
  await expect((await errorOf('patient_email')).filter({ hasText: 'Email: enter a valid email address' })).toHaveCount(1)
  // Only the field that was left: the others have not been touched yet.
  await expect(field('patient_last_name')).not.toHaveAttribute('aria-invalid', 'true')

  await page.getByRole('button', { name: 'Send referral' }).click()
  const errors: Record<string, string> = {
    patient_last_name: 'Last name is required',
    health_card_number: 'Health card / insurance number is required',
    reason: 'Reason for referral is required',
    patient_email: 'Email: enter a valid email address',
    consent: 'Confirm that the patient consents',
  }
  for (const [name, message] of Object.entries(errors)) {
    await expect(field(name), name).toHaveAttribute('aria-invalid', 'true')
    await expect((await errorOf(name)).filter({ hasText: message }), name).toHaveCount(1)
  }
  // Corrected, the error goes as they type.
  await field('patient_email').fill('ada@example.com')
  await expect(field('patient_email')).not.toHaveAttribute('aria-invalid', 'true')
  await expect(page).toHaveURL('/referrals/new')
  expect(posts).toEqual([])
})

test('when the session ends mid-form, sign-in brings back every value, and the resubmit creates exactly one referral', async ({ signedInAs, owner }) => {
  const page = await signedInAs('referrer@northside.test', '/referrals/new')
  await expect(page).toHaveURL('/referrals/new')
  const patient = uniquePatient()
  const values = referralValues(patient)
  await fillReferral(page, values, { urgency: 'urgent' })
  const key = await page.locator('input[name=idempotencyKey]').inputValue()

  await page.context().clearCookies({ name: SESSION_COOKIE })
  await page.getByRole('button', { name: 'Send referral' }).click()
  await expect(page).toHaveURL('/login?redirectTo=%2Freferrals%2Fnew&reason=expired')
  await expect(page.getByText('Your session has ended')).toBeVisible()
  expect(await withKey(owner, key)).toHaveLength(0)

  await signInAgain(page, 'referrer@northside.test')
  await expect(page).toHaveURL('/referrals/new')
  await expect(page.getByRole('status')).toContainText('Your session ended before the referral was sent')
  for (const [name, value] of Object.entries(values)) await expect(page.locator(`[name="${name}"]`), name).toHaveValue(value)
  await expect(page.locator('select[name=urgency]')).toHaveValue('urgent')
  await expect(page.locator('input[name=consent]')).toBeChecked()
  await expect(page.locator('input[name=idempotencyKey]')).toHaveValue(key)

  await page.getByRole('button', { name: 'Send referral' }).click()
  await expect(page).toHaveURL(/\/my-referrals\?submitted=/)
  const created = await withKey(owner, key)
  expect(created).toHaveLength(1)
  expect(created[0]!.referenceNumber).toBe(await page.getByTestId('reference-number').textContent())
  // The draft was used once: a new form starts empty.
  await go(page, '/referrals/new')
  await expect(page.locator('[name=patient_last_name]')).toHaveValue('')
  await expect(page.getByText('Your session ended')).toHaveCount(0)
})

test('the same form submitted twice (double click, replay) creates exactly one referral', async ({ signedInAs, owner }) => {
  const page = await signedInAs('referrer@northside.test', '/referrals/new')
  await expect(page).toHaveURL('/referrals/new')
  await fillReferral(page, referralValues(uniquePatient()))
  const entries = await formEntries(page)
  // Two posts of the very same form at once (what a double click does without JavaScript)...
  const answers = await Promise.all([0, 1].map(() => page.request.post('/referrals/new', { form: entries, headers: SAME_ORIGIN, maxRedirects: 0 })))
  expect(answers.map((a) => a.status())).toEqual([302, 302])
  const location = answers[0]!.headers().location!
  expect(answers[1]!.headers().location).toBe(location)
  // ...and then the button itself: the same referral, the same reference number.
  await page.getByRole('button', { name: 'Send referral' }).click()
  await expect(page).toHaveURL(location)
  expect(await withKey(owner, entries.idempotencyKey!)).toHaveLength(1)
})

test('a second referral for the same patient is flagged for staff and linked both ways; the referrer sees none of it', async ({ signedInAs, owner }) => {
  test.slow() // three people sign in
  const referrer = await signedInAs('referrer@northside.test')
  const patient = uniquePatient()
  const firstRef = await submitReferral(referrer, patient)
  // The same card, written another way, for a patient entered with another name.
  const secondRef = await submitReferral(referrer, { ...uniquePatient(), card: patient.card.toLowerCase().replace(/-/g, ' ') })
  const [first, second] = [await referralByReference(owner, firstRef), await referralByReference(owner, secondRef)]
  expect(second.possibleDuplicateOf).toBe(first.id)
  expect(first.possibleDuplicateOf).toBeNull()

  await expect(referrer.getByRole('list').getByText(secondRef)).toBeVisible()
  await expect(referrer.getByText(/duplicate/i)).toHaveCount(0)
  for (const row of [first, second]) {
    await go(referrer, `/referrals/${row.id}`)
    await expect(referrer.getByText(row.referenceNumber)).toBeVisible()
    await expect(referrer.getByText(/duplicate/i)).toHaveCount(0)
    // Not even in the page's data: nothing links one to the other.
    const other = row === first ? second : first
    expect(await referrer.content()).not.toContain(other.id)
  }

  const staff = await signedInAs('staff@northside.test', `/queue?ref=${secondRef}`)
  await expect(staff.getByTestId('queue-row')).toHaveCount(1)
  await expect(staff.getByTestId('queue-row')).toContainText('Possible duplicate')
  await go(staff, `/queue?ref=${firstRef}`)
  await expect(staff.getByTestId('queue-row')).toHaveCount(1)
  await expect(staff.getByTestId('queue-row')).not.toContainText('Possible duplicate')

  await go(staff, `/referrals/${second.id}`)
  await expect(staff.getByText('Possible duplicate', { exact: true })).toBeVisible()
  await staff.getByTestId('duplicates').getByRole('link', { name: firstRef }).click()
  await expect(staff).toHaveURL(`/referrals/${first.id}`)
  await expect(staff.getByText('Possible duplicate', { exact: true })).toBeVisible()
  await expect(staff.getByTestId('duplicates').getByRole('link', { name: secondRef })).toHaveAttribute('href', `/referrals/${second.id}`)
})

test("a referrer cannot open another referrer's or another clinic's referral, nor the queue; denials are audited", async ({ signedInAs, owner }) => {
  const [me, colleague, lakeview] = [
    await userByEmail(owner, 'referrer@northside.test'),
    await userByEmail(owner, 'referrer2@northside.test'),
    await clinicBySlug(owner, 'lakeview'),
  ]
  const oneOf = async (where: ReturnType<typeof eq>) => (await owner.select().from(referrals).where(where).orderBy(asc(referrals.receivedAt)).limit(1))[0]!
  const [theirs, foreign, own] = [
    await oneOf(eq(referrals.submittedBy, colleague.id)),
    await oneOf(eq(referrals.clinicId, lakeview.id)),
    await oneOf(eq(referrals.submittedBy, me.id)),
  ]
  const page = await signedInAs('referrer@northside.test')
  await expect(page).toHaveURL('/my-referrals')

  for (const target of [theirs, foreign]) {
    const response = await go(page, `/referrals/${target.id}`)
    expect(response!.status()).toBe(404)
    await expect(page.getByRole('heading', { name: 'Not found' })).toBeVisible()
    await expect(page.getByText(target.referenceNumber)).toHaveCount(0)
    const audit = await auditOfRequest(owner, requestId(response))
    expect(audit).toEqual([expect.objectContaining({ action: 'referral.read', entityId: target.id, outcome: 'denied', actorId: me.id })])
  }
  // Positive control: their own referral opens, audited as a success.
  const opened = await go(page, `/referrals/${own.id}`)
  expect(opened!.status()).toBe(200)
  await expect(page.getByText(own.referenceNumber)).toBeVisible()
  expect(await auditOfRequest(owner, requestId(opened))).toEqual([expect.objectContaining({ action: 'referral.read', entityId: own.id, outcome: 'success' })])

  const queue = await go(page, '/queue')
  expect(queue!.status()).toBe(403)
  await expect(page.getByRole('heading', { name: 'Not allowed' })).toBeVisible()
  expect((await page.request.post('/queue', { form: { healthCard: '1234' }, headers: SAME_ORIGIN, maxRedirects: 0 })).status()).toBe(403)
  // Nor can they work a referral, even their own.
  expect(
    (
      await page.request.post(`/referrals/${own.id}`, { form: { intent: 'status', to: 'accepted', version: String(own.version) }, headers: SAME_ORIGIN })
    ).status(),
  ).toBe(403)
  expect(
    await owner
      .select()
      .from(referrals)
      .where(and(eq(referrals.id, own.id), ne(referrals.status, own.status))),
  ).toHaveLength(0)
})

async function work(page: Page, action: () => Promise<void>, message: string) {
  await action()
  await expect(page.getByRole('status')).toHaveText(message)
}

test('staff triage, assign, note and ask; the referrer sees the question (never the note) and replies; bodies are encrypted', async ({ signedInAs, owner }) => {
  test.slow() // three people sign in
  const referrer = await signedInAs('referrer@northside.test')
  const reference = await submitReferral(referrer, uniquePatient())
  const { id } = await referralByReference(owner, reference)
  expect((await referralByReference(owner, reference)).triagedAt).toBeNull()
  const [NOTE, QUESTION, REPLY] = [
    `Internal: check imaging ${id.slice(0, 8)}`,
    `Could you send the X-ray report? ${id.slice(0, 8)}`,
    `Attached to the chart today ${id.slice(0, 8)}`,
  ]

  const staff = await signedInAs('staff@northside.test', `/referrals/${id}`)
  const panel = staff.getByRole('region', { name: 'Work this referral' })
  const history = staff.getByRole('region', { name: 'History' })
  await work(staff, () => panel.getByRole('button', { name: 'Start review' }).click(), 'Status changed to In review.')
  await expect(history.getByText('Status: New → In review')).toBeVisible()
  expect((await referralByReference(owner, reference)).triagedAt).not.toBeNull()

  const staffUser = await userByEmail(owner, 'staff@northside.test')
  await panel.getByLabel('Assigned to').selectOption({ label: staffUser.displayName })
  await work(staff, () => panel.getByRole('button', { name: 'Assign', exact: true }).click(), 'Assigned.')
  await expect(history.getByText(`Assigned to ${staffUser.displayName}`)).toBeVisible()
  expect((await referralByReference(owner, reference)).assignedTo).toBe(staffUser.id)

  await panel.getByLabel('Internal note').fill(NOTE)
  await work(staff, () => panel.getByRole('button', { name: 'Add note' }).click(), 'Note added.')
  await expect(history.getByText(NOTE)).toBeVisible()
  await panel.getByLabel('Ask the referrer').fill(QUESTION)
  await work(staff, () => panel.getByRole('button', { name: 'Send question' }).click(), 'Question sent to the referrer.')
  await expect(staff.getByRole('main').getByText('Waiting on referrer').first()).toBeVisible()
  expect((await referralByReference(owner, reference)).status).toBe('info_requested')

  // The referrer: the question on their list and on the referral; the note nowhere.
  await go(referrer, '/my-referrals')
  const item = referrer.getByRole('listitem').filter({ hasText: reference })
  await item.getByRole('link', { name: 'The clinic asked a question' }).click()
  await expect(referrer).toHaveURL(`/referrals/${id}`)
  const messages = referrer.getByRole('region', { name: 'Messages' })
  await expect(messages.getByText(QUESTION)).toBeVisible()
  expect(await referrer.content()).not.toContain(NOTE)
  await messages.getByLabel('Reply to the clinic').fill(REPLY)
  await work(referrer, () => messages.getByRole('button', { name: 'Send reply' }).click(), 'Reply sent.')
  await expect(messages.getByText(REPLY)).toBeVisible()
  await go(referrer, '/my-referrals')
  await expect(referrer.getByRole('listitem').filter({ hasText: reference }).getByText('The clinic asked a question')).toHaveCount(0)

  await settled(staff).then(() => staff.reload())
  await expect(history.getByTestId('event-reply')).toContainText(REPLY)
  await expect(history.getByTestId('event-reply')).toContainText('Reply from the referrer')

  // At rest: every note and message body is an encrypted value with no plaintext in the row.
  const events = await owner.select().from(referralEvents).where(eq(referralEvents.referralId, id))
  const bodies = events.filter((e) => ['note', 'message', 'reply'].includes(e.type))
  expect(bodies.map((e) => e.type).sort()).toEqual(['message', 'note', 'reply'])
  for (const event of bodies) {
    expect(event.body).toEqual(SEALED)
    for (const plain of [NOTE, QUESTION, REPLY]) expect(JSON.stringify(event)).not.toContain(plain)
  }
  expect(bodies.find((e) => e.type === 'note')!.visibleToReferrer).toBe(false)
})

test('two staff on the same referral: the second change is refused with 409 and changes nothing', async ({ signedInAs, owner }) => {
  test.slow() // three people sign in
  const referrer = await signedInAs('referrer@northside.test')
  const { id, version } = await referralByReference(owner, await submitReferral(referrer, uniquePatient()))
  const [first, second] = [await signedInAs('staff@northside.test', `/referrals/${id}`), await signedInAs('admin@northside.test', `/referrals/${id}`)]

  await work(first, () => first.getByRole('button', { name: 'Start review' }).click(), 'Status changed to In review.')
  await second.getByRole('link', { name: 'Decline…' }).click()
  await second.getByLabel(/^Reason/).fill('Outside our catchment area')
  await second.getByLabel('Kind of reason').selectOption('outside_scope')
  const answer = second.waitForResponse((r) => r.request().method() === 'POST' && r.url().includes(`/referrals/${id}`))
  await second.getByRole('button', { name: 'Decline referral' }).click()
  expect((await answer).status()).toBe(409)
  await expect(second.getByRole('alert')).toContainText('Someone else changed this referral while you were looking at it')

  const [row] = await owner.select().from(referrals).where(eq(referrals.id, id))
  expect(row).toMatchObject({ status: 'in_review', version: version + 1 })
  const statusEvents = await owner
    .select()
    .from(referralEvents)
    .where(and(eq(referralEvents.referralId, id), eq(referralEvents.type, 'status')))
  expect(statusEvents.map((e) => e.data)).toEqual([{ from: 'received', to: 'in_review' }])
  // As the message promises, the page now shows the latest, so a second try works from there.
  await expect(second.locator('input[name=version]').first()).toHaveValue(String(version + 1))
  // The decline form stays open on the latest version, for the second try.
  await second.getByLabel(/^Reason/).fill('Outside our catchment area')
  await second.getByLabel('Kind of reason').selectOption('outside_scope')
  await work(second, () => second.getByRole('button', { name: 'Decline referral' }).click(), 'Status changed to Declined.')
  expect((await referralByReference(owner, row!.referenceNumber)).status).toBe('declined')
})

test('every open of a referral writes one referral.read row; the queue writes referral.list naming the ids shown', async ({ signedInAs, owner }) => {
  const page = await signedInAs('staff@riverbend.test')
  await expect(page).toHaveURL('/queue')
  const listed = await go(page, '/queue?status=all&sort=age')
  const shown = await page
    .getByTestId('queue-row')
    .getByRole('link')
    .evaluateAll((links) => links.map((a) => a.getAttribute('href')!.split('/').pop()!))
  expect(shown).toHaveLength(25)
  const lists = (await auditOfRequest(owner, requestId(listed))).filter((r) => r.action === 'referral.list')
  expect(lists).toHaveLength(1)
  expect(lists[0]!.details).toMatchObject({ ids: shown })

  const id = shown[3]!
  const before = (await auditFor(owner, 'referral.read', id)).length
  // In-app navigation (one data request) and a full page load: one row each, no more.
  const data = page.waitForResponse((r) => r.url().includes(`/referrals/${id}`) && r.request().method() === 'GET')
  await page.getByTestId('queue-row').nth(3).getByRole('link').click()
  await expect(page).toHaveURL(`/referrals/${id}`)
  expect((await auditOfRequest(owner, requestId(await data))).filter((r) => r.action === 'referral.read')).toHaveLength(1)
  const reloaded = await settled(page).then(() => page.reload())
  expect((await auditOfRequest(owner, requestId(reloaded))).map((r) => [r.action, r.entityId])).toEqual([['referral.read', id]])
  expect(await auditFor(owner, 'referral.read', id)).toHaveLength(before + 2)
})

test('a hand-edited "Older referrals" link never fails: a bad cursor shows the first page, says so, and answers 400', async ({ signedInAs }) => {
  const page = await signedInAs('referrer@lakeview.test')
  await expect(page).toHaveURL('/my-referrals')
  const firstPage = await page.getByRole('listitem').allTextContents()
  // Positive control: the real link pages on.
  await page.getByRole('link', { name: 'Older referrals' }).click()
  await expect(page).toHaveURL(/\/my-referrals\?before=/)
  await expect(page.getByRole('listitem').first()).not.toHaveText(firstPage[0]!)

  const id = '7f1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d'
  const outcomes: Record<string, number> = {}
  for (const before of ['garbage', `yesterday,${id}`, `2026-02-30 00:00:00+00,${id}`, `2026-01-01 00:00:00+00,${'-'.repeat(36)}`]) {
    outcomes[before] = (await go(page, `/my-referrals?before=${encodeURIComponent(before)}`))!.status()
    await expect(page.getByRole('alert'), before).toHaveText('That page link was not one this list made: showing your newest referrals.')
    expect(await page.getByRole('listitem').allTextContents(), before).toEqual(firstPage)
  }
  expect(outcomes).toEqual(Object.fromEntries(Object.keys(outcomes).map((k) => [k, 400])))
})
