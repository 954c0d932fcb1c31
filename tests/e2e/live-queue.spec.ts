import type { BrowserContext, Page } from '@playwright/test'
import WebSocket from 'ws'
import { referralValues, type Patient } from './fixtures'
import { RENEW } from '../../app/live/messages'
import { APP_URL, bearer, E2E, expect, go, referralByReference, SESSION_COOKIE, submitReferral, test, token, uniquePatient, userByEmail } from './fixtures'

/*
 * The live queue (docs/decisions/045-live-queue.md), through the whole path: a change commits, its
 * outbox event is claimed by the courier in workerd, the live channel hands it to the clinic's
 * Durable Object, which tells that clinic's open pages over their hibernatable sockets; the page
 * fetches what it shows through its loader. Nothing is mocked: two real browsers, the real app.
 */

/** The queue's socket is open (the page says so on its live region). */
const liveOn = (page: Page, testId = 'live-queue') => expect(page.getByTestId(testId)).toHaveAttribute('data-live', 'open')

/** Every text frame the page's sockets receive. */
function framesOf(page: Page) {
  const frames: string[] = []
  page.on('websocket', (socket) => socket.on('framereceived', ({ payload }) => frames.push(String(payload))))
  return frames
}

/** What a frame may hold: these keys only, each of its shape (ids, statuses, staff names for presence). */
function expectOnlyIdsAndStatuses(frames: string[]) {
  for (const frame of frames) {
    if (frame === 'pong') continue
    const m = JSON.parse(frame) as Record<string, unknown>
    if (m.type === 'presence') {
      expect(Object.keys(m).sort()).toEqual(['people', 'referralId', 'type'])
      continue
    }
    expect(Object.keys(m).sort()).toEqual(['id', 'priority', 'referralId', 'status', 'topic', 'type'])
    expect(m).toMatchObject({ type: 'change', id: expect.any(Number), referralId: expect.stringMatching(/^[0-9a-f-]{36}$/) })
  }
}

/** Nothing the referrer typed about the patient, in any form, is in any frame. */
function expectNoPhi(frames: string[], patient: Patient) {
  const all = frames.join('\n').toLowerCase()
  const values = Object.values(referralValues(patient)).filter((v) => v.length > 3)
  for (const value of [...values, patient.card.replace(/\D/g, ''), patient.dob]) expect(all).not.toContain(value.toLowerCase())
}

async function sessionCookie(context: BrowserContext) {
  const cookie = (await context.cookies(APP_URL)).find((c) => c.name === SESSION_COOKIE)
  expect(cookie, 'signed in').toBeDefined()
  return `${cookie!.name}=${cookie!.value}`
}

type Opened = { status: number; body: string } | { socket: WebSocket }
/** A WebSocket handshake to /live from outside a browser: what the app answers, or the open socket. */
function openSocket(headers: Record<string, string>, query = ''): Promise<Opened> {
  const url = `${APP_URL.replace(/^http/, 'ws')}/live${query}`
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { headers })
    socket.once('open', () => resolve({ socket }))
    socket.once('unexpected-response', (_request, response) => {
      let body = ''
      response.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')))
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }))
    })
    socket.once('error', reject)
  })
}

test('a referral sent in one browser shows on another’s open queue without a reload, and a changed row updates in place', async ({
  signedInAs,
  owner,
  request,
}) => {
  const staff = await signedInAs('staff@northside.test', '/queue')
  const frames = framesOf(staff)
  // Opened again with the listener on, so that every frame of its socket is seen.
  await go(staff, '/queue')
  await liveOn(staff)
  await staff.evaluate(() => ((window as unknown as { stayed: boolean }).stayed = true))

  const referrer = await signedInAs('referrer@northside.test', '/my-referrals')
  const patient = uniquePatient()
  const reference = await submitReferral(referrer, patient, { urgency: 'urgent' })
  const sent = Date.now()
  const notice = staff.getByRole('button', { name: /^\d+ new referrals?, show them$/ })
  await expect(notice).toBeVisible()
  const heardAfterMs = Date.now() - sent
  console.log(`[live queue] the new referral was on the open queue ${heardAfterMs} ms after the referrer's page answered`)
  expect(heardAfterMs, 'within about 2 seconds').toBeLessThan(2_500)

  const referral = await referralByReference(owner, reference)
  const row = staff.getByTestId('queue-row').filter({ has: staff.locator(`a[href="/referrals/${referral.id}"]`) })
  await expect(row).toHaveCount(0)
  await notice.click()
  await expect(row).toContainText(patient.last)
  await expect(row).toContainText('New')
  await expect(notice).toBeHidden()

  // Someone else moves it (over the API): the row shows its new status, no reload.
  const moved = await request.patch(`/api/v1/referrals/${referral.id}`, {
    headers: bearer(await token('admin@northside.test')),
    data: { status: 'in_review', version: referral.version },
  })
  expect(moved.status(), await moved.text()).toBe(200)
  await expect(row).toContainText('In review')
  expect(await staff.evaluate(() => (window as unknown as { stayed?: boolean }).stayed)).toBe(true)

  expect(frames.some((f) => f.includes(referral.id))).toBe(true)
  expectOnlyIdsAndStatuses(frames)
  expectNoPhi(frames, patient)
})

test('a change heard while a patient search shows its results brings the queue’s rows behind them, and leaves the results', async ({
  signedInAs,
  owner,
  request,
}) => {
  const referrer = await signedInAs('referrer@northside.test', '/my-referrals')
  const patient = uniquePatient()
  const referral = await referralByReference(owner, await submitReferral(referrer, patient))
  const staff = await signedInAs('staff@northside.test', '/queue')
  await liveOn(staff)
  const search = staff.getByRole('form', { name: 'Find a patient' })
  await search.getByLabel('Health card').fill(patient.card)
  await search.getByRole('button', { name: 'Search patients' }).click()
  const found = staff.getByRole('status').filter({ hasText: '1 referral for this patient' })
  await expect(found).toBeVisible()

  // The referral is also a row of the page's queue behind the results: its change brings those rows.
  const fetched = staff.waitForResponse((r) => new URL(r.url()).pathname === '/queue.data' && r.request().method() === 'GET')
  const moved = await request.patch(`/api/v1/referrals/${referral.id}`, {
    headers: bearer(await token('admin@northside.test')),
    data: { status: 'in_review', version: referral.version },
  })
  expect(moved.status(), await moved.text()).toBe(200)
  expect((await fetched).status()).toBe(200)
  // Time for the page to render what came back (a revalidation would have cleared the results by then).
  await staff.waitForTimeout(500)
  await expect(found).toBeVisible()
  // The rows shown are still the search's: what it found when it was sent.
  await expect(staff.getByTestId('queue-row')).toHaveCount(1)
  await expect(staff.getByTestId('queue-row')).toContainText(patient.last)
})

test('a row that leaves the queue while it has the focus hands it to the row that takes its place; focus elsewhere stays there', async ({
  signedInAs,
  owner,
  request,
}) => {
  const referrer = await signedInAs('referrer@northside.test', '/my-referrals')
  const sent: { id: string; version: number }[] = []
  for (let i = 0; i < 3; i++) sent.push(await referralByReference(owner, await submitReferral(referrer, uniquePatient())))
  const staff = await signedInAs('staff@northside.test', '/queue?status=received')
  await liveOn(staff)
  const link = (id: string) => staff.locator(`[data-testid="queue-row"] a[data-row-link][href="/referrals/${id}"]`)
  const focusedRow = () =>
    staff.evaluate(() => {
      const links = [...document.querySelectorAll('[data-testid="queue-row"] [data-row-link]')]
      return { index: links.indexOf(document.activeElement!), href: document.activeElement?.getAttribute('href') ?? null }
    })
  const move = async (referral: { id: string; version: number }) => {
    const moved = await request.patch(`/api/v1/referrals/${referral.id}`, {
      headers: bearer(await token('admin@northside.test')),
      data: { status: 'in_review', version: referral.version },
    })
    expect(moved.status(), await moved.text()).toBe(200)
  }

  // A keyboard user is on one of them; someone else takes it into review, and the row leaves the view.
  const [mine, other] = [sent[0]!, sent[1]!]
  await link(mine.id).focus()
  const at = (await focusedRow()).index
  expect(at).toBeGreaterThanOrEqual(0)
  await move(mine)
  await expect(link(mine.id)).toHaveCount(0)
  // The focus is on the row link now in its place, not lost to the page: j goes on from there.
  await expect.poll(async () => (await focusedRow()).index).toBe(at)
  const inPlace = (await focusedRow()).href
  expect(inPlace).toMatch(/^\/referrals\//)
  await staff.keyboard.press('j')
  await expect.poll(async () => (await focusedRow()).index).toBe(at + 1)

  // Focus the user put elsewhere is theirs: a row that leaves does not take it back.
  const name = staff.getByLabel('Name for this view')
  await name.focus()
  await move(other)
  await expect(link(other.id)).toHaveCount(0)
  await staff.waitForTimeout(300)
  await expect(name).toBeFocused()
})

test('another clinic’s open queue hears nothing of it', async ({ signedInAs, owner }) => {
  const northside = await signedInAs('staff@northside.test', '/queue')
  const lakeview = await signedInAs('staff@lakeview.test', '/queue')
  const heard = { northside: framesOf(northside), lakeview: framesOf(lakeview) }
  await go(northside, '/queue')
  await go(lakeview, '/queue')
  await Promise.all([liveOn(northside), liveOn(lakeview)])

  const referrer = await signedInAs('referrer@northside.test', '/my-referrals')
  const referral = await referralByReference(owner, await submitReferral(referrer, uniquePatient()))
  // Northside's page is told (so the event went out); Lakeview's, open all along, is not.
  await expect.poll(() => heard.northside.some((f) => f.includes(referral.id))).toBe(true)
  await lakeview.waitForTimeout(500)
  expect(heard.lakeview.filter((f) => f.includes(referral.id))).toEqual([])
  expect(heard.lakeview.filter((f) => f.includes(referral.clinicId))).toEqual([])
})

test('only a signed-in staff member of the clinic, from the app’s own pages, opens the socket', async ({ signedInAs }) => {
  const own = { Origin: APP_URL }
  const staff = await sessionCookie((await signedInAs('staff@northside.test', '/queue')).context())
  const referrer = await sessionCookie((await signedInAs('referrer@northside.test', '/my-referrals')).context())

  expect(await openSocket(own)).toMatchObject({ status: 401, body: expect.stringContaining('Sign in') })
  expect(await openSocket({ ...own, Cookie: referrer })).toMatchObject({ status: 403, body: expect.stringContaining('staff') })
  // Another site's page, with the staff member's cookie (cross-site WebSocket hijacking), or no Origin at all.
  expect(await openSocket({ Origin: 'https://evil.example', Cookie: staff })).toMatchObject({ status: 403 })
  expect(await openSocket({ Cookie: staff })).toMatchObject({ status: 403 })
  expect(await openSocket({ ...own, Cookie: staff }, '?referral=..%2F..%2Fsocket')).toMatchObject({ status: 400 })
  const plain = await fetch(`${APP_URL}/live`, { headers: { ...own, Cookie: staff } })
  expect(plain.status).toBe(426)
  expect(await plain.text()).toContain('WebSocket')

  // The same staff member, from the app's origin: open (so the refusals above are the checks, not a broken socket).
  const opened = await openSocket({ ...own, Cookie: staff })
  expect(opened).toHaveProperty('socket')
  const socket = (opened as { socket: WebSocket }).socket
  // The socket only listens: anything but the keep-alive closes it.
  const pong = new Promise<string>((resolve) => socket.once('message', (data) => resolve(String(data))))
  socket.send('ping')
  expect(await pong).toBe('pong')
  const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)))
  socket.send(JSON.stringify({ type: 'change', id: 1, topic: 'referral.created', referralId: '00000000-0000-4000-8000-000000000000' }))
  expect(await closed).toBe(1008)
})

test('a referral page shows who else of the clinic has it open, and no one of another clinic', async ({ signedInAs, owner }) => {
  const referrer = await signedInAs('referrer@northside.test', '/my-referrals')
  const referral = await referralByReference(owner, await submitReferral(referrer, uniquePatient()))
  const path = `/referrals/${referral.id}`
  const staff = await signedInAs('staff@northside.test', path)
  const frames = framesOf(staff)
  await go(staff, path)
  await liveOn(staff, 'others-viewing')
  const viewing = staff.getByTestId('others-viewing')
  await expect(viewing).toBeEmpty()

  // Lakeview's staff member, asking Lakeview's object about Northside's referral: they join their own clinic's object only.
  const stranger = await sessionCookie((await signedInAs('staff@lakeview.test', '/queue')).context())
  const outside = await openSocket({ Origin: APP_URL, Cookie: stranger }, `?referral=${referral.id}`)
  expect(outside).toHaveProperty('socket')

  const admin = await signedInAs('admin@northside.test', path)
  await liveOn(admin, 'others-viewing')
  const [staffName, adminName, strangerName] = await Promise.all(
    ['staff@northside.test', 'admin@northside.test', 'staff@lakeview.test'].map(async (e) => (await userByEmail(owner, e)).displayName),
  )
  await expect(viewing).toHaveText(`Also open now by ${adminName}.`)
  await expect(admin.getByTestId('others-viewing')).toHaveText(`Also open now by ${staffName}.`)
  expect(frames.join()).not.toContain(strangerName!)

  // The admin goes back to the queue: they no longer have it open.
  await go(admin, '/queue')
  await expect(viewing).toBeEmpty()
  ;(outside as { socket: WebSocket }).socket.close()
  expectOnlyIdsAndStatuses(frames)
})

test('without JavaScript the queue is the plain page, with no socket', async ({ signedInAs }) => {
  const page = await signedInAs('staff@northside.test', '/queue', { javaScriptEnabled: false })
  let sockets = 0
  page.on('websocket', () => sockets++)
  await go(page, '/queue')
  await expect(page.getByTestId('queue-row').first()).toBeVisible()
  await expect(page.getByTestId('live-queue')).toBeEmpty()
  await expect(page.getByTestId('live-queue')).toHaveAttribute('data-live', 'off')
  expect(sockets).toBe(0)
})

test('a socket past its age is closed with RENEW and opened again through the app: still live for staff, refused once signed out', async ({
  signedInAs,
  owner,
}) => {
  // The e2e stack renews sockets after E2E.liveSocketMaxAgeSeconds (playwright.config.ts), not 10 minutes.
  const maxAgeMs = E2E.liveSocketMaxAgeSeconds * 1000
  test.setTimeout(maxAgeMs * 2 + 60_000)
  const own = { Origin: APP_URL }

  // A browser's open queue: its socket is closed at its age, and the page opens another at once.
  const staff = await signedInAs('staff@lakeview.test', '/queue')
  const sockets: { url: string; closed: boolean }[] = []
  staff.on('websocket', (socket) => {
    const entry = { url: socket.url(), closed: false }
    sockets.push(entry)
    socket.on('close', () => (entry.closed = true))
  })
  await go(staff, '/queue')
  await liveOn(staff)

  // Outside a browser, a second staff session's socket: what code it is closed with, and when.
  const leaving = await signedInAs('staff@lakeview.test', '/queue')
  const leavingCookie = await sessionCookie(leaving.context())
  const opened = await openSocket({ ...own, Cookie: leavingCookie })
  expect(opened).toHaveProperty('socket')
  const openedAt = Date.now()
  const closedWith = new Promise<number>((resolve) => (opened as { socket: WebSocket }).socket.once('close', (code) => resolve(code)))
  // That session signs out meanwhile (the app's session ends at the first button): its open socket
  // only listens, but its renewal with the same cookie must be refused.
  await leaving.getByRole('button', { name: 'Sign out' }).click()
  await expect(leaving).toHaveURL(/\/session\/end/)
  await leaving.close()

  expect(await closedWith).toBe(RENEW)
  expect(Date.now() - openedAt, 'closed at its age, not before').toBeGreaterThan(maxAgeMs - 5_000)
  expect(await openSocket({ ...own, Cookie: leavingCookie })).toMatchObject({ status: 401 })

  // The browser's page was renewed too: its first socket closed, a second one is open, and it hears changes.
  await expect.poll(() => sockets.length, { timeout: maxAgeMs + 15_000 }).toBeGreaterThanOrEqual(2)
  expect(sockets[0]!.closed).toBe(true)
  await liveOn(staff)
  const referrer = await signedInAs('referrer@lakeview.test', '/my-referrals')
  const reference = await submitReferral(referrer, uniquePatient(), { urgency: 'urgent' })
  await referralByReference(owner, reference)
  await expect(staff.getByRole('button', { name: /^\d+ new referrals?, show them$/ })).toBeVisible()
})
