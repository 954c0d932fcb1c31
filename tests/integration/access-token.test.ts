/**
 * verifyAccessToken (app/api/bearer.server.ts) against a fake Entra issuer: a good API token
 * passes; expired, not-yet-valid, wrong audience/issuer/tenant, unknown kid and other-key
 * tokens are refused for their own reason. (The e2e spec covers the same over HTTP.)
 */
import { randomUUID } from 'node:crypto'
import { generateKeyPair, type JWTPayload } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { AccessTokenError, verifyAccessToken } from '../../app/api/bearer.server'
import { openApiDocument } from '../../app/routes/api.v1.openapi[.]json'
import { startFakeIssuer, type FakeIssuer } from '../support/fake-issuer'

const TENANT = '7f3c9a2e-1b4d-4c8e-9f10-2a3b4c5d6e7f'
const AUDIENCE = 'api://intakepilot-test'
const now = () => Math.floor(Date.now() / 1000)

let issuer: FakeIssuer
beforeAll(async () => {
  issuer = await startFakeIssuer()
})
afterAll(() => issuer.close())

const claims = (overrides: JWTPayload = {}): JWTPayload => ({
  iss: issuer.issuerFor(TENANT),
  aud: AUDIENCE,
  tid: TENANT,
  oid: randomUUID(),
  iat: now(),
  nbf: now(),
  exp: now() + 600,
  ...overrides,
})
const verify = (token: string) => verifyAccessToken(token, { authority: issuer.authority(TENANT), audience: AUDIENCE, allowedTenants: [TENANT] })
async function reason(token: string) {
  const error = await verify(token).then(
    () => null,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(AccessTokenError)
  return (error as AccessTokenError).reason
}

describe('verifyAccessToken', () => {
  it('accepts a good token (positive control)', async () => {
    await expect(verify(await issuer.sign(claims({ oid: 'abc' })))).resolves.toEqual({ tid: TENANT, oid: 'abc' })
  })
  it('refuses an expired token beyond the 60 s skew, accepts one within it', async () => {
    expect(await reason(await issuer.sign(claims({ iat: now() - 900, exp: now() - 61 })))).toBe('ERR_JWT_EXPIRED')
    await expect(verify(await issuer.sign(claims({ iat: now() - 900, exp: now() - 30 })))).resolves.toBeTruthy()
  })
  it('refuses a token not valid yet (nbf beyond the skew)', async () => {
    expect(await reason(await issuer.sign(claims({ nbf: now() + 120 })))).toBe('ERR_JWT_CLAIM_VALIDATION_FAILED')
  })
  it('refuses the wrong audience, issuer and tenant', async () => {
    expect(await reason(await issuer.sign(claims({ aud: 'intakepilot-web' })))).toBe('ERR_JWT_CLAIM_VALIDATION_FAILED')
    expect(await reason(await issuer.sign(claims({ iss: 'https://evil.example/v2.0' })))).toBe('issuer')
    expect(
      await reason(await issuer.sign(claims({ tid: '00000000-0000-4000-8000-00000000dead', iss: issuer.issuerFor('00000000-0000-4000-8000-00000000dead') }))),
    ).toBe('issuer')
  })
  it('refuses an unknown kid and a token signed by another key under the known kid', async () => {
    const { privateKey } = await generateKeyPair('RS256')
    expect(await reason(await issuer.sign(claims(), { key: privateKey, kid: 'not-published' }))).toBe('ERR_JWKS_NO_MATCHING_KEY')
    expect(await reason(await issuer.sign(claims(), { key: privateKey }))).toBe('ERR_JWS_SIGNATURE_VERIFICATION_FAILED')
  })
  it('refuses a token that lives longer than Entra issues them (90 minutes), or says nothing of when it was issued', async () => {
    const tenYears = 10 * 365 * 24 * 60 * 60
    expect(await reason(await issuer.sign(claims({ iat: now(), exp: now() + tenYears })))).toBe('lifetime')
    expect(await reason(await issuer.sign(claims({ iat: now() - 60, exp: now() + 90 * 60 - 59 })))).toBe('lifetime')
    expect(await reason(await issuer.sign(claims({ iat: undefined })))).toBe('ERR_JWT_CLAIM_VALIDATION_FAILED')
    // Control: exactly 90 minutes passes.
    await expect(verify(await issuer.sign(claims({ iat: now() - 60, exp: now() + 90 * 60 - 60 })))).resolves.toBeTruthy()
  })
  it('refuses a token without tid/oid', async () => {
    expect(await reason(await issuer.sign(claims({ oid: undefined })))).toBe('ERR_JWT_CLAIM_VALIDATION_FAILED')
  })
})

describe('verifyAccessToken: app-only tokens (an EHR system; docs/decisions/058)', () => {
  const app = (overrides: JWTPayload = {}) => {
    const sp = randomUUID()
    return claims({ oid: sp, sub: sp, idtyp: 'app', azp: 'ehr-app', roles: ['Referral.Read'], ...overrides })
  }
  it('gives the app and its roles, never a user: the service principal oid is not looked up', async () => {
    await expect(verify(await issuer.sign(app()))).resolves.toEqual({ tid: TENANT, clientId: 'ehr-app', roles: ['Referral.Read'] })
    // v1 tokens name the app in appid; Entra leaves roles out when none is granted.
    await expect(verify(await issuer.sign(app({ azp: undefined, appid: 'v1-app', roles: undefined })))).resolves.toEqual({
      tid: TENANT,
      clientId: 'v1-app',
      roles: [],
    })
    // Without the optional idtyp claim: no scp, and oid = sub, as Microsoft says.
    await expect(verify(await issuer.sign(app({ idtyp: undefined })))).resolves.toMatchObject({ clientId: 'ehr-app' })
  })
  it('takes a person’s token as a person’s (scp present, or oid is not the subject)', async () => {
    const oid = randomUUID()
    await expect(verify(await issuer.sign(claims({ oid, sub: oid, scp: 'access_as_user' })))).resolves.toEqual({ tid: TENANT, oid })
    await expect(verify(await issuer.sign(claims({ oid, sub: 'someone-else' })))).resolves.toEqual({ tid: TENANT, oid })
  })
  it('refuses an app token with a delegated scope, without an app id, with an odd app id or roles, or from another issuer or tenant', async () => {
    expect(await reason(await issuer.sign(app({ scp: 'access_as_user' })))).toBe('claims')
    expect(await reason(await issuer.sign(app({ azp: undefined })))).toBe('claims')
    expect(await reason(await issuer.sign(app({ azp: 'has space' })))).toBe('claims')
    expect(await reason(await issuer.sign(app({ roles: 'Referral.Read' })))).toBe('claims')
    expect(await reason(await issuer.sign(app({ roles: [1] })))).toBe('claims')
    expect(await reason(await issuer.sign(app({ iss: 'https://evil.example/v2.0' })))).toBe('issuer')
    expect(await reason(await issuer.sign(app({ aud: 'api://someone-else' })))).toBe('ERR_JWT_CLAIM_VALIDATION_FAILED')
    expect(await reason(await issuer.sign(app({ iat: now(), exp: now() + 24 * 3600 })))).toBe('lifetime')
  })
})

describe('the OpenAPI document', () => {
  it('is generated from the zod schemas', () => {
    const doc = openApiDocument() as {
      openapi: string
      paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: { properties?: object } }> } }>>
    }
    expect(doc.openapi).toBe('3.1.0')
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/me', '/referrals', '/referrals/{id}', '/referrals/{id}/events', '/audit-logs']))
    expect(Object.keys(doc.paths['/referrals']!.post!.requestBody!.content['application/json']!.schema.properties!)).toEqual(['formVersion', 'data'])
  })
})
