/**
 * The request pipeline (DESIGN §1): runs once per request, before Remix.
 * request id -> database for this request -> Remix -> security headers -> one log line.
 * Nothing that reaches the browser from here ever carries a stack trace.
 */
import { createRequestHandler, type ServerBuild } from '@remix-run/cloudflare'
import { ApiRefusal } from '~/api/bearer.server'
import { applyCors, isApiPath, isPreflight, preflightResponse } from '~/api/cors.server'
import { apiError, asJsonError } from '~/api/errors.server'
import { NO_SCOPE, type TenantScope } from '~/tenancy/tenant.server'
import type { Env } from './env.server'
import { isProduction } from './env.server'
import { sessionCookieName } from '~/auth/session.server'
import { createLoadContext, UnavailableError } from './load-context.server'
import { logError, logRequest } from './log.server'
import { rateLimitHeaders, type RateLimitVerdict } from './rate-limit.server'
import { createRoutePatternMatcher } from './route-pattern.server'
import { applySecurityHeaders, createNonce } from './security-headers.server'

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
    let scope: TenantScope = NO_SCOPE
    let sessionCookie: string | null = null
    let end: (() => Promise<void>) | undefined
    let rateLimit: RateLimitVerdict | null = null
    const api = isApiPath(url.pathname)
    // What the request hands to waitUntil may still use the database: the pool ends after it.
    const deferred: Promise<unknown>[] = []
    const waitUntil = (promise: Promise<unknown>) => {
      deferred.push(promise)
      ctx.waitUntil(promise)
    }

    // Origins a page may fetch from besides its own (the referral page adds the local AI server).
    const connectOrigins: string[] = []
    let response: Response
    try {
      if (api && isPreflight(request)) {
        // Browsers preflight without credentials: answered before identity and rate limit.
        response = preflightResponse(request, env)
      } else {
        const built = await createLoadContext({ request, env, requestId, nonce, waitUntil, connectOrigins })
        ;({ scope, sessionCookie, end, rateLimit } = built)
        response = rateLimit && !rateLimit.allowed ? tooManyRequests(api, requestId, nonce) : await handleRemixRequest(request, built.context)
      }
    } catch (error) {
      if (error instanceof ApiRefusal) {
        response = error.response
      } else if (error instanceof UnavailableError) {
        logError(requestId, error.cause, 'identity', { verbose: !isProduction(env) })
        response = unavailable(url, requestId, nonce)
      } else {
        logError(requestId, error, 'pipeline', { verbose: !isProduction(env) })
        response = internalError(url, requestId, nonce)
      }
    } finally {
      if (end) ctx.waitUntil(Promise.allSettled(deferred).then(end))
    }

    // Under /api every failure has the JSON error shape, whoever produced it.
    if (api) response = await asJsonError(response, requestId)
    // Responses from Remix can have immutable headers; copy before adding ours.
    response = new Response(response.body, response)
    response.headers.set('X-Request-Id', requestId)
    if (rateLimit) for (const [name, value] of Object.entries(rateLimitHeaders(rateLimit))) response.headers.set(name, value)
    if (api) {
      applyCors(response.headers, request, env)
      response.headers.set('Cache-Control', 'no-store')
    }
    // A refreshed (or ended) session, unless the route itself set the cookie (sign-in, sign-out).
    if (sessionCookie && !response.headers.getSetCookie().some((c) => c.startsWith(`${sessionCookieName(env)}=`))) {
      response.headers.append('Set-Cookie', sessionCookie)
    }
    applySecurityHeaders(response.headers, {
      nonce,
      formActionOrigins: env.OIDC_AUTHORITY ? [new URL(env.OIDC_AUTHORITY).origin] : [],
      connectOrigins,
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

function tooManyRequests(api: boolean, requestId: string, nonce: string) {
  if (api) return apiError(429, 'Too many requests: at most 100 a minute per user', { requestId })
  const page = htmlPage(429, 'Slow down a little', 'You have made a lot of requests in the last minute. Wait a few seconds, then try again; nothing you entered has been lost.', requestId, nonce)
  return page
}

function unavailable(url: URL, requestId: string, nonce: string) {
  const headers = { 'Retry-After': '5' }
  if (url.pathname.startsWith('/api/') || url.pathname === '/healthz') {
    return Response.json({ error: 'Service unavailable', details: { requestId }, code: 'UNAVAILABLE' }, { status: 503, headers })
  }
  return htmlPage(503, 'IntakePilot is temporarily unavailable', 'Please try again in a moment. Nothing you entered has been lost.', requestId, nonce)
}

/** A page for when Remix itself could not answer: no scripts, styled under the nonce. */
function htmlPage(status: number, title: string, message: string, requestId: string, nonce: string) {
  const html = `<!doctype html><html lang="en"><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${title} · IntakePilot</title>
<style nonce="${nonce}">body{font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1.5rem;color:#0f172a}code{background:#f1f5f9;padding:.1rem .3rem}</style>
<body><main><h1>${title}</h1><p>${message}</p><p>Reference for support: <code>${requestId}</code></p></main></body></html>`
  return new Response(html, { status, headers: { 'Content-Type': 'text/html; charset=utf-8' } })
}

function internalError(url: URL, requestId: string, nonce: string) {
  if (url.pathname.startsWith('/api/')) {
    return Response.json({ error: 'Internal error', details: { requestId }, code: 'INTERNAL' }, { status: 500 })
  }
  return htmlPage(500, 'Something went wrong', 'Please try again. If it keeps happening, give the reference below to support.', requestId, nonce)
}
