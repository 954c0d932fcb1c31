/**
 * `npm start`'s watchdog over the app server (workerd through scripts/app-server.ts, or the Vite dev
 * server): it restarts the app, with a clear log line, when the process exits or when /healthz
 * stops answering (a hung isolate answers nothing, and nothing else would notice). PostgreSQL,
 * PgBouncer, the relay and the identity provider keep running meanwhile: the app exiting is
 * never a reason to stop them.
 *
 * "Answering" means any HTTP response: /healthz says 503 while the database is down, and
 * restarting the app would not bring the database back. An app that keeps dying is restarted
 * after longer and longer pauses (1 s, 2 s, 4 s … 60 s), back to 1 s once it has stayed up a minute.
 */
import type { ChildProcess } from 'node:child_process'

export type WatchdogOptions = {
  /** Spawns the app in a process group of its own (detached), so the whole tree can be stopped. */
  start: () => ChildProcess
  healthUrl: string
  log: (line: string) => void
  /** Between health checks; each check's own timeout; how many failed checks in a row restart it. */
  intervalMs?: number
  timeoutMs?: number
  failuresBeforeRestart?: number
  /** How long a (re)started app may take to answer for the first time. */
  startupTimeoutMs?: number
  /** After SIGTERM, how long before SIGKILL (a hung workerd may not act on SIGTERM). */
  killGraceMs?: number
  backoff?: { initialMs: number; maxMs: number; stableMs: number }
}

export type Watchdog = {
  /** Resolves when the first app answers /healthz; rejects if it exits or never answers (nothing is restarted then). */
  ready: Promise<void>
  restarts: () => number
  pid: () => number | undefined
  stop: () => Promise<void>
}

export function superviseApp(options: WatchdogOptions): Watchdog {
  const intervalMs = options.intervalMs ?? 5_000
  const timeoutMs = options.timeoutMs ?? 5_000
  const allowedFailures = options.failuresBeforeRestart ?? 3
  const startupTimeoutMs = options.startupTimeoutMs ?? 120_000
  const killGraceMs = options.killGraceMs ?? 5_000
  const backoff = options.backoff ?? { initialMs: 1_000, maxMs: 60_000, stableMs: 60_000 }

  let child: ChildProcess | undefined
  let stopping = false
  let everReady = false
  let restarts = 0
  let delay = backoff.initialMs
  let answeredAt = 0
  let firstAnswerAt = 0
  let startedAt = 0
  let failures = 0
  let checking = false
  /** The process the watchdog itself is stopping (hung), so its exit is not reported as a crash. */
  let stoppedAsHung: ChildProcess | undefined
  let timer: NodeJS.Timeout | undefined
  let restartTimer: NodeJS.Timeout | undefined
  let resolveReady!: () => void
  let rejectReady!: (error: Error) => void
  const ready = new Promise<void>((resolve, reject) => ((resolveReady = resolve), (rejectReady = reject)))

  function launch() {
    restartTimer = undefined
    if (stopping) return
    const current = options.start()
    child = current
    startedAt = Date.now()
    answeredAt = 0
    firstAnswerAt = 0
    failures = 0
    current.once('exit', (code, signal) => onExit(current, code, signal))
  }

  function onExit(exited: ChildProcess, code: number | null, signal: NodeJS.Signals | null) {
    if (exited !== child || stopping) return
    child = undefined
    const how = exited === stoppedAsHung ? 'is stopped' : signal ? `was stopped by ${signal}` : `exited with code ${code}`
    if (!everReady) return rejectReady(new Error(`the app server ${how} before it answered ${options.healthUrl}`))
    // Up for a while: a one-off, restart at once. Otherwise it keeps dying: wait longer each time.
    const stable = firstAnswerAt > 0 && Date.now() - firstAnswerAt >= backoff.stableMs
    delay = stable || restarts === 0 ? backoff.initialMs : Math.min(delay * 2, backoff.maxMs)
    options.log(`the app server ${how}; restarting it in ${Math.round(delay / 100) / 10} s (PostgreSQL and the rest keep running)`)
    restarts++
    restartTimer = setTimeout(launch, delay)
  }

  async function check() {
    const current = child
    if (checking || stopping || !current || current.exitCode !== null) return
    checking = true
    try {
      const response = await fetch(options.healthUrl, { signal: AbortSignal.timeout(timeoutMs) })
      await response.body?.cancel()
      if (current !== child) return
      failures = 0
      if (!answeredAt && restarts > 0) options.log(`the app server answers again (pid ${current.pid})`)
      answeredAt = Date.now()
      firstAnswerAt ||= answeredAt
      if (!everReady) {
        everReady = true
        resolveReady()
      }
    } catch {
      if (current !== child || stopping) return
      if (!answeredAt) {
        // Still starting: only a start that takes far too long counts.
        if (Date.now() - startedAt < startupTimeoutMs) return
        if (!everReady) {
          rejectReady(new Error(`the app did not answer ${options.healthUrl} within ${Math.round(startupTimeoutMs / 1000)} s`))
          return
        }
        options.log(`the restarted app server has not answered ${options.healthUrl} within ${Math.round(startupTimeoutMs / 1000)} s; restarting it`)
        stoppedAsHung = current
        kill(current)
        return
      }
      failures++
      if (failures >= allowedFailures) {
        options.log(
          `the app server has not answered ${options.healthUrl} ${failures} times in a row (${intervalMs / 1000} s apart, ${timeoutMs / 1000} s timeout each): it is hung; restarting it`,
        )
        failures = 0
        stoppedAsHung = current
        kill(current)
      }
    } finally {
      checking = false
    }
  }

  function kill(target: ChildProcess) {
    const signal = (name: NodeJS.Signals) => {
      try {
        process.kill(-target.pid!, name)
      } catch {}
    }
    signal('SIGTERM')
    const hard = setTimeout(() => target.exitCode === null && target.signalCode === null && signal('SIGKILL'), killGraceMs)
    target.once('exit', () => clearTimeout(hard))
    return new Promise<void>((resolve) => (target.exitCode !== null || target.signalCode !== null ? resolve() : target.once('exit', () => resolve())))
  }

  launch()
  // Until the first answer, check often (start-up), then at the watchdog's pace.
  const fastStart = setInterval(() => void check(), 300)
  void ready.then(
    () => {
      clearInterval(fastStart)
      timer = setInterval(() => void check(), intervalMs)
    },
    () => clearInterval(fastStart),
  )
  ready.catch(() => {})

  return {
    ready,
    restarts: () => restarts,
    pid: () => child?.pid,
    stop: async () => {
      stopping = true
      clearInterval(fastStart)
      if (timer) clearInterval(timer)
      if (restartTimer) clearTimeout(restartTimer)
      if (child && child.exitCode === null && child.signalCode === null) await kill(child)
    },
  }
}
