/**
 * The JSON API over real HTTP against the built app in workerd, with real access
 * tokens from the local provider (the headless CLI client). Every status code we can produce
 * from outside, every way a token is refused, tenancy (another clinic's id is a 404), CORS,
 * cookies ignored, and the exact rate limit.
 */
import { randomUUID } from 'node:crypto'
import type { APIRequestContext } from '@playwright/test'
import { base64url, exportSPKI, generateKeyPair, importJWK, SignJWT, type JWK } from 'jose'
import type { TokenSet } from '../../scripts/lib/idp-login'
import { APP_URL, bearer, E2E, expect, expectError, ISSUER, referralBody, test, token, tokensFor } from './fixtures'

test.describe('bearer tokens', () => {
  test('a good token reaches /me; cookies are never accepted on /api', async ({ request, signedInAs }) => {
    const me = await request.get('/api/v1/me', { headers: bearer(await token('staff@northside.test')) })
    expect(me.status()).toBe(200)
    expect((await me.json()).data).toMatchObject({ email: 'staff@northside.test', role: 'staff', permissions: expect.arrayContaining(['read:referral:any']) })
    expect(me.headers()['set-cookie']).toBeUndefined()

    // A signed-in browser's session cookie opens pages, but not the API.
    const page = await signedInAs('staff@northside.test', '/queue')
    await expect(page).toHaveURL(/\/queue/)
    await expectError(await page.context().request.get('/api/v1/me'), 401, 'UNAUTHENTICATED')
  })

  test('refused tokens each get 401 with a JSON error', async ({ request }) => {
    const tokens: TokenSet = await tokensFor('staff@northside.test')
    const [header, payload] = tokens.access_token.split('.') as [string, string]
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString())
    const discovery = await (await fetch(`${ISSUER}/.well-known/openid-configuration`)).json<{ jwks_uri: string }>()
    const published = (await (await fetch(discovery.jwks_uri)).json<{ keys: JWK[] }>()).keys[0]!
    const { privateKey } = await generateKeyPair('RS256')
    const pem = await exportSPKI((await importJWK(published, 'RS256')) as CryptoKey)
    const hs256 = await new SignJWT(claims).setProtectedHeader({ alg: 'HS256', kid: published.kid }).sign(new TextEncoder().encode(pem))
    const cases: Record<string, Record<string, string>> = {
      none: {},
      malformed: { Authorization: 'Bearer not-a-jwt' },
      'not bearer': { Authorization: `Basic ${Buffer.from('a:b').toString('base64')}` },
      'alg none': bearer(`${base64url.encode(JSON.stringify({ alg: 'none', typ: 'JWT' }))}.${payload}.`),
      'HS256 with the public key as secret': bearer(hs256),
      'unknown kid': bearer(await new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: 'unknown-kid' }).sign(privateKey)),
      'another key under the known kid': bearer(await new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: published.kid! }).sign(privateKey)),
      'tampered payload': bearer(`${header}.${base64url.encode(JSON.stringify({ ...claims, oid: 'x' }))}.${tokens.access_token.split('.')[2]}`),
      'wrong audience (the ID token)': bearer(tokens.id_token),
      'tenant not allowed': bearer(await token('outsider@elsewhere.test')),
    }
    for (const [name, headers] of Object.entries(cases)) {
      const response = await request.get('/api/v1/me', { headers })
      await test.step(name, async () => {
        await expectError(response, 401, 'UNAUTHENTICATED')
        expect(response.headers()['www-authenticate'], name).toMatch(/^Bearer /)
      })
    }
  })

  test('a superadmin is refused with 403, told to switch to the clinic in the web app', async ({ request }) => {
    const headers = bearer(await token('superadmin@intakepilot.test'))
    for (const path of ['/api/v1/me', '/api/v1/referrals', '/api/v1/audit-logs']) {
      const response = await request.get(path, { headers })
      const body = await expectError(response, 403, 'FORBIDDEN')
      expect(body.error, path).toMatch(/superadmin/i)
      expect(body.error, path).toMatch(/switch/i)
      expect(body.error, path).toMatch(/web app/i)
      expect(body.details, path).toEqual({ reason: 'superadmin' })
      // Refused before any route runs: no WWW-Authenticate challenge (the token itself was fine).
      expect(response.headers()['www-authenticate'], path).toBeUndefined()
    }
  })
})

test.describe('referrals', () => {
  test('create, read, list, update with conflicts, events; other clinics see 404', async ({ request }) => {
    const referrer = await token('referrer@northside.test')
    const body = await referralBody(request, referrer)
    const key = randomUUID()
    const created = await request.post('/api/v1/referrals', { headers: { ...bearer(referrer), 'Idempotency-Key': key }, data: body })
    expect(created.status(), await created.text()).toBe(201)
    const { id } = (await created.json()).data
    expect(created.headers()['location']).toBe(`/api/v1/referrals/${id}`)
    // The same key again: the same referral, not a second one.
    const again = await request.post('/api/v1/referrals', { headers: { ...bearer(referrer), 'Idempotency-Key': key }, data: body })
    expect(again.status()).toBe(200)
    expect((await again.json()).data.id).toBe(id)

    const staff = await token('staff@northside.test')
    const read = await request.get(`/api/v1/referrals/${id}`, { headers: bearer(staff) })
    expect(read.status()).toBe(200)
    const referral = (await read.json()).data
    expect(referral.data.patient_last_name).toBe(body.data.patient_last_name)

    const list = await request.get(`/api/v1/referrals?ref=${referral.referenceNumber}&status=all`, { headers: bearer(staff) })
    expect(list.status()).toBe(200)
    const listed = await list.json()
    expect(listed.data.map((r: { id: string }) => r.id)).toEqual([id])
    expect(listed.pagination).toMatchObject({ next: null, limit: expect.any(Number) })
    await expectError(await request.get('/api/v1/referrals?status=nonsense', { headers: bearer(staff) }), 400, 'VALIDATION_ERROR')

    const patch = (data: unknown) => request.patch(`/api/v1/referrals/${id}`, { headers: bearer(staff), data })
    expect((await patch({ status: 'in_review', version: referral.version })).status()).toBe(200)
    await expectError(await patch({ status: 'accepted', version: referral.version }), 409, 'CONFLICT')
    await expectError(await patch({ status: 'received', version: referral.version + 1 }), 400, 'VALIDATION_ERROR')
    // A decline needs the reason the referrer will read: refused with the field, and nothing changes.
    const noReason = await patch({ status: 'declined', version: referral.version + 1 })
    expect(noReason.status()).toBe(400)
    expect((await noReason.json()).details.fields).toHaveProperty('reason')
    const unchanged = (await (await request.get(`/api/v1/referrals/${id}`, { headers: bearer(staff) })).json()).data
    expect([unchanged.status, unchanged.version]).toEqual(['in_review', referral.version + 1])
    // The kind of reason: a code of that move's list (OpenAPI lists them), or none at all.
    await expectError(await patch({ status: 'declined', reason: 'x', reasonCode: 'because', version: referral.version + 1 }), 400, 'VALIDATION_ERROR')
    const cancelCode = await patch({ status: 'declined', reason: 'x', reasonCode: 'referrer_withdrew', version: referral.version + 1 })
    expect(cancelCode.status()).toBe(400)
    expect((await cancelCode.json()).details.fields.reasonCode[0]).toContain('criteria_not_met')
    expect(
      (await patch({ status: 'declined', reason: 'Outside our catchment area', reasonCode: 'criteria_not_met', version: referral.version + 1 })).status(),
    ).toBe(200)
    const declined = (await (await request.get(`/api/v1/referrals/${id}`, { headers: bearer(staff) })).json()).data
    expect(declined.status).toBe('declined')
    const moves = (await (await request.get(`/api/v1/referrals/${id}/events`, { headers: bearer(staff) })).json()).data
    expect(moves.filter((e: { type: string }) => e.type === 'status').map((e: { data: unknown }) => e.data)).toContainEqual({
      from: 'in_review',
      to: 'declined',
      reasonCode: 'criteria_not_met',
    })

    const note = await request.post(`/api/v1/referrals/${id}/events`, { headers: bearer(staff), data: { type: 'note', body: 'Called the patient' } })
    expect(note.status(), await note.text()).toBe(201)
    const events = (await (await request.get(`/api/v1/referrals/${id}/events`, { headers: bearer(staff) })).json()).data
    expect(events.map((e: { type: string; body: string | null }) => [e.type, e.body])).toEqual(
      expect.arrayContaining([
        ['note', 'Called the patient'],
        ['status', null],
      ]),
    )

    // Another clinic: the id does not exist for them (404, never 403), for every verb.
    const stranger = await token('staff@lakeview.test')
    await expectError(await request.get(`/api/v1/referrals/${id}`, { headers: bearer(stranger) }), 404, 'NOT_FOUND')
    await expectError(await request.get(`/api/v1/referrals/${id}/events`, { headers: bearer(stranger) }), 404, 'NOT_FOUND')
    await expectError(
      await request.patch(`/api/v1/referrals/${id}`, { headers: bearer(stranger), data: { status: 'accepted', version: referral.version + 1 } }),
      404,
      'NOT_FOUND',
    )
    await expectError(await request.get(`/api/v1/referrals/${randomUUID()}`, { headers: bearer(staff) }), 404, 'NOT_FOUND')
    await expectError(await request.get('/api/v1/no-such-thing', { headers: bearer(staff) }), 404, 'NOT_FOUND')
  })

  test('bad requests: 400, 403, 409, 413, 415', async ({ request, playwright }) => {
    const referrer = await token('referrer@northside.test')
    const headers = { ...bearer(referrer), 'Idempotency-Key': randomUUID() }
    const body = await referralBody(request, referrer)
    await expectError(await request.post('/api/v1/referrals', { headers: bearer(referrer), data: body }), 400, 'VALIDATION_ERROR')
    const invalid = await expectError(
      await request.post('/api/v1/referrals', { headers, data: { ...body, data: { ...body.data, patient_dob: 'yesterday' } } }),
      400,
      'VALIDATION_ERROR',
    )
    expect(Object.keys(invalid.details.fields)).toContain('data.patient_dob')
    await expectError(await request.post('/api/v1/referrals', { headers, data: { ...body, formVersion: 99999 } }), 409, 'CONFLICT')
    await expectError(
      await request.post('/api/v1/referrals', { headers: { ...headers, 'Content-Type': 'text/plain' }, data: JSON.stringify(body) }),
      415,
      'UNSUPPORTED_MEDIA_TYPE',
    )
    const big = { ...body, data: { ...body.data, reason: 'x'.repeat(70 * 1024) } }
    // The app answers 413 without reading the rest and resets the connection: sent on a client of its
    // own, so that the reset cannot land on this test's next request.
    const oversize = await playwright.request.newContext({ baseURL: APP_URL })
    try {
      await expectError(await oversize.post('/api/v1/referrals', { headers, data: big }), 413, 'PAYLOAD_TOO_LARGE')
    } finally {
      await oversize.dispose()
    }
    await expectError(await request.get('/api/v1/audit-logs', { headers: bearer(referrer) }), 403, 'FORBIDDEN')
    const admin = await request.get('/api/v1/audit-logs', { headers: bearer(await token('admin@northside.test')) })
    expect(admin.status()).toBe(200)
    expect((await admin.json()).data.length).toBeGreaterThan(0)
  })
})

test.describe('CORS', () => {
  const preflight = (request: APIRequestContext, origin: string) =>
    request.fetch('/api/v1/referrals', {
      method: 'OPTIONS',
      headers: { Origin: origin, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'authorization, content-type' },
    })

  test('a preflight from an allowed origin gets the headers; another origin gets none', async ({ request }) => {
    const allowed = await preflight(request, E2E.corsOrigin)
    expect(allowed.status()).toBe(204)
    expect(allowed.headers()).toMatchObject({
      'access-control-allow-origin': E2E.corsOrigin,
      'access-control-allow-methods': expect.stringContaining('PATCH'),
      'access-control-allow-headers': expect.stringContaining('Authorization'),
      'access-control-max-age': expect.any(String),
    })
    expect(allowed.headers()['access-control-allow-credentials']).toBeUndefined()
    expect(allowed.headers()['vary']).toContain('Origin')
    const refused = await preflight(request, 'https://evil.example')
    expect(Object.keys(refused.headers()).filter((h) => h.startsWith('access-control-'))).toEqual([])

    const actual = await request.get('/api/v1/me', { headers: { ...bearer(await token('staff@northside.test')), Origin: E2E.corsOrigin } })
    expect(actual.headers()['access-control-allow-origin']).toBe(E2E.corsOrigin)
    expect(actual.headers()['vary']).toContain('Origin')
  })
})

test.describe('rate limit', () => {
  test('100 requests a minute per user: the 101st gets 429 with Retry-After and RateLimit headers', async ({ request }) => {
    test.setTimeout(120_000)
    // All requests must land in one fixed minute.
    const second = new Date().getUTCSeconds()
    if (second > 30) await new Promise((resolve) => setTimeout(resolve, (61 - second) * 1000))
    // No other spec acts as Riverbend's second referrer: every request counted this minute is this test's.
    const headers = bearer(await token('referrer2@riverbend.test'))
    const statuses: number[] = []
    for (let batch = 0; batch < 11; batch++) {
      const responses = await Promise.all(Array.from({ length: 10 }, () => request.get('/api/v1/me', { headers })))
      statuses.push(...responses.map((r) => r.status()))
    }
    expect(statuses.filter((s) => s === 200)).toHaveLength(100)
    expect(statuses.filter((s) => s === 429)).toHaveLength(10)
    const refused = await request.get('/api/v1/me', { headers })
    await expectError(refused, 429, 'RATE_LIMITED')
    expect(Number(refused.headers()['retry-after'])).toBeGreaterThan(0)
    expect(refused.headers()).toMatchObject({ 'ratelimit-limit': '100', 'ratelimit-remaining': '0', 'ratelimit-reset': expect.any(String) })
  })
})

test('the OpenAPI document is served', async ({ request }) => {
  const response = await request.get(`${APP_URL}/api/v1/openapi.json`, { headers: bearer(await token('staff@northside.test')) })
  expect(response.status()).toBe(200)
  expect((await response.json()).openapi).toBe('3.1.0')
})
