/**
 * Load generation: autocannon against the app (loopback only, bounded by time AND by a request
 * cap), and a tiny closed-loop runner for the Node baselines. Both report the same shape.
 * Latencies are recorded per response (autocannon's own histogram has no p95).
 */
import { createRequire } from 'node:module'
import { machineMeter, type MachineLoad } from './machine'

export type Stats = {
  requests: number
  seconds: number
  rps: number
  p50: number
  p95: number
  p99: number
  max: number
  /** Connection errors and timeouts. */
  errors: number
  /** Responses whose status was not the expected one, by status. */
  unexpected: Record<string, number>
  unexpectedCount: number
  statuses: Record<string, number>
  /** The run ended on its request cap (the rate-limit budget) before its duration. */
  capped: boolean
  /** Machine-wide CPU use during the run, and the part of it that was not this bench. */
  machine?: MachineLoad
}

export type RequestSpec = { method?: 'GET' | 'POST'; path: string; headers: Record<string, string>; body?: string }

type AutocannonResult = { errors: number; timeouts: number; statusCodeStats: Record<string, { count: number }>; duration: number }
type AutocannonRequest = { setupRequest: (req: Record<string, unknown>) => Record<string, unknown> }
type Instance = {
  on(event: 'response', fn: (client: unknown, status: number, bytes: number, ms: number) => void): void
  on(event: 'done', fn: (result: AutocannonResult) => void): void
  stop(): void
}
type Autocannon = (opts: Record<string, unknown>, cb?: (err: Error | null, result: AutocannonResult) => void) => Instance

// autocannon is CommonJS without type declarations.
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon

export function percentile(sorted: number[], p: number) {
  if (!sorted.length) return NaN
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  return sorted[i]!
}

export function summarize(latencies: number[], seconds: number, extra: Omit<Stats, 'requests' | 'seconds' | 'rps' | 'p50' | 'p95' | 'p99' | 'max'>): Stats {
  const sorted = [...latencies].sort((a, b) => a - b)
  const round = (n: number) => Math.round(n * 100) / 100
  return {
    requests: sorted.length,
    seconds: round(seconds),
    rps: round(sorted.length / seconds),
    p50: round(percentile(sorted, 50)),
    p95: round(percentile(sorted, 95)),
    p99: round(percentile(sorted, 99)),
    max: round(sorted.at(-1) ?? NaN),
    ...extra,
  }
}

/** Runs autocannon; `next(i)` builds the i-th request (fresh cookies, keys, ids...). */
export function runAutocannon(options: {
  origin: string
  connections: number
  durationSeconds: number
  maxRequests: number
  expectStatus: number
  next: (i: number) => RequestSpec
}): Promise<Stats> {
  return new Promise((resolve, reject) => {
    let i = 0
    const latencies: number[] = []
    const started = performance.now()
    const meter = machineMeter()
    const request: AutocannonRequest = {
      setupRequest: (req) => {
        const spec = options.next(i++)
        return { ...req, method: spec.method ?? 'GET', path: spec.path, headers: spec.headers, body: spec.body }
      },
    }
    const instance = autocannon(
      {
        url: options.origin,
        connections: options.connections,
        duration: options.durationSeconds,
        maxOverallRequests: options.maxRequests,
        timeout: 30,
        requests: [request],
      },
      (error, result) => {
        if (error) return reject(error)
        const seconds = (performance.now() - started) / 1000
        const statuses: Record<string, number> = {}
        const unexpected: Record<string, number> = {}
        for (const [code, { count }] of Object.entries(result.statusCodeStats)) {
          statuses[code] = count
          if (Number(code) !== options.expectStatus) unexpected[code] = count
        }
        const unexpectedCount = Object.values(unexpected).reduce((a, b) => a + b, 0)
        resolve(
          summarize(latencies, Math.min(seconds, result.duration || seconds), {
            errors: result.errors,
            unexpected,
            unexpectedCount,
            statuses,
            capped: latencies.length >= options.maxRequests && seconds < options.durationSeconds - 0.5,
            machine: meter(),
          }),
        )
      },
    )
    instance.on('response', (_client, _status, _bytes, ms) => {
      latencies.push(ms)
    })
  })
}

export type RawRun = { latencies: number[]; seconds: number; errors: number; capped: boolean; machine: ReturnType<ReturnType<typeof machineMeter>> }

/** A closed loop of `concurrency` workers calling `fn` for `durationSeconds` (the Node baselines). */
export async function runLoopRaw(options: {
  concurrency: number
  durationSeconds: number
  maxRequests?: number
  fn: (i: number) => Promise<void>
}): Promise<RawRun> {
  const latencies: number[] = []
  let errors = 0
  let i = 0
  let firstError: unknown = null
  const started = performance.now()
  const meter = machineMeter()
  const deadline = started + options.durationSeconds * 1000
  const cap = options.maxRequests ?? Infinity
  await Promise.all(
    Array.from({ length: options.concurrency }, async () => {
      while (performance.now() < deadline && i < cap) {
        const n = i++
        const t = performance.now()
        try {
          await options.fn(n)
          latencies.push(performance.now() - t)
        } catch (error) {
          errors++
          firstError ??= error
          if (errors > 20 && errors > latencies.length) throw error
        }
      }
    }),
  )
  if (firstError) console.error(`[bench]   baseline error (${errors}x): ${firstError instanceof Error ? firstError.message : firstError}`)
  return { latencies, seconds: (performance.now() - started) / 1000, errors, capped: i >= cap, machine: meter() }
}

export async function runLoop(options: Parameters<typeof runLoopRaw>[0]): Promise<Stats> {
  const raw = await runLoopRaw(options)
  return fromRaw([raw])
}

/** One Stats from several runs (e.g. interleaved halves of one measurement). */
export function fromRaw(runs: RawRun[]): Stats {
  const seconds = runs.reduce((n, r) => n + r.seconds, 0)
  const busy = runs.map((r) => r.machine.busy).filter((v): v is number => v !== null)
  const others = runs.map((r) => r.machine.others).filter((v): v is number => v !== null)
  const avg = (v: number[]) => (v.length ? Math.round((v.reduce((a, b) => a + b, 0) / v.length) * 100) / 100 : null)
  const cpuMs: Record<string, number> = {}
  for (const r of runs) for (const [k, v] of Object.entries(r.machine.cpuMs ?? {})) cpuMs[k] = (cpuMs[k] ?? 0) + v
  return summarize(
    runs.flatMap((r) => r.latencies),
    seconds,
    {
      errors: runs.reduce((n, r) => n + r.errors, 0),
      unexpected: {},
      unexpectedCount: 0,
      statuses: {},
      capped: runs.some((r) => r.capped),
      machine: { busy: avg(busy), others: avg(others), cpuMs },
    },
  )
}
