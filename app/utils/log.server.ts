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

/** The bindings the environment lacks or has malformed (env.server.ts): names, never values. */
export function logEnvProblems(requestId: string, problems: string[]) {
  console.error(JSON.stringify({ level: 'error', msg: 'environment not usable', requestId, problems }))
}

/**
 * In production only the error's name and code are logged. Locally (demo data, no real
 * patients) the message and stack are added, so development is not done blind, but never a
 * query's parameters, nor the server's message about them: Drizzle's error message lists the
 * parameters (ciphertexts, blind indexes, values), and PostgreSQL's can quote one ("invalid input
 * syntax for type integer: ..."). For a database error, the SQL text (placeholders only) and what
 * names no value (SQLSTATE, table, column, constraint) are logged instead. Stacks are cut to their
 * frames (a stack starts with the message).
 */
export function logError(requestId: string, error: unknown, where: string, options: { verbose?: boolean } = {}) {
  const name = error instanceof Error ? error.name : typeof error
  const verbose = options.verbose && error instanceof Error ? describe(error) : {}
  console.error(JSON.stringify({ level: 'error', msg: 'unhandled error', where, requestId, name, code: errorCode(error), ...verbose }))
}

type DatabaseError = Error & { severity?: string; code?: string; table?: string; column?: string; constraint?: string; routine?: string }
const isDatabaseError = (e: unknown): e is DatabaseError => e instanceof Error && typeof (e as DatabaseError).severity === 'string'

function describe(error: Error) {
  const failedQuery = error as Error & { query?: unknown; params?: unknown }
  const cause = error.cause instanceof Error ? error.cause : null
  let message = error.message
  if (typeof failedQuery.query === 'string' && 'params' in failedQuery) {
    message = `Failed query: ${failedQuery.query}${cause ? ` (${isDatabaseError(cause) ? databaseError(cause) : cause.name})` : ''}`
  } else if (isDatabaseError(error)) {
    message = databaseError(error)
  }
  return { message, stack: framesOf(error.stack) }
}

const databaseError = (e: DatabaseError) =>
  [
    `SQLSTATE ${e.code}`,
    e.table && `table ${e.table}`,
    e.column && `column ${e.column}`,
    e.constraint && `constraint ${e.constraint}`,
    e.routine && `in ${e.routine}`,
  ]
    .filter(Boolean)
    .join(', ')

const framesOf = (stack: string | undefined) =>
  stack
    ?.split('\n')
    .filter((line) => /^\s+at /.test(line))
    .join('\n')
