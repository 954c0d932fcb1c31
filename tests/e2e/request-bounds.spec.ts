/**
 * Every request is bounded and every refusal is clear (docs/decisions/019-body-limits-and-deadlines.md),
 * seen as an attacker or a slow client sees it: bodies over 64 KB (declared or chunked) get 413,
 * a page action that is sent anything but a form gets 415/400, a method a page does not take
 * gets 405 with Allow, a state-changing request from another site gets 403 and changes nothing,
 * a database that hangs (a row lock) gives 503 with Retry-After within the deadline and nothing
 * is written, a body that does not arrive gets 408 without the database ever being touched.
 */
import { randomUUID } from 'node:crypto'
import { request as http } from 'node:http'
import type { APIRequestContext } from '@playwright/test'
import { eq, sql } from 'drizzle-orm'
import { clinics, processingResults, referralEvents, referrals } from '../../app/db/schema'
import { LOCAL_SUPERUSER, OWNER_ROLE } from '../../scripts/lib/postgres'
import { startSecondApp } from './app-without-database'
import { APP_URL, bearer, connectAs, E2E, expect, IDP_URL, LEAKS, PASSWORD, referralBody, SAME_ORIGIN, test, token } from './fixtures'

const LIMIT = 64 * 1024
const form = (bytes: number) => `notes=${'a'.repeat(bytes - 'notes='.length)}`

/** One raw HTTP request, for what Playwright's client cannot send: a chunked body, a body sent slowly. */
function raw(
  url: string,
  options: { method?: string; headers?: Record<string, string>; chunks: string[]; pauseMs?: number },
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string; sentLength: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = http(url, { method: options.method ?? 'POST', headers: options.headers }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk) => (body += chunk))
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body, sentLength: req.getHeader('content-length') as string | undefined }))
    })
    req.on('error', reject)
    const [first, ...rest] = options.chunks
    req.write(first)
    setTimeout(() => {
      for (const chunk of rest) req.write(chunk)
      req.end()
    }, options.pauseMs ?? 0)
  })
}

const heading = (html: string) => html.match(/<h1>(.*?)<\/h1>/)?.[1]

test.describe('bodies: 64 KB at most, forms only on pages', () => {
  test('a 65 KB form gets 413 with a clear page, with Content-Length and chunked without it', async ({ request }) => {
    const declared = await request.post('/queue', { headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, data: form(LIMIT + 1024) })
    expect(declared.status()).toBe(413)
    const page = await declared.text()
    expect(heading(page)).toBe('What was sent is too large')
    expect(page).toContain('at most 64 KB')
    expect(page).not.toMatch(LEAKS)

    const body = form(LIMIT + 1024)
    // (/queue: /referrals/new reads its body as a stream, an upload of up to 51 MB: tests/e2e/documents.spec.ts.)
    const chunked = await raw(`${APP_URL}/queue`, {
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'Transfer-Encoding': 'chunked' },
      chunks: [body.slice(0, 30_000), body.slice(30_000)],
    })
    // Sent without a Content-Length: only counting the body as it streams can refuse it.
    expect(chunked.sentLength).toBeUndefined()
    expect(chunked.status).toBe(413)
    expect(heading(chunked.body)).toBe('What was sent is too large')

    // Exactly at the limit is a form like any other (here: an anonymous visitor sent to sign in).
    const atLimit = await request.post('/queue', { headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, data: form(LIMIT), maxRedirects: 0 })
    expect(atLimit.status()).toBe(302)
  })

  test('the API: 413 in its JSON error shape, chunked too', async () => {
    const json = JSON.stringify({ formVersion: 1, data: { notes: 'a'.repeat(LIMIT) } })
    const chunked = await raw(`${APP_URL}/api/v1/referrals`, {
      headers: { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked', ...bearer(await token('referrer2@lakeview.test')) },
      chunks: [json.slice(0, 40_000), json.slice(40_000)],
    })
    expect(chunked.status).toBe(413)
    expect(JSON.parse(chunked.body)).toMatchObject({ code: 'PAYLOAD_TOO_LARGE', error: expect.any(String), details: { maxBytes: LIMIT } })
  })

  test('an address over 16 KB gets 414, a page or the JSON error, and nothing echoes it', async ({ request, signedInAs }) => {
    const long = 'a'.repeat(17 * 1024)
    const page = await signedInAs('admin@riverbend.test', '/admin/users')
    const answer = await page.request.get(`/admin/users?q=${long}`)
    expect(answer.status()).toBe(414)
    const html = await answer.text()
    expect(heading(html)).toBe('This address is too long')
    expect(html).not.toContain(long.slice(0, 100))

    const api = await request.get(`/api/v1/referrals?q=${long}`, { headers: bearer(await token('staff@riverbend.test')) })
    expect(api.status()).toBe(414)
    expect(await api.json()).toMatchObject({ code: 'URI_TOO_LONG', details: { maxBytes: 16 * 1024 } })

    // Just under the limit is an ordinary page, and its forms (one or two per user) do not repeat the query.
    const under = await page.request.get(`/admin/users?q=${'a'.repeat(15 * 1024)}`)
    expect(under.status()).toBe(200)
    expect(await under.text()).not.toContain('a'.repeat(1024))
  })

  test('a page action sent anything but a form: 415 or 400 with a page that says so, never a 500', async ({ signedInAs }) => {
    const page = await signedInAs('admin@riverbend.test', '/admin/users')
    await expect(page.getByRole('heading', { level: 1 })).toBeVisible()
    const actions = [
      '/queue',
      '/referrals/new',
      `/referrals/${randomUUID()}`,
      `/referrals/${randomUUID()}/summaries`,
      '/admin/intake-form',
      '/admin/users',
      '/admin/audit',
      '/clinics',
      '/settings/ai',
      '/logout',
      '/auth/microsoft',
      '/queue.data',
    ]
    const bodies: { name: string; headers: Record<string, string>; data: string; status: number; title: string }[] = [
      { name: 'JSON', headers: { 'Content-Type': 'application/json' }, data: '{"healthCard":"1"}', status: 415, title: 'This address takes forms only' },
      { name: 'text', headers: { 'Content-Type': 'text/plain' }, data: 'healthCard=1', status: 415, title: 'This address takes forms only' },
      { name: 'no content type', headers: {}, data: 'healthCard=1', status: 415, title: 'This address takes forms only' },
      {
        name: 'multipart without a boundary',
        headers: { 'Content-Type': 'multipart/form-data' },
        data: 'healthCard=1',
        status: 400,
        title: 'The form could not be read',
      },
      {
        name: 'broken multipart',
        headers: { 'Content-Type': 'multipart/form-data; boundary=XyZ' },
        data: '--XyZ\r\nContent-Disposition: form-data; name="healthCard"\r\n\r\n1\r\n--Xy',
        status: 400,
        title: 'The form could not be read',
      },
    ]
    for (const path of actions) {
      for (const body of bodies) {
        // /referrals/new streams its body (uploads): the route, not the pipeline, parses it, after the
        // permission check, so an admin's broken multipart is a 403 there (a referrer's: documents.spec.ts).
        if (path === '/referrals/new' && body.name === 'broken multipart') continue
        const response = await page.request.post(path, { headers: { ...SAME_ORIGIN, ...body.headers }, data: Buffer.from(body.data), maxRedirects: 0 })
        const text = await response.text()
        expect(response.status(), `${body.name} to ${path}`).toBe(body.status)
        expect(text).not.toMatch(LEAKS)
        // The app's own data requests get what Remix's client shows in the page's error boundary.
        if (path.endsWith('.data')) expect(response.headers()['x-remix-response']).toBe('yes')
        else expect(heading(text), `${body.name} to ${path}`).toBe(body.title)
      }
    }
  })
})

test('methods a page does not take: 405 with Allow; on /api, 405 in the JSON error shape', async ({ signedInAs, request }) => {
  const page = await signedInAs('admin@riverbend.test', '/queue')
  await expect(page.getByRole('heading', { name: 'Queue' })).toBeVisible()
  for (const method of ['PATCH', 'PUT', 'DELETE']) {
    const response = await page.request.fetch('/queue', {
      method,
      headers: { ...SAME_ORIGIN, 'Content-Type': 'application/x-www-form-urlencoded' },
      data: 'healthCard=1',
    })
    expect(response.status(), method).toBe(405)
    expect(response.headers()['allow']).toBe('GET, HEAD, POST')
    expect(heading(await response.text())).toBe('This page does not do that')
  }
  const login = await request.fetch('/login', { method: 'POST', form: { redirectTo: '/' } })
  expect(login.status()).toBe(405)
  expect(login.headers()['allow']).toBe('GET, HEAD')

  const api = await request.fetch('/api/v1/me', { method: 'DELETE', headers: bearer(await token('referrer2@lakeview.test')) })
  expect(api.status()).toBe(405)
  expect(api.headers()['allow']).toBe('GET, HEAD')
  expect(await api.json()).toMatchObject({ code: 'METHOD_NOT_ALLOWED', error: expect.any(String), details: expect.anything() })
})

test.describe('requests from another site change nothing', () => {
  test('a page on another port of the same host posts to /logout: 403, and the session still works', async ({ signedInAs }) => {
    const page = await signedInAs('staff@riverbend.test', '/queue')
    await expect(page.getByRole('heading', { name: 'Queue' })).toBeVisible()
    // Same site (same host, another port): SameSite=Lax sends the session cookie along.
    const attacker = `http://127.0.0.1:${E2E.appPort + 97}`
    await page.route(`${attacker}/**`, (route) =>
      route.fulfill({
        contentType: 'text/html',
        body: `<form method="post" action="${APP_URL}/logout"></form><script>document.forms[0].submit()</script>`,
      }),
    )
    const [answer] = await Promise.all([page.waitForResponse(`${APP_URL}/logout`), page.goto(`${attacker}/prize`)])
    expect(answer.status()).toBe(403)
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('This form was sent from another site')
    expect(await answer.text()).not.toMatch(LEAKS)

    await page.goto('/queue')
    await expect(page.getByRole('heading', { name: 'Queue' })).toBeVisible()
  })

  test('/referrals/:id/summaries from a foreign origin, or with the cookie and no origin: 403, nothing saved', async ({ request, signedInAs, owner }) => {
    const staff = await token('staff@riverbend.test')
    const list = await request.get('/api/v1/referrals', { headers: bearer(staff) })
    const id = ((await list.json()).data as { id: string }[])[0]!.id
    const saved = () => owner.select().from(processingResults).where(eq(processingResults.referralId, id))
    const before = await saved()
    const page = await signedInAs('staff@riverbend.test', `/referrals/${id}`)
    await expect(page.getByRole('heading', { name: 'AI summaries' })).toBeVisible()
    const save = { intent: 'save', model: 'planted', promptVersion: 'v1', summary: 'planted', triage: 'planted', missing: 'planted' }
    for (const [why, headers] of [
      ['a foreign origin', { Origin: 'https://evil.example' }],
      ['a sibling port', { Origin: `http://127.0.0.1:${E2E.appPort + 1}` }],
      ['a sandboxed frame', { Origin: 'null' }],
      ['cross-site fetch metadata', { ...SAME_ORIGIN, 'Sec-Fetch-Site': 'cross-site' }],
      ['same-site fetch metadata', { 'Sec-Fetch-Site': 'same-site' }],
      ['the cookie and no origin at all', {}],
    ] as const) {
      const response = await page.request.post(`/referrals/${id}/summaries`, { form: save, headers, maxRedirects: 0 })
      expect(response.status(), why).toBe(403)
      expect(heading(await response.text()), why).toBe('This form was sent from another site')
    }
    expect(await saved()).toEqual(before)
  })

  test('a program without cookies and without Origin may start a sign-in; a forwarded host never makes a 500', async ({ signedInAs, playwright }) => {
    const program = await playwright.request.newContext({ baseURL: APP_URL })
    const signInStart = await program.post('/auth/microsoft', { form: { redirectTo: '/queue' }, maxRedirects: 0 })
    expect(signInStart.status()).toBe(302)
    await program.dispose()

    // Remix's own origin check compares Origin with X-Forwarded-Host and throws (a 500) when they differ.
    const page = await signedInAs('staff@riverbend.test', '/queue')
    await expect(page.getByRole('heading', { name: 'Queue' })).toBeVisible()
    const forwarded = await page.request.post('/queue', { headers: { ...SAME_ORIGIN, 'X-Forwarded-Host': 'evil.example' }, form: { healthCard: '0000000000' } })
    expect(forwarded.status()).toBe(200)
  })
})

test.describe('redirect targets stay on this site, and a bad one is never a 500', () => {
  const TAB_TO_EVIL = encodeURIComponent('/\t/evil.example')

  test('/login?redirectTo=: a tab or a newline is not a way out, nor a 500', async ({ request, signedInAs }) => {
    for (const [to, kept] of [
      [TAB_TO_EVIL, '/'],
      [encodeURIComponent('//evil.example'), '/'],
      [encodeURIComponent('/\\evil.example'), '/'],
      [encodeURIComponent('/queue\nSet-Cookie: planted=1'), '/queueSet-Cookie:%20planted=1'],
    ]) {
      const response = await request.get(`/login?redirectTo=${to}`)
      expect(response.status(), to).toBe(200)
      expect(await response.text(), to).toContain(`name="redirectTo" value="${kept}"`)
    }
    // Signed in, /login sends the user on at once: to home, not to evil.example.
    const page = await signedInAs('staff@riverbend.test', '/queue')
    await expect(page.getByRole('heading', { name: 'Queue' })).toBeVisible()
    const onward = await page.request.get(`/login?redirectTo=${TAB_TO_EVIL}`, { maxRedirects: 0 })
    expect(onward.status()).toBe(302)
    expect(onward.headers()['location']).toBe('/')
  })

  test('a malformed remembered-page cookie at the sign-in callback is ignored: the user lands at home', async ({ page, context }) => {
    await page.goto('/queue')
    await page.getByRole('button', { name: 'Sign in with Microsoft' }).click()
    await expect(page).toHaveURL(new RegExp(`^${IDP_URL}/`))
    // Planted while the user is at the provider: not percent-encoding that decodes.
    await context.addCookies([{ name: 'intakepilot_redirect', value: '%E0%A4%A', url: APP_URL }])
    await page.locator('input[name=login]').fill('staff@riverbend.test')
    await page.locator('input[name=password]').fill(PASSWORD)
    const [callback] = await Promise.all([
      page.waitForResponse((r) => r.url().startsWith(`${APP_URL}/auth/callback`)),
      page.locator('form button[type=submit]').first().click(),
    ])
    expect(callback.status()).toBe(302)
    await expect(page).toHaveURL(`${APP_URL}/queue`)
    await expect(page.getByRole('heading', { name: 'Queue' })).toBeVisible()
  })

  test('the clinic switch: a redirectTo that a browser reads as another host lands at home', async ({ signedInAs, owner }) => {
    const [lakeview] = await owner.select({ id: clinics.id }).from(clinics).where(eq(clinics.slug, 'lakeview'))
    const page = await signedInAs('superadmin@intakepilot.test', '/clinics')
    await expect(page.getByRole('heading', { level: 1 })).toBeVisible()
    const form = { clinicId: lakeview!.id, reason: 'Support ticket 5120: redirect check', redirectTo: '/\t/evil.example' }
    const response = await page.request.post('/clinics', { form, headers: SAME_ORIGIN, maxRedirects: 0 })
    expect(response.status()).toBe(302)
    expect(response.headers()['location']).toBe('/')
  })
})

test.describe('time: a deadline on the request and on its body', () => {
  test.describe.configure({ mode: 'serial' })
  let second: Awaited<ReturnType<typeof startSecondApp>>
  // The same database; a 3 s deadline and 1.5 s for a body (the defaults are 30 s and 10 s).
  test.beforeAll(async () => {
    test.setTimeout(90_000)
    second = await startSecondApp({ database: 'shared', bindings: { REQUEST_DEADLINE_MS: '3000', REQUEST_BODY_TIMEOUT_MS: '1500' } })
  })
  test.afterAll(async () => second?.stop())

  /** A new referral of Riverbend's, for a staff member to work on. */
  async function newReferral(request: APIRequestContext) {
    const referrer = await token('referrer@riverbend.test')
    const created = await request.post('/api/v1/referrals', {
      headers: { ...bearer(referrer), 'Idempotency-Key': randomUUID() },
      data: await referralBody(request, referrer),
    })
    expect(created.status(), await created.text()).toBe(201)
    return (await created.json()).data.id as string
  }

  /** Holds the referral's row lock from the owner's own connection until release() (as a long admin job would). */
  async function lockReferral(id: string) {
    const owner = connectAs(OWNER_ROLE)
    const client = await owner.db.$client.connect()
    await client.query('begin')
    await client.query('select 1 from referrals where id = $1 for update', [id])
    const { rows } = await client.query<{ pid: number }>('select pg_backend_pid() as pid')
    return {
      pid: rows[0]!.pid,
      release: async () => {
        await client.query('rollback').catch(() => {})
        client.release()
        await owner.end()
      },
    }
  }

  test('a database that hangs: 503 with Retry-After within the deadline, nothing written, the app carries on', async ({ request, owner }) => {
    const id = await newReferral(request)
    const lock = await lockReferral(id)
    const started = Date.now()
    let answer
    try {
      answer = await request.patch(`${second.origin}/api/v1/referrals/${id}`, {
        headers: bearer(await token('staff@riverbend.test')),
        data: { status: 'in_review', version: 1 },
        timeout: 10_000,
      })
    } finally {
      // Only now can the blocked UPDATE go on: had the app's transaction survived, it would commit here.
      await lock.release()
    }
    const elapsed = Date.now() - started
    const text = await answer.text()
    expect(answer.status(), text).toBe(503)
    expect(Number(answer.headers()['retry-after'])).toBeGreaterThan(0)
    expect(JSON.parse(text)).toMatchObject({ code: 'UNAVAILABLE', details: { requestId: answer.headers()['x-request-id'] } })
    expect(text).not.toMatch(LEAKS)
    expect(elapsed).toBeLessThan(6_000)

    // Give the released UPDATE its chance to (wrongly) commit, then look.
    await new Promise((resolve) => setTimeout(resolve, 1000))
    const [row] = await owner.select({ status: referrals.status, version: referrals.version }).from(referrals).where(eq(referrals.id, id))
    expect(row).toEqual({ status: 'received', version: 1 })
    const events = await owner.select({ type: referralEvents.type }).from(referralEvents).where(eq(referralEvents.referralId, id))
    expect(events).toEqual([{ type: 'created' }])
    // Nothing is stuck: the same change goes through now.
    const again = await request.patch(`${second.origin}/api/v1/referrals/${id}`, {
      headers: bearer(await token('staff@riverbend.test')),
      data: { status: 'in_review', version: 1 },
    })
    expect(again.status(), await again.text()).toBe(200)
  })

  test('a connection the database drops mid-request (after the identity step): 503 with Retry-After, not 500', async ({ request }) => {
    const id = await newReferral(request)
    const lock = await lockReferral(id)
    const superuser = connectAs(LOCAL_SUPERUSER)
    try {
      const pending = request.patch(`/api/v1/referrals/${id}`, {
        headers: bearer(await token('staff@riverbend.test')),
        data: { status: 'in_review', version: 1 },
      })
      // The request's backend, waiting on our lock (and nobody else's), is ended as an administrator would.
      await expect
        .poll(async () => {
          const rows = await superuser.db.execute<{ ended: boolean }>(
            sql`select pg_terminate_backend(pid) as ended from pg_stat_activity where ${lock.pid}::int = any(pg_blocking_pids(pid))`,
          )
          return rows.rows.some((r) => r.ended)
        })
        .toBe(true)
      const answer = await pending
      const text = await answer.text()
      expect(answer.status(), text).toBe(503)
      expect(Number(answer.headers()['retry-after'])).toBeGreaterThan(0)
      expect(JSON.parse(text)).toMatchObject({ code: 'UNAVAILABLE' })
    } finally {
      await lock.release()
      await superuser.end()
    }
  })

  test('a body that does not arrive: 408, and the database was never touched while it was awaited', async ({ request }) => {
    // Their requests are counted below: an account no other test signs in as.
    const who = 'unhurried@lakeview.test'
    const access = await token(who)
    const me = await request.get(`${second.origin}/api/v1/me`, { headers: bearer(access) })
    const userId = (await me.json()).data.id as string
    const superuser = connectAs(LOCAL_SUPERUSER)
    // The request's first statement (request_start) counts it; nothing counted means no statement, no connection.
    const counted = async () =>
      Number((await superuser.db.execute<{ n: string }>(sql`select coalesce(sum(count), 0) as n from rate_limits where key = ${`user:${userId}`}`)).rows[0]!.n)
    try {
      const before = await counted()
      const body = JSON.stringify({ formVersion: 1, data: { patient_last_name: 'Slow' } })
      const slow = raw(`${second.origin}/api/v1/referrals`, {
        headers: { 'Content-Type': 'application/json', 'Content-Length': String(body.length), 'Idempotency-Key': randomUUID(), ...bearer(access) },
        chunks: [body.slice(0, 10), body.slice(10)],
        pauseMs: 3_000,
      })
      await new Promise((resolve) => setTimeout(resolve, 2_000))
      expect(await counted(), 'counted while the body was still on its way').toBe(before)
      const answer = await slow
      expect(answer.status).toBe(408)
      expect(JSON.parse(answer.body)).toMatchObject({ code: 'REQUEST_TIMEOUT', error: expect.any(String) })
      expect(await counted()).toBe(before)
      // A request that does arrive is counted: the check above could see one.
      await request.get(`${second.origin}/api/v1/me`, { headers: bearer(access) })
      expect(await counted()).toBe(before + 1)
    } finally {
      await superuser.end()
    }
  })
})
