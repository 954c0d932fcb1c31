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
import { SignInUnavailableError } from '~/auth/oidc.server'
import { sessionCookieName } from '~/auth/session.server'
import { createLoadContext, UnavailableError } from './load-context.server'
import { logError, logRequest } from './log.server'
import { rateLimitHeaders, type RateLimitVerdict } from './rate-limit.server'
import { createRoutePatternMatcher } from './route-pattern.server'
import { applySecurityHeaders, createNonce } from './security-headers.server'
import { isSingleFetchRequest, reloadAsDocument } from './single-fetch.server'

/** What the pipeline uses of a Pages Function's context (the Vite dev server passes the same). */
export type PipelineContext = Pick<EventContext<Env, string, Record<string, unknown>>, 'request' | 'env' | 'waitUntil'>

/** `mode` is Remix's: `npm run dev` passes 'development' (vite.config.ts); every other run is production. */
export function createRequestPipeline(build: ServerBuild, mode: 'production' | 'development' = 'production') {
  const handleRemixRequest = createRequestHandler(build, mode)
  const routePattern = createRoutePatternMatcher(build)

  return async function handle(ctx: PipelineContext): Promise<Response> {
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
    // A page of ours (429, 503, 500) rather than Remix's answer.
    let refusedBeforeRemix = false
    try {
      if (api && isPreflight(request)) {
        // Browsers preflight without credentials: answered before identity and rate limit.
        response = preflightResponse(request, env)
      } else {
        const built = await createLoadContext({ request, env, requestId, nonce, waitUntil, connectOrigins })
        ;({ scope, sessionCookie, end, rateLimit } = built)
        refusedBeforeRemix = Boolean(rateLimit && !rateLimit.allowed)
        response = rateLimit && !rateLimit.allowed ? tooManyRequests(request, api, rateLimit, requestId, nonce) : await handleRemixRequest(request, built.context)
      }
    } catch (error) {
      refusedBeforeRemix = true
      if (error instanceof ApiRefusal) {
        response = error.response
      } else if (error instanceof UnavailableError) {
        logError(requestId, error.cause, 'identity', { verbose: !isProduction(env) })
        response = unavailable(url, requestId, nonce, error.cause instanceof SignInUnavailableError ? SIGN_IN_UNAVAILABLE : DATABASE_UNAVAILABLE)
      } else {
        logError(requestId, error, 'pipeline', { verbose: !isProduction(env) })
        response = internalError(url, requestId, nonce)
      }
    } finally {
      if (end) ctx.waitUntil(Promise.allSettled(deferred).then(end))
    }

    // Under /api every failure has the JSON error shape, whoever produced it.
    if (api) response = await asJsonError(response, requestId)
    // A refusal of the app's own data request: the client reloads the page to show it (single-fetch.server.ts).
    else if (refusedBeforeRemix && isSingleFetchRequest(url)) response = reloadAsDocument(url)
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

function tooManyRequests(request: Request, api: boolean, verdict: RateLimitVerdict, requestId: string, nonce: string) {
  const limit = `at most ${verdict.limit} a minute per user`
  if (api) return apiError(429, `Too many requests: ${limit}`, { requestId, retryAfterSeconds: verdict.resetSeconds })
  const wait = verdict.resetSeconds === 1 ? '1 second' : `${verdict.resetSeconds} seconds`
  // A GET can simply be asked again; a form that was sent is sent again from the page it came from.
  const url = new URL(request.url)
  const again =
    request.method === 'GET'
      ? `<p><a href="${escapeHtml(url.pathname + url.search)}">Try again</a> after that.</p>`
      : '<p>After that, go back to the previous page and send the form again.</p>'
  return htmlPage(429, {
    title: 'Please wait a moment',
    message: `You have made more requests in the last minute than IntakePilot allows (${limit}). You can carry on in ${wait}.`,
    extra: again,
    requestId,
    nonce,
  })
}

const DATABASE_UNAVAILABLE = {
  error: 'Service unavailable',
  title: 'IntakePilot is temporarily unavailable',
  message: 'Please try again in a moment. Nothing you entered has been lost.',
}
/** The identity provider is down: the session is kept (app/auth/identity.server.ts), nobody is signed out. */
const SIGN_IN_UNAVAILABLE = {
  error: 'Sign-in is unavailable',
  title: 'Sign-in is unavailable',
  message: 'IntakePilot cannot reach the sign-in service right now. You are still signed in: try again in a moment.',
}

function unavailable(url: URL, requestId: string, nonce: string, what: typeof DATABASE_UNAVAILABLE) {
  const headers = { 'Retry-After': '5' }
  if (url.pathname.startsWith('/api/') || url.pathname === '/healthz') {
    return Response.json({ error: what.error, details: { requestId }, code: 'UNAVAILABLE' }, { status: 503, headers })
  }
  const page = htmlPage(503, { title: what.title, message: what.message, requestId, nonce })
  page.headers.set('Retry-After', '5')
  return page
}

/** A page for when Remix itself could not answer: no scripts, styled under the nonce. */
function htmlPage(status: number, page: { title: string; message: string; extra?: string; requestId: string; nonce: string }) {
  const { title, message, extra = '', requestId, nonce } = page
  const html = `<!doctype html><html lang="en"><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${title} · IntakePilot</title>
<style nonce="${nonce}">body{font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1.5rem;color:#0f172a;line-height:1.5}a{color:#1d4ed8}code{background:#f1f5f9;padding:.1rem .3rem}.ref{color:#64748b;font-size:.875rem;margin-top:2rem}</style>
<body><main><h1>${title}</h1><p>${message}</p>${extra}<p class="ref">Reference for support: <code>${requestId}</code></p></main></body></html>`
  return new Response(html, { status, headers: { 'Content-Type': 'text/html; charset=utf-8' } })
}

const escapeHtml = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!)

function internalError(url: URL, requestId: string, nonce: string) {
  if (url.pathname.startsWith('/api/')) {
    return Response.json({ error: 'Internal error', details: { requestId }, code: 'INTERNAL' }, { status: 500 })
  }
  return htmlPage(500, {
    title: 'Something went wrong',
    message: 'Please try again. If it keeps happening, give the reference below to support.',
    requestId,
    nonce,
  })
}
