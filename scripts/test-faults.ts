/**
 * `npm run test:faults`: IntakePilot under faults, on a stack of its own (scripts/faults/stack.ts).
 * Under steady load from signed-in people and programs it kills PostgreSQL and PgBouncer by pid
 * and starts them again, freezes each, holds a lock, and takes the identity provider away; then
 * checks what everyone was answered and which referrals exist. Prints a table; exits 1 on any
 * failure. `--no-build` serves the existing build/ (CI builds once for the e2e tests).
 */
import { spawnSync } from 'node:child_process'
import { cpSync, mkdirSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { benchTempFolder, runBench, sleep } from './bench/cleanup'
import { signInThroughApp } from './bench/sign-in'
import { CLI_CLIENT_ID, CLI_REDIRECT_URI, getTokensFor } from './lib/idp-login'
import { Submitter } from './faults/referrals'
import { answersIn, clearAnswers, printTable, resumed, type Check } from './faults/report'
import { countReferrals, freezePhase, identityProviderPhase, killPhase, lockPhase, settleReferrals, startLoad, type PhaseRecord } from './faults/scenarios'
import { startFaultStack } from './faults/stack'
import { Client, judge, Recorder, type Answer } from './faults/traffic'

const repo = resolve(fileURLToPath(new URL('..', import.meta.url)))
/** The app's request deadline for this run (REQUEST_DEADLINE_MS), short so hangs resolve quickly. */
const DEADLINE_MS = Number(process.env.FAULTS_DEADLINE_MS ?? 6000)
/** How long a client waits for any answer before calling it a hang. */
const PATIENCE_MS = DEADLINE_MS + 15_000
/** How long a hang lasts: well past the deadline plus the slack the checks allow (traffic.ts). */
const HANG_MS = DEADLINE_MS + 4000
const PACE_MS = 900 // per user: about 65 requests a minute, under the limit of 100
const say = (line: string) => console.log(`[faults] ${line}`)

async function main() {
  const started = performance.now()
  if (!process.argv.includes('--no-build')) {
    say('building the app')
    const built = spawnSync('npx', ['remix', 'vite:build'], { cwd: repo, stdio: ['ignore', 'ignore', 'inherit'] })
    if (built.status !== 0) throw new Error('the build failed')
  }
  const tmp = benchTempFolder('intakepilot-faults-')
  const stack = await startFaultStack({ repo, tmp, deadlineMs: DEADLINE_MS, say })
  const appPid = stack.app.process.pid
  const origin = stack.app.origin
  const recorder = new Recorder()

  const page = async (email: string) =>
    new Client(email, origin, recorder, { sessionCookie: await signInThroughApp({ appOrigin: origin, email }), patienceMs: PATIENCE_MS })
  const api = async (email: string) => {
    const tokens = await getTokensFor({ issuer: stack.idp.issuer, email, clientId: CLI_CLIENT_ID, redirectUri: CLI_REDIRECT_URI })
    return new Client(`${email} (API)`, origin, recorder, { bearer: tokens.access_token, patienceMs: PATIENCE_MS })
  }
  const [staffNorth, staffLake, referrerNorth, freshAdmin, staleAdmin, apiStaff, apiReferrer] = [
    await page('staff@northside.test'),
    await page('staff@lakeview.test'),
    await page('referrer@northside.test'),
    await page('admin@northside.test'),
    await page('admin@lakeview.test'),
    await api('staff@riverbend.test'),
    await api('referrer@riverbend.test'),
  ]
  const newcomer = new Client('someone signing in', origin, recorder, { patienceMs: PATIENCE_MS })
  const pageSubmits = new Submitter(referrerNorth, 'page', 'northside', 1, DEADLINE_MS)
  const apiSubmits = new Submitter(apiReferrer, 'api', 'riverbend', 2, DEADLINE_MS)
  say(`signed in 5 people and 2 programs (${((performance.now() - started) / 1000).toFixed(0)} s so far)`)

  let flip = false
  const stopLoad = startLoad([
    { paceMs: PACE_MS, step: () => staffNorth.send('GET', '/queue') },
    { paceMs: PACE_MS, step: () => staffLake.send('GET', '/queue') },
    { paceMs: PACE_MS, step: () => ((flip = !flip) ? pageSubmits.step() : referrerNorth.send('GET', '/my-referrals')) },
    { paceMs: PACE_MS, step: () => apiStaff.send('GET', '/api/v1/referrals') },
    { paceMs: PACE_MS, step: () => apiSubmits.step() },
  ])
  recorder.phase = 'steady load'
  await sleep(2500)

  const phases: PhaseRecord[] = []
  try {
    phases.push(await killPhase(recorder, stack, 'PostgreSQL killed', stack.postgres, 3000))
    if (stack.pgbouncer) phases.push(await killPhase(recorder, stack, 'PgBouncer killed', stack.pgbouncer, 2000))
    phases.push(await freezePhase(recorder, stack, 'PostgreSQL hangs', stack.postgres, HANG_MS))
    if (stack.pgbouncer) phases.push(await freezePhase(recorder, stack, 'PgBouncer hangs', stack.pgbouncer, HANG_MS))
    phases.push(await lockPhase(recorder, stack, 'referrals locked', HANG_MS))
  } finally {
    await stopLoad()
  }
  say('database faults done; now the identity provider')
  const idp = await identityProviderPhase(recorder, stack, freshAdmin, staleAdmin, newcomer)
  recorder.phase = 'settling referrals'
  await settleReferrals([pageSubmits, apiSubmits])
  const intents = [...pageSubmits.intents, ...apiSubmits.intents]
  const rows = await countReferrals(
    stack,
    intents.map((i) => i.key),
  )

  const checks: Check[] = []
  for (const p of phases) {
    checks.push({
      ...clearAnswers(p.name, answersIn(recorder.answers, p.name), DEADLINE_MS, { expectRefusals: true }),
      check: `${p.fault}: every answer is a success or 503 + Retry-After (page / JSON), within the deadline`,
    })
    checks.push(resumed(p.name, answersIn(recorder.answers, `${p.name}, after`), p.recoveredMs, DEADLINE_MS))
  }
  checks.push(...referralChecks(intents, rows))
  checks.push(...identityProviderChecks(idp))
  checks.push(...overallChecks(recorder.answers, stack.app.process.pid === appPid && stack.app.process.exitCode === null))

  const failed = printTable(checks, say)
  say(
    `PostgreSQL 18 (embedded)${stack.pgbouncer ? `, PgBouncer ${stack.pgbouncer.version()} in transaction mode` : ', no PgBouncer'}; deadline ${DEADLINE_MS} ms; ${recorder.answers.length} requests; ${((performance.now() - started) / 1000).toFixed(0)} s in all`,
  )
  const keep = join(repo, '.data', 'test-faults')
  mkdirSync(keep, { recursive: true })
  writeFileSync(
    join(keep, 'answers.json'),
    JSON.stringify(
      recorder.answers.map(({ body, ...a }) => ({ ...a, verdict: judge({ body, ...a }, DEADLINE_MS), body: body.slice(0, 300) })),
      null,
      1,
    ),
  )
  cpSync(stack.app.logFile, join(keep, 'app.log'))
  say(`every answer: .data/test-faults/answers.json; the app's log: .data/test-faults/app.log`)
  if (failed) throw new Error(`${failed} check(s) failed`)
}

function referralChecks(intents: Submitter['intents'], rows: Awaited<ReturnType<typeof countReferrals>>): Check[] {
  const area = 'referrals'
  const refused = intents.filter((i) => i.refused)
  const lost = intents.filter((i) => !i.rejected && (!i.reference || !rows.get(i.key)))
  const rejected = intents.filter((i) => i.rejected)
  const twice = intents.filter((i) => (rows.get(i.key)?.n ?? 0) > 1 || i.mismatch)
  const wrongRow = intents.filter((i) => i.reference && rows.get(i.key) && !rows.get(i.key)!.references.includes(i.reference))
  const retried = intents.filter((i) => i.attempts > 1 && i.reference)
  const drafts = intents.filter((i) => i.draftOffered !== null)
  return [
    {
      area,
      check: 'none lost: every referral sent (and resent after a refusal) exists, counted as the owner',
      pass: lost.length === 0 && rejected.length === 0 && refused.length > 0,
      detail:
        `${intents.length} referrals (page and API), ${refused.length} refused at least once; ${lost.length} missing` +
        (rejected.length ? `; ${rejected.length} rejected (${rejected[0]!.rejected})` : '') +
        (refused.length ? '' : '; none was refused, so nothing was shown'),
    },
    {
      area,
      check: 'none twice: one row per idempotency key; a resend with the same key names the same referral',
      pass: twice.length === 0 && wrongRow.length === 0 && retried.length > 0,
      detail: `${retried.length} sent more than once (incl. one resend of an accepted one per user); ${twice.length} doubled, ${wrongRow.length} naming another row`,
    },
    {
      area,
      check: 'what the referrer typed is offered again (same key) on the form after a refused submit',
      pass: drafts.length > 0 && drafts.every((i) => i.draftOffered),
      detail: drafts.length
        ? `${drafts.filter((i) => i.draftOffered).length}/${drafts.length} page submits refused and then offered again`
        : 'no page submit was refused before the form answered again',
    },
  ]
}

function identityProviderChecks(idp: Awaited<ReturnType<typeof identityProviderPhase>>): Check[] {
  const area = 'identity provider down'
  const signInPage = (a: Answer) =>
    a.status === 503 && Number(a.retryAfter) > 0 && /<h1[^>]*>Sign-in is unavailable</.test(a.body) && !a.signedOut && a.ms < DEADLINE_MS + 2500
  const describe = (a: Answer | null) => (a ? `${a.status}${a.signedOut ? ' (signed out)' : ''} in ${Math.round(a.ms)} ms` : 'none')
  const refusedOk = [...idp.staleRefused, ...idp.staleHanging].every(signInPage)
  return [
    {
      area,
      check: 'signed-in people whose token is still good keep working',
      pass: idp.freshDuringOutage.every((a) => a.status === 200 && !a.signedOut),
      detail: idp.freshDuringOutage.map(describe).join(', '),
    },
    {
      area,
      check: 'a token that needs refreshing: 503 "Sign-in is unavailable" page + Retry-After (provider refusing, then hanging); not signed out',
      pass: refusedOk && idp.staleRefused.length > 0 && idp.staleHanging.length > 0,
      detail: `refusing: ${idp.staleRefused.map(describe).join(', ')}; hanging: ${idp.staleHanging.map(describe).join(', ')}`,
    },
    {
      area,
      check: 'provider back: the same session works again (refreshed), nobody was signed out',
      pass: idp.staleAfter?.status === 200 && idp.staleCookieRenewed && idp.freshAfter?.status === 200,
      detail: `needing refresh: ${describe(idp.staleAfter)}${idp.staleCookieRenewed ? ', cookie renewed' : ', cookie NOT renewed'}; fresh: ${describe(idp.freshAfter)}`,
    },
    {
      area,
      check: 'someone starting to sign in meanwhile: no 500',
      pass: idp.signInDuringOutage !== null && idp.signInDuringOutage.status !== 0 && idp.signInDuringOutage.status !== 500,
      detail: `POST /auth/microsoft: ${describe(idp.signInDuringOutage)}${idp.signInDuringOutage?.status === 302 ? ' (to the provider: discovery is cached)' : ''}`,
    },
  ]
}

function overallChecks(answers: Answer[], sameApp: boolean): Check[] {
  const errors = answers.filter((a) => a.status >= 500 && a.status !== 503)
  const hangs = answers.filter((a) => a.status === 0)
  return [
    {
      area: 'whole run',
      check: 'never a 500, never a request left without an answer',
      pass: errors.length === 0 && hangs.length === 0,
      detail:
        `${answers.length} requests: ${errors.length} × 5xx other than 503, ${hangs.length} unanswered` +
        (errors[0] ? `; first: ${errors[0].method} ${errors[0].path} ${errors[0].status} during "${errors[0].phase}"` : ''),
    },
    {
      area: 'whole run',
      check: 'the app server was never restarted',
      pass: sameApp,
      detail: sameApp ? 'one workerd process throughout' : 'the app process exited',
    },
  ]
}

await runBench('faults', main, say)
process.exit(process.exitCode ?? 0)
