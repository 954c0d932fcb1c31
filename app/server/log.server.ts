/**
 * Structured logs: one JSON line per request. Ids, codes and timings only; never PHI,
 * never query strings, never error messages (a database error can quote a value).
 */
import { errorCode } from './failures.server'

export type RequestLogLine = {
  method: string
  route: string
  status: number
  durationMs: number
  requestId: string
  clinicId: string | null
  userId: string | null
}

export function logRequest(line: RequestLogLine) {
  console.log(JSON.stringify({ level: 'info', msg: 'request', ...line }))
}

/**
 * In production only the error's name and code are logged. Locally (demo data, no real
 * patients) the message and stack are added, so development is not done blind, but never a
 * query's parameters: Drizzle's error message lists them (ciphertexts, blind indexes, values),
 * so for a failed query the SQL text (placeholders only) and the driver's own message are
 * logged instead, and stacks are cut to their frames (a stack starts with the message).
 */
export function logError(requestId: string, error: unknown, where: string, options: { verbose?: boolean } = {}) {
  const name = error instanceof Error ? error.name : typeof error
  const verbose = options.verbose && error instanceof Error ? describe(error) : {}
  console.error(JSON.stringify({ level: 'error', msg: 'unhandled error', where, requestId, name, code: errorCode(error), ...verbose }))
}

function describe(error: Error) {
  const failedQuery = error as Error & { query?: unknown; params?: unknown }
  const cause = error.cause instanceof Error ? error.cause : null
  const message =
    typeof failedQuery.query === 'string' && 'params' in failedQuery
      ? `Failed query: ${failedQuery.query}${cause ? ` (${cause.name}: ${cause.message})` : ''}`
      : error.message
  return { message, stack: framesOf(error.stack) }
}

const framesOf = (stack: string | undefined) =>
  stack
    ?.split('\n')
    .filter((line) => /^\s+at /.test(line))
    .join('\n')
