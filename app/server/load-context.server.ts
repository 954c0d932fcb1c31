/**
 * The load context for one request: who is asking (session, refreshed once, here), the
 * database scoped to them, and the audit writer. Built by the request pipeline, in workerd
 * and under `npm run dev` alike (vite.config.ts).
 */
import type { AppLoadContext } from '@remix-run/cloudflare'
import { auditRequest, recordAudit } from '~/audit/audit.server'
import { ApiRefusal, resolveApiIdentity } from '~/api/bearer.server'
import { isAnonymousApiRequest, isApiPath } from '~/api/cors.server'
import { anonymousIdentity, resolveIdentity } from '~/auth/identity.server'
import { phiCipherFromEnv, type PhiCipher } from '~/crypto/phi.server'
import type { Client } from '@neondatabase/serverless'
import { connectDatabase, type Database } from '~/db/client.server'
import { createTenantDatabase, NO_SCOPE, type TenantScope } from '~/tenancy/tenant.server'
import { isProduction, type Env } from '~/utils/env.server'
import { classifyFailure, type NotedFailure } from '~/utils/failures.server'
import { anonymousRateLimitKey, type RateLimitVerdict } from '~/tenancy/rate-limit.server'
import { requestStarter } from '~/tenancy/request-start.server'
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
  /** The request's deadline: when it aborts, the connection is closed and nothing commits. */
  signal?: AbortSignal
}): Promise<{
  context: AppLoadContext
  scope: TenantScope
  sessionCookie: string | null
  rateLimit: RateLimitVerdict | null
  end: () => Promise<void>
  /** What context.noteFailure was told, if anything. */
  failure: () => NotedFailure | undefined
}> {
  const { request, env } = options
  const requestId = options.requestId ?? crypto.randomUUID()
  const connection = connectDatabase({ url: env.DATABASE_URL, wsProxy: env.DATABASE_WS_PROXY })
  const end = () => connection.end().catch(() => {})
  if (options.signal) closeOnAbort(connection.db, options.signal, end)
  const anonymous = createTenantDatabase(connection.db, NO_SCOPE, options.signal)
  // Who is asking, their clinic and their rate-limit count: one statement (request_start).
  const start = requestStarter(connection.db, anonymousRateLimitKey(request))
  const { pathname } = new URL(request.url)
  // /api/* takes a bearer token and never reads cookies (no CSRF surface); pages take the session.
  // Remix's route discovery (/__manifest) reads no data: it needs nobody, and must not end a
  // session (that would take the "your account was disabled" notice from the next page).
  const identity = await (
    pathname === ROUTE_DISCOVERY_PATH
      ? Promise.resolve(anonymousIdentity({ user: null, clinic: null, rateLimit: null }))
      : isAnonymousApiRequest(request, pathname)
        ? start(null).then((started) => anonymousIdentity(started))
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
  let failure: NotedFailure | undefined
  let phi: PhiCipher | undefined
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
    get phi() {
      return (phi ??= phiCipherFromEnv(env))
    },
    waitUntil: options.waitUntil,
    allowConnectTo: (origin) => void options.connectOrigins?.push(origin),
    noteFailure: (error) => void (failure ??= classifyFailure(error)),
  }
  return { context, scope, sessionCookie: identity.setCookie, rateLimit, end, failure: () => failure }
}

/**
 * Past the deadline, the request's connection is closed at once, even mid-query (a statement
 * waiting on a lock): ending the pool alone would wait for that query. The server rolls back
 * the open transaction when the connection goes; db.tenant never sends its commit.
 */
function closeOnAbort(db: Database, signal: AbortSignal, end: () => Promise<void>) {
  const pool = db.$client
  // A pool's connections are whole clients (they can be ended), whatever the event's type says.
  const clients = new Set<Client>()
  pool.on('connect', (client: Client) => {
    clients.add(client)
    // A connection that drops mid-query fails that query (answered 503); it must not also be an
    // uncaught 'error' event (the pool listens only while a connection is idle).
    client.on('error', () => {})
  })
  pool.on('remove', (client: Client) => clients.delete(client))
  signal.addEventListener(
    'abort',
    () => {
      for (const client of clients) client.end().catch(() => {})
      void end()
    },
    { once: true },
  )
}
