/**
 * CORS for /api/*: an allow-list of origins from CORS_ORIGINS, echoed one at a
 * time (never `*`), no credentials (the API takes bearer tokens, never cookies), and
 * `Vary: Origin` on every answer so a cache never hands one origin's answer to another.
 */
import type { Env } from '~/utils/env.server'

// PUT, If-Match and ETag: a FHIR Task update (docs/decisions/056-fhir-writes.md).
const ALLOWED_METHODS = 'GET, POST, PUT, PATCH, OPTIONS'
const ALLOWED_HEADERS = 'Authorization, Content-Type, Idempotency-Key, If-Match'
const EXPOSED_HEADERS = 'ETag, Location, Retry-After, RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset, X-Request-Id'
const MAX_AGE_SECONDS = '600'

/** Where the FHIR R4 interface lives (app/fhir; docs/decisions/046-fhir-r4-read-and-search.md). */
export const FHIR_BASE = '/fhir/R4'
export const isFhirPath = (pathname: string) => pathname === FHIR_BASE || pathname.startsWith(`${FHIR_BASE}/`)

/**
 * FHIR R4 (/fhir/R4, docs/decisions/046-fhir-r4-read-and-search.md) is the API in another
 * language: the same bearer tokens, CORS, methods and no-store; the pipeline answers its errors
 * as OperationOutcomes instead of the API's JSON.
 */
export const isApiPath = (pathname: string) => pathname === '/api' || pathname.startsWith('/api/') || isFhirPath(pathname)

/**
 * The one API request that needs no token: reading the FHIR CapabilityStatement without
 * credentials, as FHIR clients do to discover a server before they sign in (decision 057).
 * With an Authorization header it is verified like any other request.
 */
export const isAnonymousApiRequest = (request: Request, pathname: string) =>
  pathname === `${FHIR_BASE}/metadata` && (request.method === 'GET' || request.method === 'HEAD') && !request.headers.has('Authorization')

function allowedOrigin(request: Request, env: Pick<Env, 'CORS_ORIGINS'>): string | null {
  const origin = request.headers.get('Origin')
  if (!origin) return null
  const list = (env.CORS_ORIGINS ?? '')
    .split(',')
    .map((o) => o.trim().replace(/\/$/, ''))
    .filter((o) => o && o !== '*')
  return list.includes(origin) ? origin : null
}

/** A preflight is answered here, before identity: browsers send it without the token. */
export function isPreflight(request: Request) {
  return request.method === 'OPTIONS' && request.headers.has('Access-Control-Request-Method')
}

export function preflightResponse(request: Request, env: Pick<Env, 'CORS_ORIGINS'>) {
  const headers = new Headers({ Vary: 'Origin' })
  const origin = allowedOrigin(request, env)
  // Another origin gets an answer with no CORS headers: its browser then refuses the call.
  if (origin) {
    headers.set('Access-Control-Allow-Origin', origin)
    headers.set('Access-Control-Allow-Methods', ALLOWED_METHODS)
    headers.set('Access-Control-Allow-Headers', ALLOWED_HEADERS)
    headers.set('Access-Control-Max-Age', MAX_AGE_SECONDS)
  }
  return new Response(null, { status: 204, headers })
}

/** Headers on an actual (non-preflight) /api response. */
export function applyCors(headers: Headers, request: Request, env: Pick<Env, 'CORS_ORIGINS'>) {
  headers.append('Vary', 'Origin')
  const origin = allowedOrigin(request, env)
  if (!origin) return
  headers.set('Access-Control-Allow-Origin', origin)
  headers.set('Access-Control-Expose-Headers', EXPOSED_HEADERS)
}
