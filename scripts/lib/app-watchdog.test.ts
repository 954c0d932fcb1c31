/**
 * The watchdog against real processes: a small HTTP server stands in for the app server, and
 * is killed, frozen (SIGSTOP: the process is there, the port accepts nothing) or made to answer
 * 503, with the watchdog's intervals shortened.
 */
import { spawn } from 'node:child_process'
import { afterEach, expect, test } from 'vitest'
import { freePort } from '../../tests/support/free-port'
import { superviseApp, type Watchdog } from './app-watchdog'

const SERVER = `
const status = Number(process.env.STATUS ?? 200)
require('node:http').createServer((req, res) => res.writeHead(status).end(String(process.pid))).listen(Number(process.env.PORT), '127.0.0.1')
if (process.env.DIE_AFTER_MS) setTimeout(() => process.exit(3), Number(process.env.DIE_AFTER_MS))
`

let watchdog: Watchdog | undefined
afterEach(async () => {
  await watchdog?.stop()
  watchdog = undefined
})

async function supervised(env: Record<string, string> = {}) {
  const port = await freePort()
  const lines: string[] = []
  const starts: number[] = []
  watchdog = superviseApp({
    start: () => {
      starts.push(Date.now())
      return spawn(process.execPath, ['-e', SERVER], { detached: true, stdio: 'ignore', env: { ...process.env, PORT: String(port), ...env } })
    },
    healthUrl: `http://127.0.0.1:${port}/healthz`,
    log: (line) => lines.push(line),
    intervalMs: 200,
    timeoutMs: 200,
    failuresBeforeRestart: 3,
    startupTimeoutMs: 5_000,
    killGraceMs: 500,
    backoff: { initialMs: 100, maxMs: 800, stableMs: 2_000 },
  })
  await watchdog.ready
  const answer = async () => (await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(1000) })).text()
  return { watchdog, lines, starts, answer }
}

const until = async (what: () => boolean | Promise<boolean>, ms = 8_000) => {
  const deadline = Date.now() + ms
  while (
    !(await Promise.resolve()
      .then(what)
      .catch(() => false))
  ) {
    if (Date.now() > deadline) throw new Error('timed out')
    await new Promise((r) => setTimeout(r, 50))
  }
}

test('an app server that exits is started again, with a log line, and answers', async () => {
  const { watchdog, lines, answer } = await supervised()
  const first = watchdog.pid()!
  process.kill(first, 'SIGKILL')
  await until(async () => watchdog.restarts() === 1 && (await answer()) !== String(first))
  expect(lines[0]).toMatch(/^the app server was stopped by SIGKILL; restarting it in 0\.1 s \(PostgreSQL and the rest keep running\)$/)
  await until(() => lines.some((l) => /answers again/.test(l)))
})

test('a hung app server (alive, answering nothing) is restarted after 3 failed checks', async () => {
  const { watchdog, lines, answer } = await supervised()
  const first = watchdog.pid()!
  process.kill(first, 'SIGSTOP')
  try {
    await until(async () => watchdog.restarts() === 1 && (await answer()) !== String(first))
  } finally {
    try {
      process.kill(first, 'SIGKILL')
    } catch {}
  }
  expect(lines[0]).toMatch(/has not answered .*\/healthz 3 times in a row .*: it is hung; restarting it/)
  // The frozen process is gone: killed, not left behind holding the port.
  expect(() => process.kill(first, 0)).toThrow()
})

test('a 503 from /healthz (the database is down) is an answer: nothing is restarted', async () => {
  const { watchdog, lines } = await supervised({ STATUS: '503' })
  await new Promise((r) => setTimeout(r, 1_500))
  expect(watchdog.restarts()).toBe(0)
  expect(lines).toEqual([])
})

test('an app server that keeps dying is restarted after longer and longer pauses', async () => {
  const { watchdog, lines, starts } = await supervised({ DIE_AFTER_MS: '800' })
  await until(() => watchdog.restarts() >= 4, 15_000)
  const pauses = lines.flatMap((l) => /restarting it in ([\d.]+) s/.exec(l)?.[1] ?? []).map(Number)
  expect(pauses.slice(0, 4)).toEqual([0.1, 0.2, 0.4, 0.8])
  expect(starts.length).toBeGreaterThanOrEqual(4)
})
