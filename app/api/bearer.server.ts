/**
 * Who is calling /api/*: `Authorization: Bearer <access token>` only. Cookies are never read
 * here, so the API offers no CSRF surface. The token is verified with jose against the same
 * discovery and JWKS cache as sign-in (oidc.server.ts): RS256 only, iss, aud = API_AUDIENCE,
 * exp/nbf with a 60 s skew, a lifetime (exp - iat) of at most 90 minutes, `tid` on the allow-list; then (tid, oid) maps to the user who is
 * already provisioned AND bound by an interactive sign-in (request_start, drizzle/0012).
 *
 * An app-only token (Entra's client-credentials flow: `idtyp` "app", no `scp`, the app in `azp`,
 * its app roles in `roles`) is an EHR system's: the same checks, then (tid, client id) maps to the
 * active integration a clinic admin registered (integration_start, drizzle/0034). Its `oid` is the
 * app's service principal, never a user's, and is not looked up
 * (docs/decisions/058-ehr-integrations-app-only-tokens.md).
 */
import { errors as joseErrors, jwtVerify, type JWTPayload } from 'jose'
import { integrationIdentity, signedInIdentity, type Identity } from '~/auth/identity.server'
import { CLOCK_TOLERANCE_SECONDS, discover, keySet } from '~/auth/oidc.server'
import type { Env } from '~/utils/env.server'
import type { RequestStarter } from '~/tenancy/request-start.server'
import { apiError, invalidToken } from './errors.server'

/** A request the API refuses before any route runs: the pipeline sends `response` as is. */
export class ApiRefusal extends Error {
  constructor(readonly response: Response) {
    super('api refusal')
  }
}

export class AccessTokenError extends Error {
  constructor(readonly reason: string) {
    super(`access token refused: ${reason}`)
    this.name = 'AccessTokenError'
  }
}

/**
 * The longest access token the API accepts (exp - iat). Entra issues 60-90 minute access tokens;
 * a longer one came from a misconfigured or impersonated issuer, and a stolen one would stay
 * good for as long as it says (docs/decisions/020-server-side-sessions.md).
 */
export const MAX_ACCESS_TOKEN_LIFETIME_SECONDS = 90 * 60

export type AccessTokenOptions = { authority: string; audience: string; allowedTenants: string[] }

/** A person's token (delegated: tid + oid), or an EHR system's app-only token (tid + its client id and app roles). */
export type VerifiedToken = { tid: string; oid: string } | { tid: string; clientId: string; roles: string[] }

/** An Entra application (client) id, or the local provider's client ids. */
const CLIENT_ID = /^[A-Za-z0-9._-]{1,100}$/

/**
 * Entra marks an app-only token with `idtyp: "app"` when that optional claim is configured; without
 * it, Microsoft's own rule: no `scp`, and `oid` equal to `sub` (the service principal acting as itself).
 */
const isAppOnly = (payload: JWTPayload) =>
  payload.idtyp === 'app' || (payload.scp === undefined && typeof payload.oid === 'string' && payload.oid === payload.sub)

/** Verifies an access token; AccessTokenError says why one is refused. Other errors: the provider is unreachable. */
export async function verifyAccessToken(token: string, options: AccessTokenOptions): Promise<VerifiedToken> {
  const discovery = await discover(options.authority)
  let payload: JWTPayload
  try {
    ;({ payload } = await jwtVerify(token, keySet(discovery.jwks_uri), {
      algorithms: ['RS256'],
      audience: options.audience,
      clockTolerance: CLOCK_TOLERANCE_SECONDS,
      requiredClaims: ['iss', 'aud', 'exp', 'iat', 'tid'],
    }))
  } catch (error) {
    // Reaching the JWKS failed: the caller is not at fault, so this is not a 401.
    if (error instanceof joseErrors.JWKSTimeout || !(error instanceof joseErrors.JOSEError)) throw error
    throw new AccessTokenError(error.code)
  }
  const app = isAppOnly(payload)
  // A person's token must name them (as jose's requiredClaims would have said).
  if (!app && payload.oid === undefined) throw new AccessTokenError('ERR_JWT_CLAIM_VALIDATION_FAILED')
  if (typeof payload.tid !== 'string' || (!app && typeof payload.oid !== 'string')) throw new AccessTokenError('claims')
  if (payload.exp! - payload.iat! > MAX_ACCESS_TOKEN_LIFETIME_SECONDS) throw new AccessTokenError('lifetime')
  // Multi-tenant Entra discovery says ".../{tenantid}/v2.0"; the token names its own tenant.
  if (payload.iss !== discovery.issuer.replace('{tenantid}', payload.tid)) throw new AccessTokenError('issuer')
  if (!options.allowedTenants.includes(payload.tid)) throw new AccessTokenError('tenant')
  if (!app) return { tid: payload.tid, oid: payload.oid as string }
  // v2 tokens name the app in azp, v1 in appid. A delegated scope in an app token is not Entra's.
  const clientId = payload.azp ?? payload.appid
  if (typeof clientId !== 'string' || !CLIENT_ID.test(clientId) || payload.scp !== undefined) throw new AccessTokenError('claims')
  const roles = payload.roles ?? []
  if (!Array.isArray(roles) || roles.length > 50 || !roles.every((r) => typeof r === 'string')) throw new AccessTokenError('claims')
  return { tid: payload.tid, clientId, roles }
}

const BEARER = /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*)$/

/**
 * The identity for an /api request, or an ApiRefusal (401/403). Network or database failures
 * are thrown as they are (the load context turns them into 503).
 */
export async function resolveApiIdentity(request: Request, env: Env, start: RequestStarter): Promise<Identity> {
  const header = request.headers.get('Authorization')
  if (!header) throw new ApiRefusal(apiError(401))
  const token = BEARER.exec(header.trim())?.[1]
  if (!token) throw new ApiRefusal(invalidToken('malformed'))
  if (!env.OIDC_AUTHORITY || !env.API_AUDIENCE) throw new Error('OIDC_AUTHORITY and API_AUDIENCE must be configured')

  let verified: VerifiedToken
  try {
    verified = await verifyAccessToken(token, {
      authority: env.OIDC_AUTHORITY.replace(/\/$/, ''),
      audience: env.API_AUDIENCE,
      allowedTenants: (env.OIDC_ALLOWED_TENANTS ?? '')
        .split(',')
        .map((t) => t.trim())
        .filter(Boolean),
    })
  } catch (error) {
    if (error instanceof AccessTokenError) throw new ApiRefusal(invalidToken(error.reason))
    throw error
  }

  if ('clientId' in verified) return integrationCaller(verified, start)
  const started = await start({ tid: verified.tid, oid: verified.oid })
  const row = started.user
  // Only users bound by an interactive sign-in: a token alone never claims an invitation.
  if (!row) throw new ApiRefusal(invalidToken('not_provisioned'))
  if (row.status !== 'active') throw new ApiRefusal(apiError(403, 'This account is not active'))
  // A superadmin belongs to no clinic: they work in one through the web app's audited clinic
  // switch, which an API call has no way to make (docs/decisions/015-superadmins-not-on-the-api.md).
  if (row.role === 'superadmin' || !started.clinic) throw new ApiRefusal(superadminRefused())
  return signedInIdentity({ ...started, user: row })
}

/** 403 for a superadmin's token: said in words, so whoever wired up the integration knows what to do instead. */
const superadminRefused = () =>
  apiError(
    403,
    'Superadmin accounts cannot use the API: a superadmin works in a clinic by switching to it in the IntakePilot web app. Use the token of a member of that clinic.',
    { reason: 'superadmin' },
  )

/**
 * An EHR system's app-only token: the active integration registered for its app, or a refusal.
 * It may use only the app roles that both its token and its registration grant.
 */
async function integrationCaller(verified: { tid: string; clientId: string; roles: string[] }, start: RequestStarter): Promise<Identity> {
  const started = await start({ tid: verified.tid, clientId: verified.clientId })
  const { integration, clinic } = started
  // Never registered, or revoked: refused from the next request on, whatever the token's expiry.
  if (!integration || !clinic) throw new ApiRefusal(invalidToken('not_registered'))
  const identity = integrationIdentity({ ...started, integration, clinic }, verified.roles)
  if (!identity.user?.appRoles?.length) throw new ApiRefusal(noAppRole())
  return identity
}

/** 403 for an app whose token carries none of the app roles its registration lets it use. */
const noAppRole = () =>
  apiError(
    403,
    "This app's token carries no app role that its IntakePilot integration allows (Referral.Read, Referral.Submit): grant the app the role in Entra, or change the integration on the clinic's integrations page.",
    { reason: 'app_role' },
  )
