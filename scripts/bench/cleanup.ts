/**
 * Everything the bench starts or creates registers its own undo here; `cleanupAll` runs them in
 * reverse order exactly once: at the end, on failure, on Ctrl-C (SIGINT) and on SIGTERM.
 */
import type { ChildProcess } from 'node:child_process'
import { chmodSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

type Task = { name: string; run: () => unknown }
const tasks: Task[] = []
let running: Promise<void> | null = null

export function onCleanup(name: string, run: () => unknown) {
  if (running) {
    // Cleaning up already (Ctrl-C while this was starting): undo it now and stop the caller.
    void Promise.resolve()
      .then(run)
      .catch(() => {})
    throw new Error(`stopping: ${name} was not kept`)
  }
  const task = { name, run }
  tasks.push(task)
  return () => {
    const i = tasks.indexOf(task)
    if (i >= 0) tasks.splice(i, 1)
  }
}

export function cleanupAll(): Promise<void> {
  running ??= (async () => {
    while (tasks.length) {
      const task = tasks.pop()!
      try {
        await withTimeout(Promise.resolve().then(task.run), 15_000, task.name)
      } catch (error) {
        console.error(`[bench] cleanup "${task.name}" failed: ${error instanceof Error ? error.message : error}`)
      }
    }
  })()
  return running
}

export function installSignalHandlers() {
  let signalled = false
  const stop = (signal: string, code: number) => {
    if (signalled) return
    signalled = true
    console.error(`\n[bench] ${signal}: cleaning up…`)
    void cleanupAll().finally(() => process.exit(code))
  }
  process.on('SIGINT', () => stop('SIGINT', 130))
  process.on('SIGTERM', () => stop('SIGTERM', 143))
  process.on('SIGHUP', () => stop('SIGHUP', 129))
  // Connections dropping while things stop must not kill the process before its cleanup is done.
  const stray = (kind: string) => (error: unknown) => {
    if (running) return
    console.error(`[bench] ${kind}: ${error instanceof Error ? (error.stack ?? error.message) : error}`)
    stop(kind, 1)
  }
  process.on('uncaughtException', stray('uncaught exception'))
  process.on('unhandledRejection', stray('unhandled rejection'))
}

/** Stops a child started with `detached: true` (its own process group): TERM, then KILL. */
export async function stopProcessGroup(child: ChildProcess, graceMs = 5000) {
  if (!child.pid || child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  try {
    process.kill(-child.pid, 'SIGTERM')
  } catch {
    return
  }
  const timedOut = await Promise.race([exited.then(() => false), sleep(graceMs).then(() => true)])
  if (timedOut) {
    try {
      process.kill(-child.pid, 'SIGKILL')
    } catch {}
    await Promise.race([exited, sleep(2000)])
  }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

function withTimeout<T>(promise: Promise<T>, ms: number, name: string) {
  let timer: NodeJS.Timeout
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${name}: timed out after ${ms} ms`)), ms)
    }),
  ])
}

/**
 * A bench's whole life: signal handlers, main(), a one-line failure, then everything registered
 * with onCleanup, whatever happened. Sets the process exit code.
 */
export async function runBench(name: string, main: () => Promise<void>, say: (line: string) => void): Promise<number> {
  installSignalHandlers()
  const code = await main().then(
    () => 0,
    (error) => {
      console.error(`[${name}] failed: ${error instanceof Error ? (error.stack ?? error.message) : error}`)
      return 1
    },
  )
  process.exitCode = code
  await cleanupAll()
  say('cleaned up')
  return code
}

/** A temp folder removed at cleanup; PostgreSQL (its own OS user when we are root) can enter it. */
export function benchTempFolder(prefix: string) {
  const tmp = mkdtempSync(join(tmpdir(), prefix))
  chmodSync(tmp, 0o755)
  onCleanup('temp folder', () => rmSync(tmp, { recursive: true, force: true }))
  return tmp
}
