/**
 * The answers the pipeline gives itself, when Remix does not run or its answer is replaced:
 * a plain page for people (no scripts, styled under the nonce), the API's JSON error under
 * /api, and for the app's own data requests (`*.data`) what Remix's client can read.
 * None carries a stack trace, an error message or anything the client sent.
 */
import { apiError, type ErrorStatus } from '~/api/errors.server'
import { encode } from 'turbo-stream'
import { reloadAsDocument } from './single-fetch.server'
import type { RateLimitVerdict } from '~/tenancy/rate-limit.server'

/** Where the answer goes: the API, a single-fetch data request, or a page. */
export type Audience = { api: boolean; url: URL; requestId: string; nonce: string; method: string }

const RETRY_AFTER_SECONDS = '5'

type Refusal = {
  status: ErrorStatus
  title: string
  message: string
  /** The API's message and details (the request id is always added). */
  apiMessage?: string
  details?: Record<string, unknown>
  headers?: Record<string, string>
}

/** A 4xx refusal in the shape the client reads. */
export function refuse(to: Audience, refusal: Refusal): Response {
  const { status, headers = {} } = refusal
  if (to.api) return apiError(status, refusal.apiMessage, { requestId: to.requestId, ...refusal.details }, headers)
  if (isSingleFetch(to.url)) return singleFetchError(status, refusal.title, headers)
  const page = htmlPage(status, { title: refusal.title, message: refusal.message, requestId: to.requestId, nonce: to.nonce })
  for (const [name, value] of Object.entries(headers)) page.headers.set(name, value)
  return page
}

export function tooManyRequests(to: Audience, verdict: RateLimitVerdict) {
  const limit = `at most ${verdict.limit} a minute per user`
  if (to.api) return apiError(429, `Too many requests: ${limit}`, { requestId: to.requestId, retryAfterSeconds: verdict.resetSeconds })
  const wait = verdict.resetSeconds === 1 ? '1 second' : `${verdict.resetSeconds} seconds`
  // A GET can simply be asked again; a form that was sent is sent again from the page it came from.
  const again =
    to.method === 'GET'
      ? `<p><a href="${escapeHtml(to.url.pathname + to.url.search)}">Try again</a> after that.</p>`
      : '<p>After that, go back to the previous page and send the form again.</p>'
  return htmlPage(429, {
    title: 'Please wait a moment',
    message: `You have made more requests in the last minute than IntakePilot allows (${limit}). You can carry on in ${wait}.`,
    extra: again,
    requestId: to.requestId,
    nonce: to.nonce,
  })
}

/** 503 with Retry-After: the database could not be reached, or the request ran past its deadline. */
export function unavailable(to: Audience, why: 'database' | 'deadline' | 'sign-in' = 'database') {
  const headers = { 'Retry-After': RETRY_AFTER_SECONDS }
  if (to.api || to.url.pathname === '/healthz') {
    const message =
      why === 'deadline'
        ? 'The request took too long and was stopped; nothing was saved. Try again'
        : why === 'sign-in'
          ? 'Sign-in is unavailable'
          : 'Service unavailable'
    return Response.json({ error: message, details: { requestId: to.requestId }, code: 'UNAVAILABLE' }, { status: 503, headers })
  }
  // The app's own data request: the client reloads the page, which shows this page with its Retry-After.
  if (isSingleFetch(to.url)) return reloadAsDocument(to.url, headers)
  const page =
    why === 'sign-in'
      ? // The identity provider is down: the session is kept (app/auth/identity.server.ts), nobody is signed out.
        htmlPage(503, {
          title: 'Sign-in is unavailable',
          message: 'IntakePilot cannot reach the sign-in service right now. You are still signed in: try again in a moment.',
          requestId: to.requestId,
          nonce: to.nonce,
        })
      : why === 'deadline'
        ? htmlPage(503, {
            title: 'IntakePilot is taking too long',
            message: 'This request did not finish in time, so it was stopped before anything was saved. Please try again in a moment.',
            requestId: to.requestId,
            nonce: to.nonce,
          })
        : htmlPage(503, {
            title: 'IntakePilot is temporarily unavailable',
            message: 'Please try again in a moment. Nothing you entered has been lost.',
            requestId: to.requestId,
            nonce: to.nonce,
          })
  page.headers.set('Retry-After', RETRY_AFTER_SECONDS)
  return page
}

export function internalError(to: Audience) {
  if (to.api) return Response.json({ error: 'Internal error', details: { requestId: to.requestId }, code: 'INTERNAL' }, { status: 500 })
  return htmlPage(500, {
    title: 'Something went wrong',
    message: 'Please try again. If it keeps happening, give the reference below to support.',
    requestId: to.requestId,
    nonce: to.nonce,
  })
}

/** A page for when Remix itself could not answer: no scripts, styled under the nonce. */
function htmlPage(status: number, page: { title: string; message: string; extra?: string; requestId: string; nonce: string }) {
  const { title, message, extra = '', requestId, nonce } = page
  const html = `<!doctype html><html lang="en"><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${title} · IntakePilot</title>
<style nonce="${nonce}">body{font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1.5rem;color:#0f172a;line-height:1.5}a{color:#1d4ed8}code{background:#f1f5f9;padding:.1rem .3rem}.ref{color:#64748b;font-size:.875rem;margin-top:2rem}</style>
<body><main><h1>${title}</h1><p>${message}</p>${extra}<p class="ref">Reference for support: <code>${requestId}</code></p></main></body></html>`
  return new Response(html, { status, headers: { 'Content-Type': 'text/html; charset=utf-8' } })
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!)

const isSingleFetch = (url: URL) => url.pathname.endsWith('.data')

/**
 * A refused data request, as Remix's server encodes an error thrown by an action: the client
 * shows the route's error boundary with this status (a form that was refused stays refused,
 * rather than the page silently reloading).
 */
function singleFetchError(status: number, statusText: string, headers: Record<string, string>) {
  const error = new RefusedResponse(status, statusText)
  const body = encode(
    { error },
    // The same plugin type Remix encodes its ErrorResponse with (@remix-run/server-runtime single-fetch).
    { plugins: [(value: unknown) => (value instanceof RefusedResponse ? ['ErrorResponse', null, value.status, value.statusText] : false)] },
  )
  const response = new Response(body, { status, headers })
  response.headers.set('Content-Type', 'text/x-script')
  response.headers.set('X-Remix-Response', 'yes')
  return response
}

class RefusedResponse {
  constructor(
    readonly status: number,
    readonly statusText: string,
  ) {}
}
