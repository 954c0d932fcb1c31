/**
 * Microsoft Entra ID over OpenID Connect: discovery, the remix-auth strategy pointed at a
 * configurable authority, and ID-token verification with jose.
 *
 * Neither remix-auth-microsoft nor remix-auth-oauth2 verifies the ID token, so we do:
 * RS256 only, keys from the issuer's JWKS (cached; fetched again on an unknown kid),
 * iss, aud, exp, nbf, nonce, and `tid` on the deployment's allow-list.
 */
import { data } from '@remix-run/cloudflare'
import { createRemoteJWKSet, jwtVerify, type JWTPayload } from 'jose'
import { MicrosoftStrategy } from 'remix-auth-microsoft'
import type { Env } from '~/utils/env.server'
import { isProduction } from '~/utils/env.server'

export const OIDC_SCOPES = ['openid', 'profile', 'email', 'offline_access']
export const CLOCK_TOLERANCE_SECONDS = 60
/**
 * Entra answers in well under a second; a provider that has not answered in this long is down.
 * Shorter than the request deadline, so the answer is "sign-in is unavailable", not a timeout.
 */
export const PROVIDER_TIMEOUT_MS = 4000

/**
 * The identity provider could not be reached, timed out, or answered with a server error: an
 * outage, not a verdict on the user. Nobody is signed out for it (docs/decisions/024-faults.md).
 */
export class SignInUnavailableError extends Error {
  constructor(readonly cause: unknown) {
    super('the identity provider is unavailable')
    this.name = 'SignInUnavailableError'
  }
}

/** What a route throws when it needs the provider and cannot reach it: a 503 the error boundary explains. */
export const signInUnavailable = () => data({ reason: SIGN_IN_UNAVAILABLE }, { status: 503, headers: { 'Retry-After': '5' } })
export const SIGN_IN_UNAVAILABLE = 'sign-in-unavailable'

/** Gives up on a call to the provider after PROVIDER_TIMEOUT_MS (arctic's fetch takes no signal). */
export function withProviderTimeout<T>(promise: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer from the identity provider within ${PROVIDER_TIMEOUT_MS} ms`)), PROVIDER_TIMEOUT_MS)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

export type OidcConfig = {
  authority: string
  clientId: string
  clientSecret: string
  allowedTenants: string[]
  redirectUri: string
}

export function oidcConfig(env: Env, request: Request): OidcConfig {
  if (!env.OIDC_AUTHORITY || !env.OIDC_CLIENT_ID || !env.OIDC_CLIENT_SECRET) {
    throw new Error('OIDC_AUTHORITY, OIDC_CLIENT_ID and OIDC_CLIENT_SECRET must be configured')
  }
  const origin = env.APP_ORIGIN ?? new URL(request.url).origin
  return {
    authority: env.OIDC_AUTHORITY.replace(/\/$/, ''),
    clientId: env.OIDC_CLIENT_ID,
    clientSecret: env.OIDC_CLIENT_SECRET,
    allowedTenants: (env.OIDC_ALLOWED_TENANTS ?? '')
      .split(',')
      .map((t) => t.trim())
      .filter(Boolean),
    redirectUri: `${origin}/auth/callback`,
  }
}

type Discovery = {
  issuer: string
  authorization_endpoint: string
  token_endpoint: string
  jwks_uri: string
  end_session_endpoint?: string
}

// Per isolate: discovery documents and key sets change rarely; jose refetches on unknown kid.
const discoveries = new Map<string, Promise<Discovery>>()
const keySets = new Map<string, ReturnType<typeof createRemoteJWKSet>>()

export function discover(authority: string): Promise<Discovery> {
  let found = discoveries.get(authority)
  if (!found) {
    found = fetch(`${authority}/.well-known/openid-configuration`, {
      headers: { Accept: 'application/json' },
      signal: AbortSignal.timeout(PROVIDER_TIMEOUT_MS),
    }).then(async (response) => {
      if (!response.ok) throw new Error(`OpenID discovery failed (${response.status})`)
      const discovery = await response.json<Discovery>()
      // The document must be the authority's own (multi-tenant Entra publishes a template).
      if (discovery.issuer !== authority && !discovery.issuer.includes('{tenantid}')) {
        throw new Error('OpenID discovery issuer does not match the configured authority')
      }
      return discovery
    })
    found.catch(() => discoveries.delete(authority))
    discoveries.set(authority, found)
  }
  return found
}

export function keySet(jwksUri: string) {
  let set = keySets.get(jwksUri)
  if (!set) {
    set = createRemoteJWKSet(new URL(jwksUri), { cooldownDuration: 30_000, cacheMaxAge: 10 * 60_000 })
    keySets.set(jwksUri, set)
  }
  return set
}

/** The verified identity: Entra tenant and object ids (the key), never the email alone. */
export type VerifiedIdentity = { tid: string; oid: string; email: string; name: string }

export class IdTokenError extends Error {
  constructor(readonly reason: string) {
    super(`ID token refused: ${reason}`)
    this.name = 'IdTokenError'
  }
}

export async function verifyIdToken(
  idToken: string,
  options: { authority: string; clientId: string; allowedTenants: string[]; nonce: string },
): Promise<VerifiedIdentity> {
  const discovery = await discover(options.authority)
  let payload: JWTPayload
  try {
    ;({ payload } = await jwtVerify(idToken, keySet(discovery.jwks_uri), {
      algorithms: ['RS256'],
      audience: options.clientId,
      clockTolerance: CLOCK_TOLERANCE_SECONDS,
      requiredClaims: ['iss', 'aud', 'exp', 'iat', 'tid', 'oid', 'nonce'],
      maxTokenAge: '1h',
    }))
  } catch (error) {
    throw new IdTokenError((error as { code?: string }).code ?? 'invalid')
  }
  if (typeof payload.tid !== 'string' || typeof payload.oid !== 'string') throw new IdTokenError('claims')
  const tid = payload.tid
  // Multi-tenant Entra discovery says ".../{tenantid}/v2.0"; the token names its own tenant.
  const issuer = discovery.issuer.replace('{tenantid}', tid)
  if (payload.iss !== issuer) throw new IdTokenError('issuer')
  if (payload.nonce !== options.nonce) throw new IdTokenError('nonce')
  if (!options.allowedTenants.includes(tid)) throw new IdTokenError('tenant')
  const email = String(payload.email ?? payload.preferred_username ?? '')
  return { tid, oid: payload.oid, email, name: String(payload.name ?? email) }
}

/** The nonce is derived from the state, so the callback can check it without storing it. */
export async function nonceFor(state: string, secret: string) {
  const key = await crypto.subtle.importKey('raw', new TextEncoder().encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign'])
  const mac = new Uint8Array(await crypto.subtle.sign('HMAC', key, new TextEncoder().encode(`nonce:${state}`)))
  return btoa(String.fromCharCode(...mac))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '')
}

/**
 * remix-auth-microsoft hard-codes login.microsoftonline.com; its endpoints are options read
 * at call time, so this subclass points them at the discovered authority (Entra in
 * production, the local provider in development and tests) and adds the OIDC nonce.
 */
export class EntraStrategy<User> extends MicrosoftStrategy<User> {
  constructor(
    private readonly discovery: Discovery,
    config: OidcConfig,
    private readonly nonceSecret: string,
    verify: MicrosoftStrategy<User>['verify'],
    env: Env,
  ) {
    super({ clientId: config.clientId, clientSecret: config.clientSecret, redirectURI: config.redirectUri, scopes: OIDC_SCOPES }, verify)
    this.options.authorizationEndpoint = new URL(discovery.authorization_endpoint)
    this.options.tokenEndpoint = new URL(discovery.token_endpoint)
    // The PKCE state cookie: short-lived, HttpOnly, and origin-bound in production.
    this.options.cookie = isProduction(env)
      ? { name: '__Host-intakepilot_oauth', secure: true, path: '/', sameSite: 'Lax', httpOnly: true }
      : { name: 'intakepilot_oauth', path: '/', sameSite: 'Lax', httpOnly: true }
  }

  /**
   * Adds the nonce to the authorization redirect. (authorizationParams is synchronous and
   * Web Crypto is not, so the redirect the strategy throws is amended on its way out.)
   */
  async authenticate(request: Request): Promise<User> {
    try {
      return await super.authenticate(request)
    } catch (thrown) {
      const location = thrown instanceof Response ? thrown.headers.get('Location') : null
      if (!location || new URL(request.url).searchParams.has('state')) throw thrown
      const url = new URL(location)
      url.searchParams.set('nonce', await nonceFor(url.searchParams.get('state') ?? '', this.nonceSecret))
      const headers = new Headers((thrown as Response).headers)
      headers.set('Location', url.toString())
      throw new Response(null, { status: 302, headers })
    }
  }

  get endSessionEndpoint() {
    return this.discovery.end_session_endpoint
  }
}

/** The strategy for this request's environment (discovery is cached per isolate). */
export async function createEntraStrategy<User>(env: Env, request: Request, verify: MicrosoftStrategy<User>['verify']) {
  const config = oidcConfig(env, request)
  const discovery = await discover(config.authority).catch((error) => {
    throw new SignInUnavailableError(error)
  })
  return new EntraStrategy<User>(discovery, config, nonceSecret(env), verify, env)
}

export const nonceSecret = (env: Env) => `${(env.SESSION_SECRETS ?? '').split(',')[0]}/oidc-nonce`
