/**
 * The local identity provider behaves like Entra ID where the app depends on it: issuer shape,
 * claims, JWT access tokens for the API, rotating and revocable refresh tokens, logout.
 * Needs no database; it starts its own provider on a free port.
 */
import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEMO_TENANT_ID, FOREIGN_TENANT_ID, findDemoAccount } from '../../scripts/lib/demo-accounts'
import { startIdentityProvider, TOKEN_LIFETIMES, type IdentityProvider } from '../../scripts/lib/idp'
import { CLI_CLIENT_ID, CLI_REDIRECT_URI, discover, getTokensFor, refreshTokens } from '../../scripts/lib/idp-login'
import { freePort } from '../support/free-port'

const API = 'api://intakepilot-test'
const TTL = 321
const web = {
  clientId: 'test-web',
  clientSecret: 'a-test-secret_with-symbols.~',
  redirectUris: ['http://127.0.0.1:9/auth/callback'],
  postLogoutRedirectUris: ['http://127.0.0.1:9/login'],
}
const dir = mkdtempSync(join(tmpdir(), 'idp-test-'))
const jwksPath = join(dir, 'nested', 'jwks.json')
let idp: IdentityProvider

const signIn = (email: string, extra: { password?: string; prompt?: string } = {}) =>
  getTokensFor({ issuer: idp.issuer, email, clientId: web.clientId, clientSecret: web.clientSecret, redirectUri: web.redirectUris[0]!, ...extra })
const refresh = (refreshToken: string) => refreshTokens({ issuer: idp.issuer, clientId: web.clientId, clientSecret: web.clientSecret, refreshToken })

beforeAll(async () => {
  idp = await startIdentityProvider({ port: await freePort(), clients: [web], apiAudience: API, accessTokenTtlSeconds: TTL, jwksPath })
})
afterAll(async () => {
  await idp?.close()
  rmSync(dir, { recursive: true, force: true })
})

describe('local identity provider', () => {
  it('publishes an Entra-shaped issuer that signs with RS256', async () => {
    const response = await fetch(`${idp.issuer}/.well-known/openid-configuration`)
    expect(response.status).toBe(200)
    const doc = await response.json<Record<string, string[] | string>>()
    expect(idp.issuer).toBe(`http://127.0.0.1:${idp.port}/${DEMO_TENANT_ID}/v2.0`)
    expect(doc.issuer).toBe(idp.issuer)
    expect(doc.id_token_signing_alg_values_supported).toContain('RS256')
    expect(doc.code_challenge_methods_supported).toEqual(['S256'])
    for (const endpoint of ['authorization_endpoint', 'token_endpoint', 'end_session_endpoint', 'jwks_uri']) {
      expect(doc[endpoint]).toMatch(new RegExp(`^${idp.issuer}/`))
    }
  })

  it('keeps its signing key (and kid) in jwksPath across restarts', async () => {
    const saved = (JSON.parse(readFileSync(jwksPath, 'utf8')) as { keys: { kid: string; d?: string }[] }).keys
    expect(saved).toHaveLength(1)
    expect(saved[0]!.d).toEqual(expect.any(String))
    const again = await startIdentityProvider({ port: await freePort(), clients: [], apiAudience: API, jwksPath })
    try {
      for (const issuer of [idp.issuer, again.issuer]) {
        const { keys } = await (await fetch((await discover(issuer)).jwks_uri)).json<{ keys: { kid: string; d?: string }[] }>()
        expect(keys.map((k) => k.kid)).toEqual([saved[0]!.kid])
        expect(keys[0]!.d).toBeUndefined()
      }
    } finally {
      await again.close()
    }
  })

  it('signs staff in headlessly: ID token with Entra claims, JWT access token for the API, refresh token', async () => {
    const account = findDemoAccount('staff@northside.test')!
    const tokens = await signIn(account.email)
    const { jwks_uri } = await discover(idp.issuer)
    const jwks = createRemoteJWKSet(new URL(jwks_uri))

    const { payload: id } = await jwtVerify(tokens.id_token, jwks, { issuer: idp.issuer, audience: web.clientId, algorithms: ['RS256'] })
    expect(id).toMatchObject({
      sub: account.oid,
      oid: account.oid,
      tid: DEMO_TENANT_ID,
      preferred_username: account.email,
      name: account.name,
      email: account.email,
      nonce: tokens.nonce,
    })

    expect(decodeProtectedHeader(tokens.access_token).alg).toBe('RS256')
    const { payload: access } = await jwtVerify(tokens.access_token, jwks, { issuer: idp.issuer, audience: API })
    expect(access).toMatchObject({ oid: account.oid, tid: DEMO_TENANT_ID, preferred_username: account.email, name: account.name, scp: 'access_as_user' })
    expect(access.exp! - access.iat!).toBe(TTL)
    expect(tokens.expires_in).toBe(TTL)
    expect(tokens.refresh_token).toEqual(expect.any(String))
    // Entra's ID tokens live one hour.
    expect(id.exp! - id.iat!).toBe(TOKEN_LIFETIMES.idTokenSeconds)
  })

  it('refuses to issue access tokens longer than Entra does (90 minutes), with a clear message', async () => {
    for (const ttl of [10 * 365 * 24 * 60 * 60, TOKEN_LIFETIMES.accessTokenMaxSeconds + 1, 0, -5, 1.5, Number.NaN]) {
      await expect(
        startIdentityProvider({ port: await freePort(), clients: [], apiAudience: API, accessTokenTtlSeconds: ttl, jwksPath }),
        String(ttl),
      ).rejects.toThrow(/IDP_ACCESS_TOKEN_TTL/)
    }
    // Control: the longest Entra issues starts.
    const longest = await startIdentityProvider({
      port: await freePort(),
      clients: [],
      apiAudience: API,
      accessTokenTtlSeconds: TOKEN_LIFETIMES.accessTokenMaxSeconds,
      jwksPath,
    })
    await longest.close()
  })

  it('puts a foreign account’s own tid in its tokens, from the same issuer', async () => {
    const tokens = await signIn('outsider@elsewhere.test')
    const { payload } = await jwtVerify(tokens.id_token, createRemoteJWKSet(new URL((await discover(idp.issuer)).jwks_uri)), { issuer: idp.issuer })
    expect(payload.tid).toBe(FOREIGN_TENANT_ID)
  })

  it('rotates refresh tokens: the new one works, the used one is refused', async () => {
    const first = await signIn('admin@lakeview.test')
    const second = await refresh(first.refresh_token!)
    expect(second.refresh_token).toEqual(expect.any(String))
    expect(second.refresh_token).not.toBe(first.refresh_token)
    const { payload } = await jwtVerify(second.access_token, createRemoteJWKSet(new URL((await discover(idp.issuer)).jwks_uri)), {
      issuer: idp.issuer,
      audience: API,
    })
    expect(payload.preferred_username).toBe('admin@lakeview.test')
    expect(second.expires_in).toBe(TTL)

    const third = await refresh(second.refresh_token!)
    expect(third.access_token).toEqual(expect.any(String))
    await expect(refresh(first.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' })
  })

  it('revokeAccount refuses that account’s refresh tokens, and only that account’s', async () => {
    const revoked = await signIn('referrer@northside.test')
    const other = await signIn('referrer2@northside.test')
    await idp.revokeAccount('referrer@northside.test')
    await expect(refresh(revoked.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' })
    await expect(refresh(other.refresh_token!)).resolves.toMatchObject({ token_type: 'Bearer' })
    await expect(idp.revokeAccount('nobody@nowhere.test')).rejects.toThrow(/No demo account/)
  })

  it('revokes over HTTP for other processes', async () => {
    const tokens = await signIn('disabled@riverbend.test')
    const response = await fetch(`http://127.0.0.1:${idp.port}/__dev/revoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'disabled@riverbend.test' }),
    })
    expect(response.status).toBe(200)
    await expect(refresh(tokens.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' })
  })

  it('accepts prompt=select_account (as Entra does) and still issues a refresh token', async () => {
    const tokens = await signIn('staff@lakeview.test', { prompt: 'select_account' })
    expect(tokens.refresh_token).toEqual(expect.any(String))
    await expect(refresh(tokens.refresh_token!)).resolves.toMatchObject({ token_type: 'Bearer' })
  })

  it('refuses a wrong password or an unknown email by re-rendering the sign-in page, without a code', async () => {
    await expect(signIn('staff@northside.test', { password: 'not-it' })).rejects.toThrow(/\(401 at .*\/interaction\/.*Wrong email or password/)
    await expect(signIn('ghost@northside.test')).rejects.toThrow(/Wrong email or password/)
  })

  it('logs out with id_token_hint straight back to the app, no confirmation page', async () => {
    const tokens = await signIn('staff@riverbend.test')
    const { end_session_endpoint } = await discover(idp.issuer)
    const url = new URL(end_session_endpoint!)
    url.search = new URLSearchParams({ id_token_hint: tokens.id_token, post_logout_redirect_uri: web.postLogoutRedirectUris[0]!, state: 'bye' }).toString()
    const response = await fetch(url, { headers: { cookie: tokens.idpCookies }, redirect: 'manual' })
    expect(response.status).toBe(303)
    expect(response.headers.get('location')).toBe(`${web.postLogoutRedirectUris[0]}?state=bye`)
    expect(response.headers.getSetCookie().some((c) => c.startsWith('_session=;'))).toBe(true)
    // Signing out of the IdP does not revoke refresh tokens (as at Entra); the app drops its own session.
    await expect(refresh(tokens.refresh_token!)).resolves.toMatchObject({ token_type: 'Bearer' })

    // Again, with the IdP session gone: still straight back, not oidc-provider's self-submitting form.
    const again = await fetch(url, { headers: { cookie: tokens.idpCookies }, redirect: 'manual' })
    expect(again.status).toBe(303)
    expect(again.headers.get('location')).toBe(`${web.postLogoutRedirectUris[0]}?state=bye`)
  })

  it('asks before signing out when the id_token_hint is someone else’s, with plain buttons and no script', async () => {
    const signedIn = await signIn('admin@riverbend.test')
    const someoneElse = await signIn('referrer@riverbend.test')
    const { end_session_endpoint } = await discover(idp.issuer)
    const url = `${end_session_endpoint}?${new URLSearchParams({ id_token_hint: someoneElse.id_token, post_logout_redirect_uri: web.postLogoutRedirectUris[0]! })}`
    const response = await fetch(url, { headers: { cookie: signedIn.idpCookies }, redirect: 'manual' })
    expect(response.status).toBe(200)
    const html = await response.text()
    expect(html).toContain('name="logout" value="yes"')
    expect(html).not.toContain('<script')
  })

  it('`npm run token` prints only an access token, and explains when the provider is not running', async () => {
    const run = promisify(execFile)
    const cwd = fileURLToPath(new URL('../..', import.meta.url))
    const { stdout } = await run('npx', ['tsx', 'scripts/token.ts', 'staff@northside.test'], { cwd, env: { ...process.env, IDP_PORT: String(idp.port) } })
    const token = stdout.trim()
    expect(token.split('.')).toHaveLength(3)
    const { payload } = await jwtVerify(token, createRemoteJWKSet(new URL((await discover(idp.issuer)).jwks_uri)), { audience: API })
    expect(payload.preferred_username).toBe('staff@northside.test')
    expect(payload.client_id).toBe(CLI_CLIENT_ID)
    expect(CLI_REDIRECT_URI).toBe('http://127.0.0.1/cli-callback')

    const closedPort = String(await freePort())
    const failed = await run('npx', ['tsx', 'scripts/token.ts', 'staff@northside.test'], { cwd, env: { ...process.env, IDP_PORT: closedPort } }).catch((e) => e)
    expect(failed.code).toBe(1)
    expect(failed.stdout).toBe('')
    expect(failed.stderr).toContain(`The local identity provider is not running on 127.0.0.1:${closedPort}: start IntakePilot with \`npm start\` first`)
  }, 60_000)
})
