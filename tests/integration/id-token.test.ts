/**
 * verifyIdToken against a real (fake) issuer over HTTP: a good token passes, and each way an
 * ID token can be wrong is refused with an IdTokenError for that reason, not some other one.
 * discover() and the key sets are cached per authority / jwks_uri inside the module, so each
 * describe starts its own issuer on its own port.
 */
import { createHmac, randomUUID } from 'node:crypto'
import { base64url, exportSPKI, generateKeyPair, jwtVerify, UnsecuredJWT, type JWTPayload } from 'jose'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { CLOCK_TOLERANCE_SECONDS, IdTokenError, nonceFor, verifyIdToken } from '../../app/auth/oidc.server'
import { startFakeIssuer, type FakeIssuer } from '../support/fake-issuer'

const TENANT = '7f3c9a2e-1b4d-4c8e-9f10-2a3b4c5d6e7f'
const OTHER_TENANT = '0d9e8f7a-6b5c-4d3e-8f2a-1b0c9d8e7f6a'
const CLIENT_ID = 'intakepilot-web-test'
const OID = randomUUID()
const now = () => Math.floor(Date.now() / 1000)
const b64json = (value: unknown) => base64url.encode(JSON.stringify(value))

let nonce: string
beforeAll(async () => {
  nonce = await nonceFor('state-from-the-authorize-redirect', 'session-secret/oidc-nonce')
})

function claims(issuer: FakeIssuer, overrides: JWTPayload = {}): JWTPayload {
  const t = now()
  return {
    iss: issuer.issuerFor(TENANT),
    aud: CLIENT_ID,
    tid: TENANT,
    oid: OID,
    nonce,
    iat: t,
    nbf: t,
    exp: t + 3600,
    email: 'clinician@example.org',
    name: 'Dr Test',
    ...overrides,
  }
}

async function refusal(promise: Promise<unknown>) {
  const outcome = await promise.then(
    (value) => ({ accepted: value }),
    (error: unknown) => error,
  )
  expect(outcome).toBeInstanceOf(IdTokenError)
  return (outcome as IdTokenError).reason
}

describe('verifyIdToken (single-tenant authority)', () => {
  let issuer: FakeIssuer
  let verify: (token: string, options?: { nonce?: string; allowedTenants?: string[] }) => Promise<unknown>
  beforeAll(async () => {
    issuer = await startFakeIssuer()
    verify = (token, options = {}) =>
      verifyIdToken(token, { authority: issuer.authority(TENANT), clientId: CLIENT_ID, allowedTenants: [TENANT], nonce, ...options })
  })
  afterAll(() => issuer.close())

  it('accepts a good token (positive control) and returns tid/oid, not only the email', async () => {
    await expect(verify(await issuer.sign(claims(issuer)))).resolves.toEqual({
      tid: TENANT,
      oid: OID,
      email: 'clinician@example.org',
      name: 'Dr Test',
    })
  })

  it('refuses an unsigned (alg: none) token', async () => {
    const token = `${b64json({ alg: 'none', typ: 'JWT' })}.${b64json(claims(issuer))}.`
    expect(UnsecuredJWT.decode(token).payload.oid).toBe(OID) // well-formed: refused for its alg alone
    expect(await refusal(verify(token))).toBe('ERR_JOSE_ALG_NOT_ALLOWED')
  })

  describe('refuses HS256 signed with the RSA public key as the HMAC secret (algorithm confusion)', () => {
    const secrets: Array<[string, (i: FakeIssuer) => Promise<Uint8Array>]> = [
      ['the SPKI PEM text', async (i) => new TextEncoder().encode(await exportSPKI(i.publicKey))],
      ['the SPKI PEM text, trimmed', async (i) => new TextEncoder().encode((await exportSPKI(i.publicKey)).trim())],
      ['the SPKI DER bytes', async (i) => new Uint8Array(await crypto.subtle.exportKey('spki', i.publicKey))],
      ['the JWK n (as text)', async (i) => new TextEncoder().encode(i.publicJwk.n)],
      ['the JWK n (decoded bytes)', async (i) => base64url.decode(i.publicJwk.n!)],
    ]
    it.each(secrets)('secret = %s', async (_, secretOf) => {
      const secret = await secretOf(issuer)
      const input = `${b64json({ alg: 'HS256', typ: 'JWT', kid: issuer.kid })}.${b64json(claims(issuer))}`
      const token = `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`
      // The forgery is a valid HS256 JWT under that secret, so only the algorithm check stops it.
      await expect(jwtVerify(token, secret, { algorithms: ['HS256'] })).resolves.toBeTruthy()
      expect(await refusal(verify(token))).toBe('ERR_JOSE_ALG_NOT_ALLOWED')
    })
  })

  it('refuses a wrong issuer', async () => {
    const token = await issuer.sign(claims(issuer, { iss: `https://login.microsoftonline.com/${TENANT}/v2.0` }))
    expect(await refusal(verify(token))).toBe('issuer')
  })

  it('refuses an issuer for another tenant path on the same host', async () => {
    const token = await issuer.sign(claims(issuer, { iss: issuer.issuerFor(OTHER_TENANT) }))
    expect(await refusal(verify(token))).toBe('issuer')
  })

  it('refuses a wrong audience', async () => {
    const token = await issuer.sign(claims(issuer, { aud: 'some-other-app' }))
    expect(await refusal(verify(token))).toBe('ERR_JWT_CLAIM_VALIDATION_FAILED')
  })

  it('refuses a token expired beyond the clock tolerance (and accepts one within it)', async () => {
    expect(CLOCK_TOLERANCE_SECONDS).toBe(60)
    const t = now()
    const expired = await issuer.sign(claims(issuer, { iat: t - 3700, nbf: t - 3700, exp: t - 120 }))
    expect(await refusal(verify(expired))).toBe('ERR_JWT_EXPIRED')
    const justExpired = await issuer.sign(claims(issuer, { iat: t - 3630, nbf: t - 3630, exp: t - 30 }))
    await expect(verify(justExpired)).resolves.toMatchObject({ oid: OID })
  })

  it('refuses nbf in the future beyond the clock tolerance (and accepts one within it)', async () => {
    const t = now()
    const early = await issuer.sign(claims(issuer, { nbf: t + 120 }))
    expect(await refusal(verify(early))).toBe('ERR_JWT_CLAIM_VALIDATION_FAILED')
    const slightlyEarly = await issuer.sign(claims(issuer, { nbf: t + 30 }))
    await expect(verify(slightlyEarly)).resolves.toMatchObject({ oid: OID })
  })

  it('refuses a tid not on the allow-list', async () => {
    const token = await issuer.sign(claims(issuer, { tid: OTHER_TENANT }))
    expect(await refusal(verify(token))).toBe('tenant')
    // An empty allow-list admits nobody.
    expect(await refusal(verify(await issuer.sign(claims(issuer)), { allowedTenants: [] }))).toBe('tenant')
  })

  it('refuses a wrong nonce', async () => {
    const token = await issuer.sign(claims(issuer, { nonce: await nonceFor('another-state', 'session-secret/oidc-nonce') }))
    expect(await refusal(verify(token))).toBe('nonce')
  })

  it.each(['oid', 'tid', 'nonce'])('refuses a token without %s', async (claim) => {
    const token = await issuer.sign(claims(issuer, { [claim]: undefined }))
    expect(JSON.parse(new TextDecoder().decode(base64url.decode(token.split('.')[1]!)))).not.toHaveProperty(claim)
    expect(await refusal(verify(token))).toBe('ERR_JWT_CLAIM_VALIDATION_FAILED')
  })
})

describe('verifyIdToken with an unknown kid', () => {
  let issuer: FakeIssuer
  beforeAll(async () => {
    issuer = await startFakeIssuer()
  })
  afterAll(() => issuer.close())
  afterEach(() => {
    vi.useRealTimers()
  })

  it('refuses a token signed by a key not in the JWKS, refetching the JWKS once (not zero, not every time)', async () => {
    const rogue = await generateKeyPair('RS256')
    const verify = (token: string) => verifyIdToken(token, { authority: issuer.authority(TENANT), clientId: CLIENT_ID, allowedTenants: [TENANT], nonce })
    const rogueToken = () => issuer.sign(claims(issuer), { key: rogue.privateKey, kid: 'not-published' })

    // Cold cache: the key set is fetched once, the kid is not in it.
    expect(await refusal(verify(await rogueToken()))).toBe('ERR_JWKS_NO_MATCHING_KEY')
    expect(issuer.jwksRequests()).toBe(1)
    // A good token is served from the cache.
    await expect(verify(await issuer.sign(claims(issuer)))).resolves.toMatchObject({ oid: OID })
    expect(issuer.jwksRequests()).toBe(1)

    // Past the 30 s cooldown, an unknown kid makes exactly one more fetch (a key may have rotated in)...
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(Date.now() + 31_000)
    expect(await refusal(verify(await rogueToken()))).toBe('ERR_JWKS_NO_MATCHING_KEY')
    expect(issuer.jwksRequests()).toBe(2)
    // ...and a burst of unknown kids right after cannot make the app hammer the issuer.
    for (let i = 0; i < 5; i++) expect(await refusal(verify(await rogueToken()))).toBe('ERR_JWKS_NO_MATCHING_KEY')
    expect(issuer.jwksRequests()).toBe(2)
    // Discovery was fetched once for the whole test.
    expect(issuer.requests.filter((p) => p.endsWith('/openid-configuration'))).toHaveLength(1)
  })
})

describe('verifyIdToken with a multi-tenant authority (issuer ".../{tenantid}/v2.0")', () => {
  let issuer: FakeIssuer
  let verify: (token: string) => Promise<unknown>
  beforeAll(async () => {
    issuer = await startFakeIssuer()
    verify = (token) => verifyIdToken(token, { authority: issuer.authority('organizations'), clientId: CLIENT_ID, allowedTenants: [TENANT], nonce })
  })
  afterAll(() => issuer.close())

  it('publishes the templated issuer', async () => {
    const doc = await (await fetch(`${issuer.authority('organizations')}/.well-known/openid-configuration`)).json<{ issuer: string }>()
    expect(doc.issuer).toBe(`${issuer.origin}/{tenantid}/v2.0`)
  })

  it("accepts a token whose iss names the token's own tid", async () => {
    await expect(verify(await issuer.sign(claims(issuer)))).resolves.toMatchObject({ tid: TENANT, oid: OID })
  })

  it('refuses a token whose iss names a different tenant than its tid', async () => {
    const token = await issuer.sign(claims(issuer, { iss: issuer.issuerFor(OTHER_TENANT) }))
    expect(await refusal(verify(token))).toBe('issuer')
  })

  it('refuses the literal template as iss', async () => {
    const token = await issuer.sign(claims(issuer, { iss: `${issuer.origin}/{tenantid}/v2.0` }))
    expect(await refusal(verify(token))).toBe('issuer')
  })

  it('refuses a consistent token from a tenant not on the allow-list', async () => {
    const token = await issuer.sign(claims(issuer, { iss: issuer.issuerFor(OTHER_TENANT), tid: OTHER_TENANT }))
    expect(await refusal(verify(token))).toBe('tenant')
  })
})
