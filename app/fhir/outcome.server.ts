/**
 * Every answer under /fhir/R4 is `application/fhir+json`, and every error an OperationOutcome
 * with its HTTP status. Diagnostics say what was wrong with the request in our words: never a
 * stack, never SQL, never anything the client sent that could be PHI (a parameter is named, its
 * value is not repeated). The pipeline passes every /fhir/R4 answer through asOperationOutcome,
 * so refusals made before any route runs (401, 405, 413, 414, 429, 503) have the same shape.
 */
import { ERROR_MESSAGES } from '~/api/errors.server'
import type { Resource } from './resources'

export const FHIR_JSON = 'application/fhir+json; charset=utf-8'

/** The FHIR issue type for each status we answer with. */
const ISSUE_CODES: Record<number, string> = {
  400: 'invalid',
  401: 'login',
  403: 'forbidden',
  404: 'not-found',
  405: 'not-supported',
  406: 'not-supported',
  408: 'timeout',
  409: 'conflict',
  410: 'deleted',
  412: 'conflict',
  413: 'too-costly',
  414: 'too-long',
  415: 'not-supported',
  422: 'processing',
  429: 'throttled',
  500: 'exception',
  503: 'transient',
}

const MESSAGES: Record<number, string> = {
  ...ERROR_MESSAGES,
  415: 'The request body must be application/fhir+json or a form',
}

export type Issue = { diagnostics: string; expression?: string[]; code?: string; severity?: 'error' | 'fatal' | 'warning' }

export function operationOutcome(status: number, issues: Issue[]): Resource {
  return {
    resourceType: 'OperationOutcome',
    issue: issues.map((issue) => ({
      severity: issue.severity ?? (status >= 500 ? 'fatal' : 'error'),
      code: issue.code ?? ISSUE_CODES[status] ?? 'processing',
      diagnostics: issue.diagnostics,
      ...(issue.expression?.length ? { expression: issue.expression } : {}),
    })),
  }
}

export function fhirResponse(resource: Resource, init: { status?: number; headers?: HeadersInit } = {}) {
  const headers = new Headers(init.headers)
  headers.set('Content-Type', FHIR_JSON)
  return new Response(JSON.stringify(resource), { status: init.status ?? 200, headers })
}

/** An error as thrown or returned by the FHIR routes. */
export function fhirError(status: number, diagnostics: string = MESSAGES[status] ?? 'Error', options: { issues?: Issue[]; headers?: HeadersInit } = {}) {
  const headers = new Headers(options.headers)
  if (status === 401 && !headers.has('WWW-Authenticate')) headers.set('WWW-Authenticate', 'Bearer realm="intakepilot"')
  return fhirResponse(operationOutcome(status, options.issues ?? [{ diagnostics }]), { status, headers })
}

/** 400 naming each search parameter that was refused, and why. */
export const invalidParameters = (problems: { name: string; message: string }[]) =>
  fhirError(400, 'The search parameters are not valid', {
    issues: problems.map((p) => ({
      diagnostics: `${p.name}: ${p.message}`,
      expression: [p.name],
      code: p.message.startsWith('not supported') ? 'not-supported' : 'invalid',
    })),
  })

const KEPT_HEADERS = ['Allow', 'Retry-After', 'WWW-Authenticate', 'Location']

/**
 * Any error answer under /fhir/R4 that is not already FHIR (a thrown guard's plain text, the
 * pipeline's JSON refusals, a method Remix has no handler for) becomes an OperationOutcome with
 * the same status. Only the API's own messages are kept (they name no value the client sent);
 * a 500's message is never kept, only the request id.
 */
export async function asOperationOutcome(response: Response, requestId: string): Promise<Response> {
  if (response.status < 400 || (response.headers.get('Content-Type') ?? '').startsWith('application/fhir+json')) return response
  let message: string | undefined
  if ((response.headers.get('Content-Type') ?? '').includes('application/json') && response.status !== 500) {
    const body = (await response.json().catch(() => null)) as { error?: unknown } | null
    if (typeof body?.error === 'string') message = body.error
  } else {
    await response.body?.cancel()
  }
  const status = response.status in MESSAGES || response.status in ISSUE_CODES ? response.status : 500
  const diagnostics = status >= 500 ? `${message ?? MESSAGES[status] ?? 'Internal error'} (request ${requestId})` : (message ?? MESSAGES[status] ?? 'Error')
  const headers = new Headers()
  for (const name of KEPT_HEADERS) {
    const value = response.headers.get(name)
    if (value) headers.set(name, value)
  }
  return fhirError(status, diagnostics, { headers })
}
