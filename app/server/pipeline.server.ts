/**
 * The request pipeline: runs once per request, before Remix.
 * request id -> method, origin and body checks (the body read in full, bounded) -> database
 * for this request -> Remix -> security headers -> one log line, all within the request's
 * deadline. Nothing that reaches the browser from here ever carries a stack trace.
 * docs/decisions/019-body-limits-and-deadlines.md
 */
import { createRequestHandler, type ServerBuild } from '@remix-run/cloudflare'
import { ApiRefusal } from '~/api/bearer.server'
import { applyCors, isApiPath, isFhirPath, isPreflight, preflightResponse } from '~/api/cors.server'
import { asJsonError } from '~/api/errors.server'
import { asOperationOutcome } from '~/fhir/outcome.server'
import { sessionCookieName } from '~/auth/session.server'
import { NO_SCOPE, type TenantScope } from '~/tenancy/tenant.server'
import { checkSameOrigin } from './csrf.server'
import { requestLimits, startDeadline } from './deadline.server'
import { EnvError, isProduction, readEnv, type Env } from '~/utils/env.server'
import { keepDraftWhileUnavailable } from '~/referrals/draft.server'
import { DeadlineError } from '~/utils/failures.server'
import { SignInUnavailableError } from '~/auth/oidc.server'
import { createLoadContext, UnavailableError } from './load-context.server'
import { logEnvProblems, logError, logRequest } from '~/utils/log.server'
import { rateLimitHeaders, type RateLimitVerdict } from '~/tenancy/rate-limit.server'
import { internalError, refuse, tooManyRequests, unavailable, type Audience } from './refusals.server'
import { BodyRefusal, DEFAULT_BODY_POLICY, hasBody, requireForm, requireFormType, reserveBody, takeBody } from './request-body.server'
import { createRouteMatcher, pagePathOf, type RouteMatch } from './route-pattern.server'
import { applySecurityHeaders, createNonce } from './security-headers.server'
import { isSingleFetchRequest, reloadAsDocument } from './single-fetch.server'

/** What the pipeline uses of a Pages Function's context (the Vite dev server passes the same). */
export type PipelineContext = Pick<EventContext<Env, string, Record<string, unknown>>, 'request' | 'env' | 'waitUntil'>

/** Methods a page or resource route answers; anything else is 405 before Remix runs. */
const PAGE_METHODS = ['GET', 'HEAD', 'POST']
const API_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']

/** `mode` is Remix's: `npm run dev` passes 'development' (vite.config.ts); every other run is production. */
export function createRequestPipeline(build: ServerBuild, mode: 'production' | 'development' = 'production') {
  const handleRemixRequest = createRequestHandler(build, mode)
  const matchRoute = createRouteMatcher(build)

  return async function handle(ctx: PipelineContext): Promise<Response> {
    const started = Date.now()
    const { request: incoming } = ctx
    const url = new URL(incoming.url)
    const api = isApiPath(url.pathname)
    const to: Audience = { api, url, requestId: crypto.randomUUID(), nonce: createNonce(), method: incoming.method }
    const checked = checkedEnv(ctx.env, to)
    if (checked instanceof Response) return checked
    const env: Env = checked
    const route = matchRoute(api ? url.pathname : pagePathOf(url.pathname))
    const limits = requestLimits(env)
    const deadline = startDeadline(limits.deadlineMs)
    let scope: TenantScope = NO_SCOPE
    let sessionCookie: string | null = null
    let end: (() => Promise<void>) | undefined
    let rateLimit: RateLimitVerdict | null = null
    // A referral sent while the database is unavailable is kept as a draft (draft.server.ts):
    // a copy of the page form's body, read again only on that path.
    let sentForm: Request | undefined
    let draftCookies: string[] = []
    // What the request hands to waitUntil may still use the database: the pool ends after it.
    const deferred: Promise<unknown>[] = []
    const waitUntil = (promise: Promise<unknown>) => {
      deferred.push(promise)
      ctx.waitUntil(promise)
    }
    // Origins a page may fetch from besides its own (the referral page adds the local AI server).
    const connectOrigins: string[] = []
    // A page of ours (429, 503, 500) rather than Remix's answer.
    let refusedBeforeRemix = false
    // A large body's share of the isolate's memory, given back when the request is answered.
    let releaseBody = () => {}

    async function answer(): Promise<Response> {
      if (api && isPreflight(incoming)) {
        // Browsers preflight without credentials: answered before identity and rate limit.
        return preflightResponse(incoming, env)
      }
      const refused = refuseMethodOrOrigin(incoming, env, to, route)
      if (refused) {
        refusedBeforeRemix = true
        return refused
      }
      // The body is in (or refused) before the database is touched: a slow client holds no connection.
      releaseBody = reserveBody(incoming, route.bodyPolicy ?? DEFAULT_BODY_POLICY)
      const request = await withBody(incoming, route, limits.bodyTimeoutMs, api, deadline.signal)
      // A streamed upload is not copied (a copy nobody reads would keep every byte of it): only a small one,
      // whose typing the draft can keep (at most a form's 64 KB, declared).
      const small = !route.bodyPolicy?.streamed || Number(request.headers.get('Content-Length') ?? Infinity) <= DEFAULT_BODY_POLICY.maxBytes
      if (!api && request.method === 'POST' && small) sentForm = request.clone() as Request
      const built = await createLoadContext({ request, env, requestId: to.requestId, nonce: to.nonce, waitUntil, connectOrigins, signal: deadline.signal })
      ;({ scope, sessionCookie, end, rateLimit } = built)
      if (rateLimit && !rateLimit.allowed) {
        refusedBeforeRemix = true
        return tooManyRequests(to, rateLimit)
      }
      const response = await handleRemixRequest(request, built.context)
      // Remix rendered a 500 for what was not a bug: the database away, or Remix's own origin check.
      const seen = built.failure()
      if (response.status >= 500 && seen) {
        refusedBeforeRemix = true
        const replaced =
          seen === 'cross-site'
            ? refuseCrossSite(to)
            : seen === 'body-malformed'
              ? refuseBody(to, new BodyRefusal('malformed-form'), limits.bodyTimeoutMs)
              : seen.startsWith('body-too-large:')
                ? refuseBody(to, new BodyRefusal('too-large', Number(seen.split(':')[1])), limits.bodyTimeoutMs)
                : unavailable(to)
        await response.body?.cancel()
        if (seen === 'unavailable' && sentForm) draftCookies = await keepDraftWhileUnavailable(sentForm, env)
        // Whatever the route set (a kept draft, an ended session) still goes to the browser.
        for (const cookie of response.headers.getSetCookie()) replaced.headers.append('Set-Cookie', cookie)
        return replaced
      }
      return response
    }

    let response: Response
    try {
      response = await Promise.race([answer(), deadline.passed])
    } catch (error) {
      refusedBeforeRemix = true
      if (error instanceof ApiRefusal) {
        response = error.response
      } else if (error instanceof BodyRefusal) {
        response = refuseBody(to, error, limits.bodyTimeoutMs)
      } else if (error instanceof DeadlineError) {
        // What was typed is kept, as when the database is away (the body is already in memory).
        if (sentForm) draftCookies = await keepDraftWhileUnavailable(sentForm, env)
        response = unavailable(to, 'deadline')
      } else if (error instanceof UnavailableError) {
        logError(to.requestId, error.cause, 'identity', { verbose: !isProduction(env) })
        if (sentForm) draftCookies = await keepDraftWhileUnavailable(sentForm, env)
        response = unavailable(to, error.cause instanceof SignInUnavailableError ? 'sign-in' : 'database')
      } else {
        logError(to.requestId, error, 'pipeline', { verbose: !isProduction(env) })
        response = internalError(to)
      }
    } finally {
      releaseBody()
      // The answer is out; a body that streams after it (an export) is not cut off.
      deadline.clear()
      // A change may have written outbox events (drizzle/0024): the courier is poked once its
      // transaction is surely over, so that mail, webhooks and the live queue go out in seconds
      // rather than at the next cron (docs/decisions/038-outbox-and-courier-worker.md).
      const poke = end && env.COURIER && !['GET', 'HEAD', 'OPTIONS'].includes(incoming.method) ? pokeCourier(env.COURIER) : undefined
      if (end) ctx.waitUntil(Promise.allSettled(deferred).then(end).then(poke))
    }

    // Under /api every failure has the JSON error shape, whoever produced it; under /fhir/R4 it is an OperationOutcome (decision 046).
    if (api) response = isFhirPath(url.pathname) ? await asOperationOutcome(response, to.requestId) : await asJsonError(response, to.requestId)
    // A refusal of the app's own data request: the client reloads the page to show it (single-fetch.server.ts).
    else if (refusedBeforeRemix && isSingleFetchRequest(url) && !response.headers.has('X-Remix-Response')) response = reloadAsDocument(url)
    // Responses from Remix can have immutable headers; copy before adding ours.
    response = new Response(response.body, response)
    response.headers.set('X-Request-Id', to.requestId)
    if (rateLimit) for (const [name, value] of Object.entries(rateLimitHeaders(rateLimit))) response.headers.set(name, value)
    for (const cookie of draftCookies) response.headers.append('Set-Cookie', cookie)
    if (api) {
      applyCors(response.headers, incoming, env)
      response.headers.set('Cache-Control', 'no-store')
    }
    // A refreshed (or ended) session, unless the route itself set the cookie (sign-in, sign-out).
    if (sessionCookie && !response.headers.getSetCookie().some((c) => c.startsWith(`${sessionCookieName(env)}=`))) {
      response.headers.append('Set-Cookie', sessionCookie)
    }
    applySecurityHeaders(response.headers, {
      nonce: to.nonce,
      formActionOrigins: env.OIDC_AUTHORITY ? [new URL(env.OIDC_AUTHORITY).origin] : [],
      connectOrigins,
    })
    if (!isProduction(env)) response.headers.delete('Strict-Transport-Security')
    logRequest({
      method: incoming.method,
      route: route.pattern,
      status: response.status,
      durationMs: Date.now() - started,
      requestId: to.requestId,
      clinicId: scope.clinicId,
      userId: scope.userId,
    })
    return response
  }
}

/**
 * The bindings, checked once per isolate; with any missing or malformed, every request is a 500
 * (the log names the bindings) rather than a failure on the first page that needs one.
 */
function checkedEnv(bindings: Env, to: Audience): Env | Response {
  try {
    return readEnv(bindings)
  } catch (error) {
    if (!(error instanceof EnvError)) throw error
    logEnvProblems(to.requestId, error.problems)
    const response = internalError(to)
    applySecurityHeaders(response.headers, { nonce: to.nonce, formActionOrigins: [], connectOrigins: [] })
    response.headers.set('X-Request-Id', to.requestId)
    return response
  }
}

/**
 * Cloudflare refuses a longer URL (16 KB) before a Worker runs; the local runtime does not, so
 * the app holds the same line: no page or list echoes a 70 KB search back, several times over.
 */
const MAX_URL_BYTES = 16 * 1024

/**
 * 414 for an address longer than Cloudflare takes; 405 for a method the route does not take;
 * 403 for a state-changing request from another site.
 */
function refuseMethodOrOrigin(request: Request, env: Env, to: Audience, route: RouteMatch): Response | null {
  // A parsed URL is ASCII (percent-encoded): its length is its size in bytes.
  if (request.url.length > MAX_URL_BYTES) {
    return refuse(to, {
      status: 414,
      title: 'This address is too long',
      message: `IntakePilot takes addresses of at most ${MAX_URL_BYTES / 1024} KB, and this one was longer. Go back and search for something shorter.`,
      details: { maxBytes: MAX_URL_BYTES },
    })
  }
  const methods = to.api ? API_METHODS : PAGE_METHODS
  const allow = route.hasAction ? methods.filter((m) => m !== 'OPTIONS') : ['GET', 'HEAD']
  if (!methods.includes(request.method) || (!route.hasAction && !['GET', 'HEAD'].includes(request.method) && route.pattern !== 'unmatched')) {
    return refuse(to, {
      status: 405,
      title: 'This page does not do that',
      message: `This address answers ${allow.join(', ')} requests only. Nothing was changed.`,
      headers: { Allow: allow.join(', ') },
    })
  }
  // /api/* takes bearer tokens and never reads cookies: there is nothing to forge.
  if (to.api) return null
  const verdict = checkSameOrigin(request, { appOrigin: env.APP_ORIGIN, sessionCookieName: sessionCookieName(env) })
  return verdict.allowed ? null : refuseCrossSite(to)
}

function refuseCrossSite(to: Audience) {
  return refuse(to, {
    status: 403,
    title: 'This form was sent from another site',
    message:
      'IntakePilot accepts forms only from its own pages, so this request was refused and nothing was changed. If a link or a page elsewhere brought you here, open IntakePilot directly and try again.',
  })
}

function refuseBody(to: Audience, refusal: BodyRefusal, timeoutMs: number) {
  const kb = Math.floor((refusal.maxBytes ?? 0) / 1024)
  switch (refusal.reason) {
    case 'too-large':
      return refuse(to, {
        status: 413,
        title: 'What was sent is too large',
        message: `IntakePilot takes at most ${kb} KB here, and this was more, so nothing was saved. Go back, shorten the longest text, and send it again.`,
        details: { maxBytes: refusal.maxBytes },
      })
    case 'too-slow':
      return refuse(to, {
        status: 408,
        title: 'What was sent took too long to arrive',
        message: `The connection did not deliver the form within ${Math.round(timeoutMs / 1000)} seconds, so nothing was saved. Go back and send it again.`,
        apiMessage: 'The request body did not arrive in time',
        details: { timeoutSeconds: Math.round(timeoutMs / 1000) },
        headers: { Connection: 'close' },
      })
    case 'not-a-form':
      return refuse(to, {
        status: 415,
        title: 'This address takes forms only',
        message: 'IntakePilot pages accept what a web form sends (application/x-www-form-urlencoded or multipart/form-data). Nothing was saved.',
      })
    case 'busy':
      return refuse(to, {
        status: 503,
        title: 'IntakePilot is taking other large submissions',
        message: 'Nothing was saved. Send it again in a few seconds.',
        apiMessage: 'Other large request bodies are being taken; send this again in a few seconds',
        headers: { 'Retry-After': '5', Connection: 'close' },
      })
    case 'malformed-form':
      return refuse(to, {
        status: 400,
        title: 'The form could not be read',
        message: 'What was sent is not a complete form, so nothing was saved. Go back and send it again.',
      })
  }
}

/**
 * The request Remix gets: its body read in full (at most the route's limit), or, for a route
 * that streams its body, counted on the way; and the deadline's signal. X-Forwarded-Host is
 * dropped: nothing here uses it, and Remix's own origin check would compare the Origin with a
 * value the client chose (the pipeline's check above is the one that decides).
 */
async function withBody(request: Request, route: RouteMatch, timeoutMs: number, api: boolean, signal: AbortSignal): Promise<Request> {
  const headers = new Headers(request.headers)
  headers.delete('X-Forwarded-Host')
  if (!hasBody(request.method)) return new Request(request, { headers, signal })
  const body = await takeBody(request, route.bodyPolicy ?? DEFAULT_BODY_POLICY, timeoutMs)
  // A streamed page body (an upload) is read by its route; what it must be is checked here, as for any form.
  if (body instanceof ReadableStream && !api) requireFormType(request.headers.get('Content-Type'))
  if (!(body instanceof ReadableStream)) {
    // Page actions take forms; the API's routes check their own JSON (readJson: 415, 400).
    if (!api) await requireForm(request.headers.get('Content-Type'), body)
    headers.delete('Transfer-Encoding')
    headers.set('Content-Length', String(body?.byteLength ?? 0))
  }
  // `cf` (workerd's request properties) is kept; `duplex` is what a streamed body needs under Node (npm run dev).
  const init = {
    method: request.method,
    headers,
    body,
    signal,
    cf: (request as { cf?: unknown }).cf,
    ...(body instanceof ReadableStream ? { duplex: 'half' } : {}),
  }
  return new Request(request.url, init as RequestInit)
}

/** Never fails the request: the cron delivers what a lost poke did not. */
function pokeCourier(courier: Fetcher) {
  return () =>
    courier.fetch('https://courier/drain', { method: 'POST' }).then(
      (r) => void r.body?.cancel(),
      () => undefined,
    )
}
