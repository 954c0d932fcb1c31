/**
 * The request's deadline: past it, the pipeline answers 503 with Retry-After, the database
 * connection is closed (load-context.server.ts) and no transaction commits (db.tenant checks
 * the signal before it commits). docs/decisions/019-body-limits-and-deadlines.md
 */
import type { Env } from '~/utils/env.server'
import { DeadlineError } from '~/utils/failures.server'
import { DEFAULT_BODY_TIMEOUT_MS } from './request-body.server'

export const DEFAULT_DEADLINE_MS = 30_000

const positive = (value: string | undefined, fallback: number) => {
  const n = Number(value)
  return Number.isFinite(n) && n > 0 ? n : fallback
}

/** The deadline and the body's own time limit, from the bindings (the tests shorten them). */
export function requestLimits(env: Pick<Env, 'REQUEST_DEADLINE_MS' | 'REQUEST_BODY_TIMEOUT_MS'>) {
  const deadlineMs = positive(env.REQUEST_DEADLINE_MS, DEFAULT_DEADLINE_MS)
  return { deadlineMs, bodyTimeoutMs: Math.min(deadlineMs, positive(env.REQUEST_BODY_TIMEOUT_MS, DEFAULT_BODY_TIMEOUT_MS)) }
}

export function startDeadline(ms: number) {
  const controller = new AbortController()
  let timer: ReturnType<typeof setTimeout> | undefined
  const passed = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new DeadlineError()
      controller.abort(error)
      reject(error)
    }, ms)
  })
  // Nobody may be waiting on it (the request finished first): never an unhandled rejection.
  passed.catch(() => {})
  return {
    signal: controller.signal,
    /** Rejects with DeadlineError when the time is up. */
    passed,
    /** The answer is out: what streams after it (an export) is not cut off. */
    clear: () => clearTimeout(timer),
  }
}
