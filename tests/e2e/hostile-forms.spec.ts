/**
 * Hostile form bodies and query values against every page form, as the role that may use it:
 * array indexes up to 1e9 in field names (conform would allocate and echo that many slots),
 * year 0 and 10000, U+0000, integers past PostgreSQL's `integer`, impossible calendar days.
 * Each must be a small 400 that says what was wrong, the app must answer right after, and
 * nothing may be written (no audit row for the request, no row in the form's table).
 */
import { randomUUID } from 'node:crypto'
import type { APIRequestContext } from '@playwright/test'
import { and, count, eq, sql } from 'drizzle-orm'
import { auditLogs, clinics, intakeForms, processingResults, referralEvents, referrals, users } from '../../app/db/schema'
import {
  APP_URL,
  bearer,
  cursor,
  expect,
  expectError,
  fillReferral,
  formEntries,
  go,
  referralBody,
  referralValues,
  test,
  token,
  uniquePatient,
  type Owner,
} from './fixtures'

const INDEXES = [1e3, 1e5, 1e7, 1e8, 1e9]
/**
 * A page with its own data is 30 to 80 KB (the audit viewer shows 50 rows), a JSON answer
 * a few hundred bytes; an echoed or rendered amplification is megabytes.
 */
const SMALL_PAGE = 128 * 1024
const SMALL_JSON = 64 * 1024
/** Every refusal of the form guard ends so; it never repeats what was sent. */
const REFUSED = 'Reload the page and try again.'
const INT32_PLUS_ONE = '2147483648'
const CLINIC = 'riverbend'
const [STAFF, REFERRER, ADMIN] = [`staff@${CLINIC}.test`, `referrer2@${CLINIC}.test`, `admin@${CLINIC}.test`]

type Answer = { status: number; size: number; text: string; requestId: string; setCookie: boolean }

/** The worker's owner connection, for this file's helpers: set before each test (below). */
let o: Owner

/**
 * This spec sends hundreds of requests a minute as its three users, while other specs sign in as
 * them too; the rate limit is rate-limit-page.spec.ts's subject, so their counts are forgotten.
 */
const forgetRequestCounts = () =>
  o.execute(sql`delete from rate_limits where key in (select 'user:' || id from users where email in (${STAFF}, ${REFERRER}, ${ADMIN}))`)

test.beforeEach(async ({ owner }) => {
  o = owner
  await forgetRequestCounts()
})

async function send(
  request: APIRequestContext,
  path: string,
  body?: string | Record<string, unknown>,
  method = body === undefined ? 'GET' : 'POST',
): Promise<Answer> {
  await forgetRequestCounts()
  const form = typeof body === 'string'
  const response = await request.fetch(path, {
    method,
    data: body,
    headers: { Origin: APP_URL, ...(form ? { 'Content-Type': 'application/x-www-form-urlencoded' } : {}) },
    maxRedirects: 0,
    timeout: 30_000,
  })
  const bytes = await response.body()
  return {
    status: response.status(),
    size: bytes.length,
    text: bytes.toString('utf8'),
    requestId: response.headers()['x-request-id'] ?? '',
    setCookie: 'set-cookie' in response.headers(),
  }
}

/**
 * What a request wrote, from the audit trail: every write is recorded in its transaction (and
 * PHI tables by trigger). The page shown after a refused post still reads, and records that.
 */
const READS = ['referral.read', 'referral.list']
const writtenBy = async (requestId: string) =>
  (await o.select({ action: auditLogs.action }).from(auditLogs).where(eq(auditLogs.requestId, requestId)))
    .map((r) => r.action)
    .filter((a) => !READS.includes(a))

/** A refusal: the status, small, saying `shows`, nothing written for the request, and the app still up. */
async function expectRefused(request: APIRequestContext, answer: Answer, label: string, shows?: string, status = 400) {
  expect(answer.status, `${label}: ${answer.text.slice(0, 300)}`).toBe(status)
  expect(answer.size, label).toBeLessThan(answer.text.startsWith('{') ? SMALL_JSON : SMALL_PAGE)
  if (shows) expect(answer.text, label).toContain(shows)
  expect(answer.requestId, label).not.toBe('')
  expect(await writtenBy(answer.requestId), `${label}: written`).toEqual([])
  expect((await request.get('/healthz', { timeout: 10_000 })).status(), `${label}: /healthz right after`).toBe(200)
}

const encode = (entries: Record<string, string>) => new URLSearchParams(entries).toString()
const clinicId = async () => (await o.select({ id: clinics.id }).from(clinics).where(eq(clinics.slug, CLINIC)))[0]!.id
const versionsOf = async () =>
  (
    await o
      .select({ n: count() })
      .from(intakeForms)
      .where(eq(intakeForms.clinicId, await clinicId()))
  )[0]!.n
const eventsOf = async (id: string) => (await o.select({ n: count() }).from(referralEvents).where(eq(referralEvents.referralId, id)))[0]!.n

/** A referral of this spec's own, sent through the API by the referrer. */
async function newReferral(request: APIRequestContext) {
  await forgetRequestCounts()
  const access = await token(REFERRER)
  const response = await request.post('/api/v1/referrals', {
    headers: { ...bearer(access), 'Idempotency-Key': randomUUID() },
    data: await referralBody(request, access),
  })
  expect(response.status()).toBe(201)
  return (await response.json()).data.id as string
}

test('a staff member’s forms (patient search, work on a referral, AI summaries) refuse indexes up to 1e9', async ({ signedInAs }) => {
  test.setTimeout(180_000)
  const page = await signedInAs(STAFF, '/queue')
  const id = await newReferral(page.request)
  const [events, version] = [await eventsOf(id), (await o.select().from(referrals).where(eq(referrals.id, id)))[0]!.version]
  for (const n of INDEXES) {
    await expectRefused(page.request, await send(page.request, '/queue', `healthCard[${n}]=x`), `/queue healthCard[${n}]`, REFUSED)
    await expectRefused(page.request, await send(page.request, `/referrals/${id}`, `intent=note&body[${n}]=x`), `note body[${n}]`, REFUSED)
    await expectRefused(
      page.request,
      await send(page.request, `/referrals/${id}`, `intent=status&to=in_review&version[${n}]=${version}`),
      `status version[${n}]`,
      REFUSED,
    )
    await expectRefused(
      page.request,
      await send(page.request, `/referrals/${id}`, `intent=assign&assignee[${n}]=x&version=${version}`),
      `assign assignee[${n}]`,
      REFUSED,
    )
    const summary = await send(page.request, `/referrals/${id}/summaries`, `intent=save&model=m&promptVersion=referral-v1&summary[${n}]=x&triage=t&missing=m`)
    await expectRefused(page.request, summary, `summaries summary[${n}]`, 'the request was incomplete')
    expect(JSON.parse(summary.text)).toMatchObject({ ok: false })
  }
  // The page says what was wrong, in the form.
  const shown = await send(page.request, '/queue', `healthCard[100000000]=x`)
  expect(shown.text).toContain('This form was sent with fields it does not have')
  expect(await eventsOf(id)).toBe(events)
  expect((await o.select().from(referrals).where(eq(referrals.id, id)))[0]!.version).toBe(version)
  expect(await o.select().from(processingResults).where(eq(processingResults.referralId, id))).toEqual([])
})

test('a referrer’s forms (new referral, reply) refuse indexes up to 1e9, and nothing is created', async ({ signedInAs }) => {
  test.setTimeout(180_000)
  const page = await signedInAs(REFERRER, '/my-referrals')
  const id = await newReferral(page.request)
  const events = await eventsOf(id)
  for (const n of INDEXES) {
    const key = randomUUID()
    await expectRefused(
      page.request,
      await send(page.request, '/referrals/new', `idempotencyKey=${key}&formVersion=1&patient_first_name[${n}]=x`),
      `new referral [${n}]`,
      REFUSED,
    )
    expect(await o.select().from(referrals).where(eq(referrals.idempotencyKey, key))).toEqual([])
    await expectRefused(page.request, await send(page.request, `/referrals/${id}`, `intent=reply&body[${n}]=x`), `reply body[${n}]`, REFUSED)
  }
  expect(await eventsOf(id)).toBe(events)
})

test('an admin’s forms (intake form editor, users, audit check) refuse indexes up to 1e9 and forged list buttons', async ({ signedInAs }) => {
  test.setTimeout(240_000)
  const page = await signedInAs(ADMIN, '/admin/intake-form')
  const editor = await page.locator('form#intake-form-editor').evaluate((el) => [...new FormData(el as HTMLFormElement)] as [string, string][])
  const published = Object.fromEntries(editor)
  const [versions, members] = [
    await versionsOf(),
    (
      await o
        .select({ n: count() })
        .from(users)
        .where(eq(users.clinicId, await clinicId()))
    )[0]!.n,
  ]
  const editorBody = (extra: string) => `${new URLSearchParams(editor)}&${extra}`
  for (const n of INDEXES) {
    // The 53-byte body of the report: sections[2000] alone rendered 5.3 MB.
    await expectRefused(
      page.request,
      await send(page.request, '/admin/intake-form', `baseVersion=${published.baseVersion}&sections[${n}].title=x`),
      `sections[${n}]`,
      REFUSED,
    )
    await expectRefused(
      page.request,
      await send(page.request, '/admin/intake-form', editorBody(`sections[0].fields[${n}].label=x&intent=publish`)),
      `fields[${n}]`,
      REFUSED,
    )
    const forged = JSON.stringify({ type: 'update', payload: { name: `sections[${n}]`, value: 'x' } })
    await expectRefused(
      page.request,
      await send(page.request, '/admin/intake-form', editorBody(`__intent__=${encodeURIComponent(forged)}`)),
      `update intent [${n}]`,
      REFUSED,
    )
    await expectRefused(
      page.request,
      await send(page.request, '/admin/users', `intent=invite&email[${n}]=x&displayName=Hostile&role=staff`),
      `invite email[${n}]`,
      REFUSED,
    )
    await expectRefused(page.request, await send(page.request, '/admin/users', `intent=role&userId[${n}]=x&role=staff`), `role userId[${n}]`, REFUSED)
    await expectRefused(page.request, await send(page.request, '/admin/audit', `intent[${n}]=verify`), `verify intent[${n}]`, REFUSED)
  }
  // An insert that carries 1,000 fields in one button press (the form holds 100).
  const many = JSON.stringify({ type: 'insert', payload: { name: 'sections', defaultValue: { title: '', fields: Array.from({ length: 1_000 }, () => ({})) } } })
  await expectRefused(
    page.request,
    await send(page.request, '/admin/intake-form', editorBody(`__intent__=${encodeURIComponent(many)}`)),
    'insert of 1,000 fields',
    REFUSED,
  )
  // 100 sections of 100 fields: every index within its list, 10,000 fields together.
  const wide = Array.from({ length: 100 }, (_, s) => `sections[${s}].fields[99].label=x`).join('&')
  await expectRefused(page.request, await send(page.request, '/admin/intake-form', `baseVersion=${published.baseVersion}&${wide}`), '100 x 100 fields', REFUSED)
  expect(await versionsOf()).toBe(versions)
  expect(
    (
      await o
        .select({ n: count() })
        .from(users)
        .where(eq(users.clinicId, await clinicId()))
    )[0]!.n,
  ).toBe(members)
  // The editor's own buttons still work without JavaScript: add a section.
  const add = JSON.stringify({
    type: 'insert',
    payload: { name: 'sections', defaultValue: { title: '', fields: [{ label: '', key: '', type: 'text', phi: 'on' }] } },
  })
  const added = await send(page.request, '/admin/intake-form', editorBody(`__intent__=${encodeURIComponent(add)}`))
  expect(added.status).toBe(200)
})

test('the superadmin’s clinic switch refuses indexes up to 1e9 and switches nothing', async ({ signedInAs }) => {
  const page = await signedInAs('superadmin@intakepilot.test', '/clinics')
  for (const n of INDEXES) {
    const answer = await send(page.request, '/clinics', `clinicId[${n}]=${await clinicId()}&reason=Checking+the+queue+counts`)
    await expectRefused(page.request, answer, `clinicId[${n}]`, REFUSED)
    expect(answer.setCookie, 'no new session cookie').toBe(false)
  }
})

const YEAR_0_CURSOR = cursor({ r: 0, t: '0000-01-01 00:00:00+00', id: randomUUID() })

test('year 0 and 10000 in filters and cursors: a page that says what it left out, or the API’s error; never a 500', async ({ signedInAs, request }) => {
  test.setTimeout(120_000)
  const staff = await signedInAs(STAFF, '/queue')
  for (const query of [
    'from=0000-01-01',
    'to=0000-01-01',
    'to=9999-12-31',
    'from=10000-01-01',
    'from=2026-02-30',
    `status=all&cursor=${YEAR_0_CURSOR}`,
    `sort=age&cursor=${YEAR_0_CURSOR}`,
  ]) {
    const answer = await send(staff.request, `/queue?${query}`)
    await expectRefused(staff.request, answer, `/queue?${query}`, 'could not be used and was left out')
  }
  const page = await go(staff, '/queue?from=0000-01-01')
  await expect(staff.getByRole('alert')).toContainText('Received from: enter a date on or after January 1, 1900')
  expect(page!.status()).toBe(400)
  await expect(staff.getByTestId('queue-row').first()).toBeVisible()

  const staffToken = bearer(await token(STAFF))
  for (const query of ['from=0000-01-01', 'to=9999-12-31', 'from=10000-01-01', `cursor=${YEAR_0_CURSOR}`]) {
    const body = await expectError(await request.get(`/api/v1/referrals?${query}`, { headers: staffToken }), 400, 'VALIDATION_ERROR')
    expect(JSON.stringify(body.details), query).toMatch(/from|to|cursor/)
  }
  const adminToken = bearer(await token(ADMIN))
  for (const query of ['from=0000-01-01', 'to=9999-12-31', 'to=10000-01-01']) {
    await expectError(await request.get(`/api/v1/audit-logs?${query}`, { headers: adminToken }), 400, 'VALIDATION_ERROR')
  }

  const admin = await signedInAs(ADMIN, '/admin/audit')
  for (const query of ['from=0000-01-01', 'to=9999-12-31', 'from=10000-01-01']) {
    const answer = await send(admin.request, `/admin/audit?${query}`)
    await expectRefused(admin.request, answer, `/admin/audit?${query}`, 'were ignored')
  }

  const referrer = await signedInAs(REFERRER, '/my-referrals')
  for (const before of [`0000-01-01 00:00:00+00,${randomUUID()}`, `10000-01-01 00:00:00+00,${randomUUID()}`, 'garbage']) {
    const answer = await send(referrer.request, `/my-referrals?before=${encodeURIComponent(before)}`)
    await expectRefused(referrer.request, answer, `before=${before}`, 'That page link was not one this list made')
  }
})

test('U+0000 in stored text, integers past 2^31 and impossible days: field errors, 400, nothing written', async ({ signedInAs, request }) => {
  test.setTimeout(180_000)
  const referrer = await signedInAs(REFERRER, '/referrals/new')
  await fillReferral(referrer, referralValues(uniquePatient()))
  const valid = await formEntries(referrer)
  const refer = async (change: Record<string, string>, label: string, shows: string, status = 400) => {
    const key = randomUUID()
    const answer = await send(referrer.request, '/referrals/new', encode({ ...valid, idempotencyKey: key, ...change }))
    await expectRefused(referrer.request, answer, label, shows, status)
    expect(await o.select().from(referrals).where(eq(referrals.idempotencyKey, key)), label).toEqual([])
  }
  await refer({ patient_first_name: 'Ann\u0000' }, 'NUL in a name', 'U+0000')
  await refer({ clinician_practice: 'Maple\u0000' }, 'NUL in a non-PHI field', 'U+0000')
  await refer({ formVersion: INT32_PLUS_ONE }, 'formVersion 2^31', 'The form is out of date')
  await refer({ patient_dob: '1961-02-31' }, 'February 31st', 'enter a real date')
  await refer({ patient_dob: '1900-02-29' }, '1900 was no leap year', 'enter a real date')
  await refer({ patient_dob: '0000-01-01' }, 'year 0', 'on or after January 1, 1900')
  await refer({ patient_dob: '10000-01-01' }, 'year 10000', 'enter a date as YYYY-MM-DD')
  await refer({ patient_dob: `${new Date().getUTCFullYear() + 1}-01-01` }, 'born next year', 'cannot be in the future')

  const staff = await signedInAs(STAFF, '/queue')
  const id = await newReferral(staff.request)
  const staffToken = bearer(await token(STAFF))
  expect((await request.patch(`/api/v1/referrals/${id}`, { headers: staffToken, data: { version: 1, status: 'accepted' } })).status()).toBe(200)
  const events = await eventsOf(id)
  const work = async (fields: Record<string, string>, label: string, shows: string) => {
    const answer = await send(staff.request, `/referrals/${id}`, encode(fields))
    await expectRefused(staff.request, answer, label, shows)
  }
  await work({ intent: 'note', body: 'Imaging\u0000' }, 'NUL in a note', 'U+0000')
  await work(
    { intent: 'status', to: 'scheduled', version: '2', scheduledFor: '2026-99-99' },
    'appointment on 2026-99-99',
    'Appointment date: enter a real date',
  )
  await work(
    { intent: 'status', to: 'scheduled', version: '2', scheduledFor: '2126-01-01' },
    'appointment in a century',
    'Appointment date: enter a date on or before',
  )
  await work({ intent: 'status', to: 'declined', version: INT32_PLUS_ONE, reason: 'x' }, 'version 2^31', 'Reload the page: this form is out of date')
  const summary = await send(
    staff.request,
    `/referrals/${id}/summaries`,
    encode({ intent: 'save', model: 'm', promptVersion: 'referral-v1', summary: 'S\u0000', triage: 't', missing: 'm' }),
  )
  await expectRefused(staff.request, summary, 'NUL in a summary', '"ok":false')
  const incomplete = await send(staff.request, `/referrals/${id}/summaries`, encode({ intent: 'save', model: 'm' }))
  await expectRefused(staff.request, incomplete, 'an incomplete summary', '"ok":false')
  expect(await eventsOf(id)).toBe(events)
  expect((await o.select().from(referrals).where(eq(referrals.id, id)))[0]!).toMatchObject({ status: 'accepted', version: 2 })
  expect(await o.select().from(processingResults).where(eq(processingResults.referralId, id))).toEqual([])

  // The API: the same rules, its error shape.
  expect(
    (
      await expectError(
        await request.post(`/api/v1/referrals/${id}/events`, { headers: staffToken, data: { type: 'note', body: 'a\u0000b' } }),
        400,
        'VALIDATION_ERROR',
      )
    ).details.fields,
  ).toHaveProperty('body')
  await expectError(
    await request.patch(`/api/v1/referrals/${id}`, { headers: staffToken, data: { version: 2 ** 31, status: 'declined' } }),
    400,
    'VALIDATION_ERROR',
  )
  const referrerToken = await token(REFERRER)
  const body = await referralBody(request, referrerToken)
  const post = (data: unknown) => request.post('/api/v1/referrals', { headers: { ...bearer(referrerToken), 'Idempotency-Key': randomUUID() }, data })
  await expectError(await post({ ...body, formVersion: 2 ** 31 }), 400, 'VALIDATION_ERROR')
  await expectError(await post({ ...body, data: { ...body.data, patient_last_name: 'Zed\u0000' } }), 400, 'VALIDATION_ERROR')
  await expectError(await post({ ...body, data: { ...body.data, patient_dob: '1961-02-31' } }), 400, 'VALIDATION_ERROR')
  expect(await eventsOf(id)).toBe(events)

  const admin = await signedInAs(ADMIN, '/admin/intake-form')
  const editor = await admin.locator('form#intake-form-editor').evaluate((el) => [...new FormData(el as HTMLFormElement)] as [string, string][])
  const versions = await versionsOf()
  const publish = async (change: Record<string, string>, label: string, shows: string) => {
    const fields = Object.fromEntries(editor)
    const answer = await send(admin.request, '/admin/intake-form', encode({ ...fields, ...change, intent: 'publish' }))
    await expectRefused(admin.request, answer, label, shows)
  }
  await publish({ 'sections[0].fields[0].label': 'First\u0000name' }, 'NUL in a label', 'U+0000')
  await publish({ baseVersion: INT32_PLUS_ONE }, 'baseVersion 2^31', 'Nothing was published')
  expect(await versionsOf()).toBe(versions)
  const email = `hostile-${randomUUID().slice(0, 8)}@riverbend.test`
  const invite = await send(admin.request, '/admin/users', encode({ intent: 'invite', email, displayName: 'Null\u0000Person', role: 'staff' }))
  await expectRefused(admin.request, invite, 'NUL in a name', 'U+0000')
  expect(
    await o
      .select()
      .from(users)
      .where(and(eq(users.email, email))),
  ).toEqual([])

  const superadmin = await signedInAs('superadmin@intakepilot.test', '/clinics')
  const sw = await send(superadmin.request, '/clinics', encode({ clinicId: await clinicId(), reason: 'Checking\u0000counts' }))
  await expectRefused(superadmin.request, sw, 'NUL in a switch reason', 'U+0000')
  expect(sw.setCookie).toBe(false)
})

test('the referral page shows each work form’s errors next to its field, with JavaScript or without', async ({ signedInAs }) => {
  for (const javaScriptEnabled of [true, false]) {
    const page = await signedInAs(STAFF, '/queue', { javaScriptEnabled })
    const id = await newReferral(page.request)
    await go(page, `/referrals/${id}`)
    const panel = page.getByRole('region', { name: 'Work this referral' })
    await panel.getByRole('button', { name: 'Add note' }).click()
    const note = panel.getByLabel('Internal note')
    await expect(note).toHaveAttribute('aria-invalid', 'true')
    await expect(panel.getByText('Write something first')).toBeVisible()
    await panel.getByRole('link', { name: 'Decline…' }).click()
    await panel.getByRole('button', { name: 'Decline referral' }).click()
    await expect(panel.getByLabel(/^Reason/)).toHaveAttribute('aria-invalid', 'true')
    await expect(panel.getByText('Give a reason: the referrer will see it.')).toBeVisible()
    expect((await o.select().from(referrals).where(eq(referrals.id, id)))[0]!.status).toBe('received')
    // And a good note still goes through, and the field is empty again.
    await panel.getByLabel('Internal note').fill('Checked the imaging')
    await panel.getByRole('button', { name: 'Add note' }).click()
    await expect(page.getByRole('status')).toHaveText('Note added.')
    await expect(panel.getByLabel('Internal note')).toHaveValue('')
  }
})
