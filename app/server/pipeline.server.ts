/**
 * The request pipeline (DESIGN §1): runs once per request, before Remix.
 * request id -> database for this request -> Remix -> security headers -> one log line.
 * Nothing that reaches the browser from here ever carries a stack trace.
 */
import { createRequestHandler, type AppLoadContext, type ServerBuild } from '@remix-run/cloudflare'
import { connectDatabase } from '~/db/client.server'
import { createTenantDatabase, NO_SCOPE } from '~/tenancy/tenant.server'
import type { Env } from './env.server'
import { isProduction } from './env.server'
import { logError, logRequest } from './log.server'
import { createRoutePatternMatcher } from './route-pattern.server'
import { applySecurityHeaders, createNonce } from './security-headers.server'
import './context'

type PagesContext = EventContext<Env, string, Record<string, unknown>>

export function createRequestPipeline(build: ServerBuild) {
  const handleRemixRequest = createRequestHandler(build, 'production')
  const routePattern = createRoutePatternMatcher(build)

  return async function handle(ctx: PagesContext): Promise<Response> {
    const started = Date.now()
    const { request, env } = ctx
    const requestId = crypto.randomUUID()
    const nonce = createNonce()
    const url = new URL(request.url)
    const connection = connectDatabase({ url: env.DATABASE_URL, wsProxy: env.DATABASE_WS_PROXY })
    const scope = NO_SCOPE

    let response: Response
    try {
      const context: AppLoadContext = {
        env,
        requestId,
        nonce,
        db: createTenantDatabase(connection.db, scope),
        waitUntil: (promise) => ctx.waitUntil(promise),
      }
      response = await handleRemixRequest(request, context)
    } catch (error) {
      logError(requestId, error, 'pipeline')
      response = internalError(url, requestId)
    } finally {
      ctx.waitUntil(connection.end().catch(() => {}))
    }

    // Responses from Remix can have immutable headers; copy before adding ours.
    response = new Response(response.body, response)
    response.headers.set('X-Request-Id', requestId)
    applySecurityHeaders(response.headers, {
      nonce,
      formActionOrigins: env.OIDC_AUTHORITY ? [new URL(env.OIDC_AUTHORITY).origin] : [],
    })
    if (!isProduction(env)) response.headers.delete('Strict-Transport-Security')
    logRequest({
      method: request.method,
      route: routePattern(url.pathname),
      status: response.status,
      durationMs: Date.now() - started,
      requestId,
      clinicId: scope.clinicId,
      userId: scope.userId,
    })
    return response
  }
}

function internalError(url: URL, requestId: string) {
  if (url.pathname.startsWith('/api/')) {
    return Response.json({ error: 'Internal error', details: { requestId }, code: 'INTERNAL' }, { status: 500 })
  }
  const html = `<!doctype html><html lang="en"><meta charset="utf-8"><title>Something went wrong · IntakePilot</title>
<body><main><h1>Something went wrong</h1><p>Please try again. If it keeps happening, give this reference to support: <code>${requestId}</code></p></main></body></html>`
  return new Response(html, { status: 500, headers: { 'Content-Type': 'text/html; charset=utf-8' } })
}
