/**
 * Drives the local identity provider's real authorization-code + PKCE flow without a browser:
 * for `npm run token` and for tests that need tokens. Kept free of oidc-provider so that the CLI
 * does not load the provider (and its runtime warnings) just to talk to a running one.
 */
import { createHash, randomBytes } from 'node:crypto'
import { DEMO_PASSWORD } from './demo-accounts'

/** The dev-only public client every local provider registers for headless sign-ins. */
export const CLI_CLIENT_ID = 'intakepilot-cli'
/** Never served: the flow stops at the redirect and reads the code from its Location header. */
export const CLI_REDIRECT_URI = 'http://127.0.0.1/cli-callback'
export const DEFAULT_SCOPE = 'openid profile email offline_access'

export type TokenSet = {
  access_token: string
  id_token: string
  refresh_token?: string
  expires_in: number
  token_type: string
  scope?: string
  /** The nonce sent with the authorization request (the ID token must echo it). */
  nonce: string
  /** Cookie header carrying the provider's browser session, e.g. for RP-initiated logout tests. */
  idpCookies: string
}

/** The provider answered with an OAuth error (e.g. `invalid_grant` for a revoked refresh token). */
export class OAuthError extends Error {
  constructor(
    readonly error: string,
    readonly description: string | undefined,
    readonly status: number,
  ) {
    super(description ? `${error}: ${description}` : error)
  }
}

/** Nothing is listening where the provider should be. */
export class IdpUnreachableError extends Error {}

type Discovery = { issuer: string; authorization_endpoint: string; token_endpoint: string; end_session_endpoint?: string; jwks_uri: string }

export async function discover(issuer: string): Promise<Discovery> {
  const url = `${issuer}/.well-known/openid-configuration`
  let response: Response
  try {
    response = await fetch(url)
  } catch (error) {
    throw new IdpUnreachableError(`Nothing answers at ${new URL(issuer).host}`, { cause: error })
  }
  if (!response.ok) throw new Error(`${url} answered ${response.status}: not the local identity provider?`)
  return (await response.json()) as Discovery
}

export async function getTokensFor(options: {
  issuer: string
  email: string
  password?: string
  clientId: string
  redirectUri: string
  clientSecret?: string
  scope?: string
  /** e.g. 'select_account' or 'login', as an Entra client may send. */
  prompt?: string
}): Promise<TokenSet> {
  const { issuer, email, password = DEMO_PASSWORD, clientId, redirectUri, clientSecret, scope = DEFAULT_SCOPE, prompt } = options
  const endpoints = await discover(issuer)
  const jar = new CookieJar()
  const verifier = randomBytes(32).toString('base64url')
  const state = randomBytes(16).toString('base64url')
  const nonce = randomBytes(16).toString('base64url')

  let url = new URL(endpoints.authorization_endpoint)
  url.search = new URLSearchParams({
    client_id: clientId,
    redirect_uri: redirectUri,
    response_type: 'code',
    scope,
    state,
    nonce,
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
    login_hint: email,
    ...(prompt ? { prompt } : {}),
  }).toString()
  let response = await jar.fetch(url)
  let submitted = false

  for (let hop = 0; hop < 20; hop++) {
    const location = response.headers.get('location')
    if (response.status >= 300 && response.status < 400 && location) {
      url = new URL(location, url)
      if (`${url.origin}${url.pathname}` === redirectUri) break
      response = await jar.fetch(url)
    } else if (response.status === 200 && !submitted && url.pathname.includes('/interaction/')) {
      // The sign-in page posts back to its own URL (see loginPage in idp.ts).
      submitted = true
      response = await jar.fetch(url, new URLSearchParams({ login: email, password }))
    } else {
      const html = await response.text()
      const alert = /role="alert">([^<]*)</.exec(html)?.[1]
      throw new Error(`Sign-in as ${email} failed (${response.status} at ${url.pathname}): ${alert ?? html.slice(0, 300)}`)
    }
  }

  const returned = url.searchParams
  if (returned.get('error')) throw new OAuthError(returned.get('error')!, returned.get('error_description') ?? undefined, 400)
  if (returned.get('state') !== state) throw new Error('The authorization response carried the wrong state')
  const code = returned.get('code')
  if (!code) throw new Error(`Sign-in as ${email} did not reach ${redirectUri} with a code`)

  const tokens = await tokenRequest(
    endpoints.token_endpoint,
    { clientId, clientSecret },
    {
      grant_type: 'authorization_code',
      code,
      redirect_uri: redirectUri,
      code_verifier: verifier,
    },
  )
  const idPayload = JSON.parse(Buffer.from(String(tokens.id_token).split('.')[1] ?? '', 'base64url').toString('utf8'))
  if (idPayload.nonce !== nonce) throw new Error('The ID token did not echo the nonce')
  return { ...(tokens as Omit<TokenSet, 'nonce' | 'idpCookies'>), nonce, idpCookies: jar.header(new URL(issuer)) }
}

/** One refresh-token grant; the provider rotates, so use the returned refresh_token next time. */
export async function refreshTokens(options: {
  issuer: string
  clientId: string
  clientSecret?: string
  refreshToken: string
}): Promise<Omit<TokenSet, 'nonce' | 'idpCookies'>> {
  const { token_endpoint } = await discover(options.issuer)
  return (await tokenRequest(token_endpoint, options, {
    grant_type: 'refresh_token',
    refresh_token: options.refreshToken,
  })) as Omit<TokenSet, 'nonce' | 'idpCookies'>
}

/**
 * An EHR system's app-only token: the client-credentials grant, asking for the API's `.default`
 * scope as an Entra client does (every app role it was granted comes in `roles`).
 */
export async function getAppToken(options: { issuer: string; clientId: string; clientSecret: string; audience?: string }) {
  const { token_endpoint } = await discover(options.issuer)
  return (await tokenRequest(token_endpoint, options, {
    grant_type: 'client_credentials',
    scope: `${options.audience ?? 'api://intakepilot'}/.default`,
  })) as { access_token: string; expires_in: number; token_type: string }
}

async function tokenRequest(endpoint: string, client: { clientId: string; clientSecret?: string }, params: Record<string, string>) {
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' }
  const body = new URLSearchParams(params)
  if (client.clientSecret) {
    // RFC 6749 §2.3.1: each half is form-encoded before the Basic encoding.
    const pair = `${encodeURIComponent(client.clientId)}:${encodeURIComponent(client.clientSecret)}`
    headers.authorization = `Basic ${Buffer.from(pair).toString('base64')}`
  } else {
    body.set('client_id', client.clientId)
  }
  const response = await fetch(endpoint, { method: 'POST', headers, body })
  const json = (await response.json()) as Record<string, unknown>
  if (!response.ok) throw new OAuthError(String(json.error ?? 'server_error'), json.error_description as string | undefined, response.status)
  return json
}

/** Just enough of a cookie jar for one loopback origin: name, value, path; expired ones dropped. */
class CookieJar {
  private cookies = new Map<string, { name: string; value: string; path: string }>()

  async fetch(url: URL, form?: URLSearchParams) {
    const headers: Record<string, string> = { cookie: this.header(url) }
    if (form) headers['content-type'] = 'application/x-www-form-urlencoded'
    const response = await fetch(url, { method: form ? 'POST' : 'GET', headers, body: form, redirect: 'manual' })
    for (const line of response.headers.getSetCookie()) this.store(line)
    return response
  }

  header(url: URL) {
    return [...this.cookies.values()]
      .filter((c) => url.pathname === c.path || url.pathname.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`))
      .map((c) => `${c.name}=${c.value}`)
      .join('; ')
  }

  private store(line: string) {
    const [pair = '', ...attributes] = line.split(';').map((part) => part.trim())
    const name = pair.slice(0, pair.indexOf('='))
    const value = pair.slice(pair.indexOf('=') + 1)
    let path = '/'
    let expired = value === ''
    for (const attribute of attributes) {
      const [key = '', val = ''] = attribute.split('=')
      if (key.toLowerCase() === 'path') path = val
      if (key.toLowerCase() === 'expires' && Date.parse(val) < Date.now()) expired = true
      if (key.toLowerCase() === 'max-age' && Number(val) <= 0) expired = true
    }
    if (expired) this.cookies.delete(`${name};${path}`)
    else this.cookies.set(`${name};${path}`, { name, value, path })
  }
}
