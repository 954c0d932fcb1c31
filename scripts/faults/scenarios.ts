/**
 * The faults, one after another, under load: each phase injects one, holds it, removes it, and
 * waits until the app answers /healthz again by itself (the app is never restarted).
 */
import { createServer, type Socket } from 'node:net'
import { sql } from 'drizzle-orm'
import type { Env } from '../../app/utils/env.server'
import { openSession, sealSession, sessionCookieName } from '../../app/auth/session.server'
import { retryWhilePortBusy } from './processes'
import type { FaultStack } from './stack'
import { Client, Recorder, sleep, type Answer } from './traffic'
import type { Submitter } from './referrals'

export type PhaseRecord = { name: string; fault: string; recoveredMs: number | null; note?: string }

export function startLoad(steps: { paceMs: number; step: () => Promise<unknown> }[]) {
  let running = true
  const loops = steps.map(async ({ paceMs, step }, i) => {
    await sleep(i * 97) // spread the clients out
    while (running) {
      await step()
      await sleep(paceMs)
    }
  })
  return async () => {
    running = false
    await Promise.all(loops)
  }
}

/** Requests sent while the fault lasted finish first (they belong to it, whatever they are answered). */
const settle = () => sleep(1000)

export async function waitHealthy(origin: string, timeoutMs: number) {
  const started = performance.now()
  while (performance.now() - started < timeoutMs) {
    try {
      const response = await fetch(`${origin}/healthz`, { signal: AbortSignal.timeout(3000) })
      await response.body?.cancel()
      if (response.ok) return performance.now() - started
    } catch {}
    await sleep(200)
  }
  return null
}

/** A server crash: SIGKILL by pid, down for a while, started again; then load on the recovered stack. */
export async function killPhase(
  recorder: Recorder,
  stack: FaultStack,
  name: string,
  target: { pid: () => number; kill: () => Promise<void>; start: () => Promise<void> },
  downMs: number,
): Promise<PhaseRecord> {
  recorder.phase = name
  await sleep(1000)
  const pid = target.pid()
  await target.kill()
  await sleep(downMs)
  await target.start()
  const recoveredMs = await waitHealthy(stack.app.origin, 30_000)
  await settle()
  recorder.phase = `${name}, after`
  await sleep(2500)
  return { name, fault: `SIGKILL pid ${pid}, down ${downMs / 1000} s, started again (pid ${target.pid()})`, recoveredMs }
}

/** A server that hangs: SIGSTOP, held past the deadline, SIGCONT. */
export async function freezePhase(
  recorder: Recorder,
  stack: FaultStack,
  name: string,
  target: { pid: () => number; freeze: () => void; thaw: () => void },
  holdMs: number,
): Promise<PhaseRecord> {
  recorder.phase = name
  await sleep(1000)
  const pid = target.pid()
  target.freeze()
  await sleep(holdMs)
  target.thaw()
  const recoveredMs = await waitHealthy(stack.app.origin, 30_000)
  await settle()
  recorder.phase = `${name}, after`
  await sleep(2500)
  return { name, fault: `SIGSTOP pid ${pid} and its children for ${holdMs / 1000} s, then SIGCONT`, recoveredMs }
}

/** A lock held by the owner: the database answers everyone else, just not about referrals. */
export async function lockPhase(recorder: Recorder, stack: FaultStack, name: string, holdMs: number): Promise<PhaseRecord> {
  recorder.phase = name
  await sleep(1000)
  const owner = stack.owner()
  try {
    await owner.db.transaction(async (tx) => {
      await tx.execute(sql`lock table referrals in access exclusive mode`)
      await sleep(holdMs)
    })
  } finally {
    await owner.end()
  }
  const recoveredMs = await waitHealthy(stack.app.origin, 30_000)
  await settle()
  recorder.phase = `${name}, after`
  await sleep(2500)
  return { name, fault: `owner holds ACCESS EXCLUSIVE on referrals for ${holdMs / 1000} s`, recoveredMs }
}

export type IdpFindings = {
  freshDuringOutage: Answer[]
  staleRefused: Answer[]
  staleHanging: Answer[]
  staleAfter: Answer | null
  freshAfter: Answer | null
  staleCookieRenewed: boolean
  signInDuringOutage: Answer | null
}

/**
 * The identity provider goes away, refusing connections, then hanging (a port that accepts and
 * never answers), then comes back with every grant it had. `fresh` holds a token that is still
 * good; `stale`'s token is made to need a refresh now (its sealed session's `at` moved back).
 */
export async function identityProviderPhase(recorder: Recorder, stack: FaultStack, fresh: Client, stale: Client, newcomer: Client): Promise<IdpFindings> {
  const env = stack.bindings as unknown as Env
  const name = sessionCookieName(env)
  const session = await openSession(env, stale.cookie(name))
  if (!session) throw new Error('could not open the test session cookie (the session format changed?)')
  stale.setCookieHeader(`${name}=${await sealSession(env, { ...session, at: Math.floor(Date.now() / 1000) - 60 })}`)
  const staleCookie = stale.cookie(name)
  const findings: IdpFindings = {
    freshDuringOutage: [],
    staleRefused: [],
    staleHanging: [],
    staleAfter: null,
    freshAfter: null,
    staleCookieRenewed: false,
    signInDuringOutage: null,
  }

  recorder.phase = 'identity provider refuses connections'
  await stack.idp.suspend()
  try {
    findings.freshDuringOutage.push(await fresh.send('GET', '/queue'))
    findings.staleRefused.push(await stale.send('GET', '/queue'))
    findings.signInDuringOutage = await newcomer.send('POST', '/auth/microsoft', { form: new URLSearchParams({ redirectTo: '/queue' }) })
    await sleep(1000)
    findings.staleRefused.push(await stale.send('GET', '/queue'))
    findings.freshDuringOutage.push(await fresh.send('GET', '/queue'))

    recorder.phase = 'identity provider hangs'
    const held = new Set<Socket>()
    const blackHole = createServer((socket) => void held.add(socket.on('error', () => {})))
    await retryWhilePortBusy(
      'black hole',
      () => new Promise<void>((resolve, reject) => blackHole.once('error', reject).listen(stack.idp.port, '127.0.0.1', () => resolve())),
    )
    try {
      findings.staleHanging.push(await stale.send('GET', '/queue'))
      findings.freshDuringOutage.push(await fresh.send('GET', '/queue'))
    } finally {
      for (const socket of held) socket.destroy()
      await new Promise((resolve) => blackHole.close(resolve))
    }
  } finally {
    await retryWhilePortBusy('identity provider', () => stack.idp.resume())
  }

  recorder.phase = 'identity provider back'
  findings.staleAfter = await stale.send('GET', '/queue')
  findings.staleCookieRenewed = Boolean(stale.cookie(name)) && stale.cookie(name) !== staleCookie
  findings.freshAfter = await fresh.send('GET', '/queue')
  return findings
}

/** Submitters resend what did not go through until it has; then each resends one accepted referral. */
export async function settleReferrals(submitters: Submitter[]) {
  await Promise.all(submitters.map((s) => s.drain(20_000)))
  for (const s of submitters) {
    const accepted = s.intents.filter((i) => i.reference)
    const refusedFirst = accepted.find((i) => i.refused) ?? accepted[0]
    if (refusedFirst) await s.replay(refusedFirst)
  }
}

export async function countReferrals(stack: FaultStack, keys: string[]) {
  if (!keys.length) return new Map<string, { n: number; references: string[] }>()
  const owner = stack.owner()
  try {
    const rows = await owner.db.execute<{ key: string; n: number; references: string[] }>(
      sql`select idempotency_key as key, count(*)::int as n, array_agg(reference_number) as references
          from referrals where idempotency_key in (${sql.join(
            keys.map((k) => sql`${k}`),
            sql`, `,
          )}) group by idempotency_key`,
    )
    return new Map(rows.rows.map((r) => [r.key, { n: r.n, references: r.references }]))
  } finally {
    await owner.end()
  }
}
