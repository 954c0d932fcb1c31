/**
 * The API's error shape: `{ error, details, code }` with its HTTP status.
 * Thrown as Responses from resource routes, returned by the pipeline before Remix runs.
 * A 500 carries the request id and nothing else: no message, no stack, no SQL.
 */
export const ERROR_CODES = {
  400: 'VALIDATION_ERROR',
  401: 'UNAUTHENTICATED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  408: 'REQUEST_TIMEOUT',
  409: 'CONFLICT',
  413: 'PAYLOAD_TOO_LARGE',
  414: 'URI_TOO_LONG',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  429: 'RATE_LIMITED',
  500: 'INTERNAL',
  503: 'UNAVAILABLE',
} as const
export type ErrorStatus = keyof typeof ERROR_CODES

/** What each refusal says, for every client of the API's doors (the FHIR interface words them alike). */
export const ERROR_MESSAGES: Record<ErrorStatus, string> = {
  400: 'The request is not valid',
  401: 'A valid bearer access token is required',
  403: 'You do not have permission to do this',
  404: 'Not found',
  405: 'Method not allowed',
  408: 'The request body did not arrive in time',
  409: 'The resource changed since you read it',
  413: 'The request body is too large',
  414: 'The address is too long',
  415: 'The request body must be application/json',
  429: 'Too many requests',
  500: 'Internal error',
  503: 'Service unavailable',
}

export function apiError(status: ErrorStatus, message: string = ERROR_MESSAGES[status], details: unknown = null, headers?: HeadersInit) {
  const h = new Headers(headers)
  if (status === 401 && !h.has('WWW-Authenticate')) h.set('WWW-Authenticate', 'Bearer realm="intakepilot"')
  return Response.json({ error: message, details, code: ERROR_CODES[status] }, { status, headers: h })
}

/** 401 for a token that was presented and refused (RFC 6750 §3: error="invalid_token"). */
export const invalidToken = (reason: string) =>
  apiError(401, 'The access token was refused', { reason }, { 'WWW-Authenticate': 'Bearer realm="intakepilot", error="invalid_token"' })

export const internalError = (requestId: string) => apiError(500, ERROR_MESSAGES[500], { requestId })

/** Field errors from zod, keyed by dotted path: what a client shows next to each field. */
export function validationError(issues: readonly { path: PropertyKey[]; message: string }[], prefix?: string) {
  const fields: Record<string, string[]> = {}
  for (const issue of issues) {
    const key = [prefix, ...issue.path.map(String)].filter(Boolean).join('.') || '_'
    ;(fields[key] ??= []).push(issue.message)
  }
  return apiError(400, ERROR_MESSAGES[400], { fields })
}

/**
 * Anything under /api that did not come back as our JSON (no route matched, a method the
 * route has no handler for, an error Remix rendered) becomes the same error shape.
 */
export async function asJsonError(response: Response, requestId: string): Promise<Response> {
  if (response.status < 400 || response.headers.get('Content-Type')?.includes('application/json')) return response
  await response.body?.cancel()
  const status = (response.status in ERROR_CODES ? response.status : 500) as ErrorStatus
  const out = status === 500 ? internalError(requestId) : apiError(status)
  for (const name of ['Allow', 'Retry-After']) {
    const value = response.headers.get(name)
    if (value) out.headers.set(name, value)
  }
  return out
}
