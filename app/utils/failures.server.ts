/**
 * Which failures are the database being away (503, try again) and which are bugs (500).
 * docs/decisions/019-body-limits-and-deadlines.md
 *
 * Errors arrive wrapped: Drizzle puts the driver's error in `cause` (DrizzleQueryError), the
 * pipeline's identity step in UnavailableError, so the whole cause chain is looked at.
 */

/**
 * SQLSTATEs that say "not now" rather than "wrong": the server is shutting down or refusing
 * connections, a statement or an idle transaction ran past its timeout, a lock was not granted.
 */
const UNAVAILABLE_SQLSTATES = new Set([
  '57014', // query_canceled: statement_timeout
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now (starting up, shutting down)
  '57P05', // idle_session_timeout
  '25P03', // idle_in_transaction_session_timeout
  '53300', // too_many_connections
  '55P03', // lock_not_available: lock_timeout
])
/** Operating-system and socket errors, as Node and the Neon driver report them. */
const UNAVAILABLE_SYSTEM_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ECONNABORTED',
])
/**
 * What node-postgres (inside the Neon driver) says when the connection is gone or never came:
 * these carry no code. Matched on the start of the message, which names no value.
 */
const UNAVAILABLE_MESSAGES = [
  /^Connection terminated/,
  /^timeout exceeded when trying to connect/,
  /^Client has encountered a connection error and is not queryable/,
  /^Client was closed and is not queryable/,
  /^Cannot use a pool after calling end on the pool/,
  /^WebSocket (connection )?(was )?closed/i,
  /^Network connection lost/,
]

/** The request ran past its deadline (the pipeline aborted it). */
export class DeadlineError extends Error {
  override name = 'DeadlineError'
  constructor() {
    super('the request ran past its deadline')
  }
}

function* causes(error: unknown) {
  const seen = new Set<unknown>()
  for (let e = error; e && typeof e === 'object' && !seen.has(e); e = (e as { cause?: unknown }).cause) {
    seen.add(e)
    yield e as { name?: unknown; code?: unknown; message?: unknown; type?: unknown }
  }
}

/** True when the failure is the database (or the way to it) being unavailable: answer 503. */
export function isDatabaseUnavailable(error: unknown): boolean {
  for (const e of causes(error)) {
    // By name: the Pages Function and Remix's server build each bundle their own copy of the class.
    if (e.name === 'DeadlineError') return true
    const code = typeof e.code === 'string' ? e.code : ''
    if (UNAVAILABLE_SQLSTATES.has(code) || code.startsWith('08') || UNAVAILABLE_SYSTEM_CODES.has(code)) return true
    // A WebSocket that failed (workerd's ErrorEvent-like error from the Neon driver).
    if (e.type === 'error' && !(e instanceof Error)) return true
    const message = typeof e.message === 'string' ? e.message : ''
    if (UNAVAILABLE_MESSAGES.some((pattern) => pattern.test(message))) return true
  }
  return false
}

/** The first SQLSTATE or system code along the cause chain (for the log: codes name no values). */
export function errorCode(error: unknown): string | undefined {
  for (const e of causes(error)) if (typeof e.code === 'string') return e.code
  return undefined
}

/**
 * Remix's own Origin check (document and single-fetch actions) throws a plain Error, which
 * Remix answers 500. The pipeline's check runs first and decides; should Remix's still refuse
 * (a Host that differs from APP_ORIGIN behind a proxy), the answer is a 403, not a 500.
 */
const REMIX_ORIGIN_CHECK = /header does not match `origin` header|headers are not provided\. One of these is needed to compare the `origin` header/

export type NotedFailure = 'unavailable' | 'cross-site' | 'body-malformed' | `body-too-large:${number}`

/**
 * What an error the route did not answer itself means for the response: the database away
 * (503, try again), Remix's own origin check (403), or undefined for a bug (500). Noted on the
 * load context (context.noteFailure) by handleError and the API's wrapper, so that the pipeline
 * can replace the 500 Remix rendered. (The load context, not module state: the Pages Function
 * and Remix's server build are bundled apart, each with its own copy of this module.)
 */
export function classifyFailure(error: unknown): NotedFailure | undefined {
  if (isDatabaseUnavailable(error)) return 'unavailable'
  // A streamed body (an upload) that went past its limit while the route read it, or that is not
  // a form after all: by name, since the pipeline's BodyRefusal class is another bundle's copy.
  if (error instanceof Error && error.name === 'BodyRefusal') {
    const { reason, maxBytes } = error as { reason?: unknown; maxBytes?: unknown }
    return reason === 'too-large' ? `body-too-large:${Number(maxBytes) || 0}` : 'body-malformed'
  }
  if (error instanceof Error && error.name === 'MultipartError') return 'body-malformed'
  if (error instanceof Error && REMIX_ORIGIN_CHECK.test(error.message)) return 'cross-site'
  return undefined
}
