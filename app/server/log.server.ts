/**
 * Structured logs: one JSON line per request. Ids, codes and timings only; never PHI,
 * never query strings, never error messages (a database error can quote a value).
 */
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
 * patients) the message and stack are added, so development is not done blind.
 */
export function logError(requestId: string, error: unknown, where: string, options: { verbose?: boolean } = {}) {
  const name = error instanceof Error ? error.name : typeof error
  const code = (error as { code?: unknown } | null)?.code
  const verbose = options.verbose && error instanceof Error ? { message: error.message, stack: error.stack } : {}
  console.error(
    JSON.stringify({ level: 'error', msg: 'unhandled error', where, requestId, name, code: typeof code === 'string' ? code : undefined, ...verbose }),
  )
}
