/**
 * The load context for one request: who is asking (session, refreshed once, here), the
 * database scoped to them, and the audit writer. Built by the request pipeline, in workerd
 * and under `npm run dev` alike (vite.config.ts).
 */
import type { AppLoadContext } from '@remix-run/cloudflare'
import { auditRequest, recordAudit } from '~/audit/audit.server'
import { ApiRefusal, resolveApiIdentity } from '~/api/bearer.server'
import { isApiPath } from '~/api/cors.server'
import { anonymousIdentity, resolveIdentity } from '~/auth/identity.server'
import { connectDatabase } from '~/db/client.server'
import { createTenantDatabase, NO_SCOPE, type TenantScope } from '~/tenancy/tenant.server'
import { isProduction, type Env } from './env.server'
import { anonymousRateLimitKey, type RateLimitVerdict } from './rate-limit.server'
import { requestStarter } from './request-start.server'
import { createNonce } from './security-headers.server'

/** Where Remix's client asks for the routes of links it sees (lazy route discovery). */
const ROUTE_DISCOVERY_PATH = '/__manifest'

/** The identity step could not reach the database or the identity provider. */
export class UnavailableError extends Error {
  constructor(readonly cause: unknown) {
    super('unavailable')
  }
}

export async function createLoadContext(options: {
  request: Request
  env: Env
  waitUntil: (promise: Promise<unknown>) => void
  requestId?: string
  nonce?: string
  /** Filled by loaders that need the page to reach another origin; read into the CSP. */
  connectOrigins?: string[]
}): Promise<{
  context: AppLoadContext
  scope: TenantScope
  sessionCookie: string | null
  rateLimit: RateLimitVerdict | null
  end: () => Promise<void>
}> {
  const { request, env } = options
  const requestId = options.requestId ?? crypto.randomUUID()
  const connection = connectDatabase({ url: env.DATABASE_URL, wsProxy: env.DATABASE_WS_PROXY })
  const end = () => connection.end().catch(() => {})
  const anonymous = createTenantDatabase(connection.db, NO_SCOPE)
  // Who is asking, their clinic and their rate-limit count: one statement (request_start).
  const start = requestStarter(connection.db, anonymousRateLimitKey(request))
  const { pathname } = new URL(request.url)
  // /api/* takes a bearer token and never reads cookies (no CSRF surface); pages take the session.
  // Remix's route discovery (/__manifest) reads no data: it needs nobody, and must not end a
  // session (that would take the "your account was disabled" notice from the next page).
  const identity = await (pathname === ROUTE_DISCOVERY_PATH
    ? Promise.resolve(anonymousIdentity({ user: null, clinic: null, rateLimit: null }))
    : isApiPath(pathname)
      ? resolveApiIdentity(request, env, start)
      : resolveIdentity(request, env, anonymous, start)
  ).catch(async (error) => {
    await end()
    throw error instanceof ApiRefusal ? error : new UnavailableError(error)
  })
  const rateLimit = identity.rateLimit
  const scope = identity.scope
  const audited = auditRequest(request, requestId, { behindCloudflare: isProduction(env) })
  const context: AppLoadContext = {
    env,
    requestId,
    nonce: options.nonce ?? createNonce(),
    db: anonymous.withScope(scope),
    user: identity.user,
    clinic: identity.clinic,
    session: identity.session,
    sessionEnded: identity.endedBecause,
    sessionCookie: identity.setCookie,
    auditRequest: audited,
    audit: (tx, event) => recordAudit(tx, scope, audited, event),
    waitUntil: options.waitUntil,
    allowConnectTo: (origin) => void options.connectOrigins?.push(origin),
  }
  return { context, scope, sessionCookie: identity.setCookie, rateLimit, end }
}
