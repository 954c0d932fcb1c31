/**
 * Property-based fuzzing (fast-check) of every page action, loader and API route, against the
 * built app in real workerd with the throwaway database. For each endpoint, FUZZ_RUNS requests
 * (default 16), each a request the endpoint accepts with one thing made hostile: the body's
 * content type and shape, a field's value or name (array indexes up to 1e9, NUL bytes, extreme
 * numbers and dates), the cookies or token, the method, a foreign Origin, a redirect target.
 *
 * Whatever is sent: no 5xx, no answer over 256 KB, no stack trace or source path, no redirect
 * to another site, the API's JSON error shape, and a refused request changes none of the
 * guarded tables (audit rows aside: refusals are recorded). Values that are wrong for certain
 * (a NUL byte in stored text, 1961-02-31, 2^31 as a version, a cross-site POST) must be refused.
 *
 * FUZZ_SEED (default 42) fixes the inputs: CI always sends the same ones. Longer local runs:
 * `FUZZ_RUNS=200 FUZZ_SEED=$RANDOM npx playwright test --project=fuzz --no-deps`, and
 * FUZZ_ONLY=/queue for the endpoints whose name contains it.
 */
import { readdirSync } from 'node:fs'
import { randomUUID } from 'node:crypto'
import fc from 'fast-check'
import { sql } from 'drizzle-orm'
import { PROMPT_VERSION } from '../../app/ai/prompts'
import { APP_URL, expect, SESSION_COOKIE, test, type Owner } from './fixtures'
import { bodyAttackArb, queryAttackArb, type Attack } from './fuzz-cases'
import { buildCase, type Case, type Endpoint, type Role } from './fuzz-requests'
import { COVERED_BY_OTHERS, endpoints, referralFields, type World } from './fuzz-routes'
import { changedTables, fingerprint, Identity, problemsOf, refused, resetRateLimits, send } from './fuzz-support'

const SEED = Number(process.env.FUZZ_SEED ?? 42)
const RUNS = Number(process.env.FUZZ_RUNS ?? 16)
const ONLY = process.env.FUZZ_ONLY
/** Prints each endpoint's answers (status counts, largest size): what the fuzzer reached. */
const VERBOSE = Boolean(process.env.FUZZ_VERBOSE)

const ACCOUNTS: Record<Exclude<Role, 'anonymous'>, string> = {
  staff: 'staff@northside.test',
  admin: 'admin@lakeview.test',
  referrer: 'referrer@northside.test',
  superadmin: 'superadmin@intakepilot.test',
}

const identities = new Map<string, Identity>()
const identity = (role: Role, account?: string) => {
  if (role === 'anonymous') return null
  const email = account ?? ACCOUNTS[role]
  if (!identities.has(email)) identities.set(email, new Identity(role, email))
  return identities.get(email)!
}

let world: World | undefined
/** The fuzzer's own referral (and a summary on it), made once per worker through the app itself. */
async function setUp(owner: Owner): Promise<World> {
  if (world) return world
  const id = async (q: ReturnType<typeof sql>) => (await owner.execute<{ id: string }>(q)).rows[0]!.id
  const partial = {
    db: owner,
    staffId: await id(sql`select id from users where email = 'staff@northside.test'`),
    spareUserId: await id(sql`select id from users where email = 'disabled@lakeview.test'`),
    northsideId: await id(sql`select id from clinics where slug = 'northside'`),
    lakeviewId: await id(sql`select id from clinics where slug = 'lakeview'`),
  }
  const referrer = identity('referrer')!
  const { version, fields } = await referralFields({ ...partial, referralId: '', apiReferralId: '', summaryEntryId: '', documentId: '' })
  const data = Object.fromEntries(fields.map(([k, v]) => [k, v === 'on' ? true : v]))
  const create = async () => {
    const created = await fetch(`${APP_URL}/api/v1/referrals`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${await referrer.bearer()}`, 'Content-Type': 'application/json', 'Idempotency-Key': randomUUID() },
      body: JSON.stringify({ formVersion: version, data }),
    })
    expect(created.status, await created.clone().text()).toBe(201)
    return (await created.json<{ data: { id: string } }>()).data.id
  }
  const [referralId, apiReferralId] = [await create(), await create()]

  const staff = identity('staff')!
  const saved = await fetch(`${APP_URL}/referrals/${referralId}/summaries`, {
    method: 'POST',
    headers: {
      Cookie: `${SESSION_COOKIE}=${await staff.cookie()}`,
      'Content-Type': 'application/x-www-form-urlencoded',
      Origin: APP_URL,
      'Sec-Fetch-Site': 'same-origin',
    },
    body: new URLSearchParams({ intent: 'save', model: 'fuzz-model', promptVersion: PROMPT_VERSION, summary: 'S', triage: 'T', missing: 'M' }).toString(),
    redirect: 'manual',
  })
  staff.update(saved)
  expect(saved.status, await saved.clone().text()).toBe(200)
  // Opened once by staff (the first opening sets first_opened_at): later readings write nothing.
  for (const id of [referralId, apiReferralId]) {
    const opened = await fetch(`${APP_URL}/referrals/${id}`, { headers: { Cookie: `${SESSION_COOKIE}=${await staff.cookie()}` }, redirect: 'manual' })
    staff.update(opened)
    expect(opened.status).toBe(200)
  }
  const summaryEntryId = (
    await owner.execute<{ id: string }>(sql`select summaries->'entries'->0->>'id' as id from processing_results where referral_id = ${referralId}`)
  ).rows[0]!.id
  // A document on the fuzzed referral, attached by staff over the API (multipart).
  const upload = new FormData()
  upload.append('documents', new File(['%PDF-1.4\n%%EOF\n'], 'fuzz.pdf'))
  const attached = await fetch(`${APP_URL}/api/v1/referrals/${referralId}/documents`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${await staff.bearer()}` },
    body: upload,
  })
  expect(attached.status, await attached.clone().text()).toBe(201)
  const documentId = (await owner.execute<{ id: string }>(sql`select id from referral_documents where referral_id = ${referralId} limit 1`)).rows[0]!.id
  world = { ...partial, referralId, apiReferralId, summaryEntryId, documentId }
  return world
}

/** A short name for the kind of attack, so one failure found many times is listed once. */
function family(attack: Attack, c: Case) {
  switch (attack.t) {
    case 'shape':
      return `body ${attack.shape}`
    case 'cookie':
      return `cookie ${attack.cookie.t}${attack.cookie.t === 'extra' ? ` ${attack.cookie.name}` : ''}`
    case 'method':
      return `method ${attack.method}`
    case 'origin':
      return 'cross-site'
    case 'valid':
      return 'valid'
    default:
      return `${attack.t} ${c.label.split(/[=[ ]/)[attack.t === 'remove' || attack.t === 'index' ? 1 : 0] ?? ''}`
  }
}

const hash = (s: string) => [...s].reduce((h, ch) => (Math.imul(h, 31) + ch.charCodeAt(0)) | 0, 0)
// For the endpoints' names and files only: nothing is sent, nor read from the database.
const PLACEHOLDER_WORLD = {
  db: {} as Owner,
  referralId: ':id',
  apiReferralId: ':id',
  summaryEntryId: '',
  documentId: ':documentId',
  staffId: '',
  spareUserId: '',
  northsideId: '',
  lakeviewId: '',
}
const ENDPOINTS = endpoints(PLACEHOLDER_WORLD)

test('every route module in app/routes is fuzzed', () => {
  const files = readdirSync('app/routes').sort()
  const covered = new Set([...ENDPOINTS.map((e) => e.file), ...Object.keys(COVERED_BY_OTHERS)])
  expect(
    files.filter((f) => !covered.has(f)),
    'route modules with no entry in tests/e2e/fuzz-routes.ts',
  ).toEqual([])
  expect([...covered].filter((f) => !files.includes(f)).sort(), 'fuzz entries for route modules that are gone').toEqual([])
})

for (const { name } of ENDPOINTS.filter((e) => !ONLY || e.name.includes(ONLY))) {
  test(`fuzz ${name}`, async ({ owner }) => {
    test.setTimeout(60_000 + RUNS * 3_000)
    const e = endpoints(await setUp(owner)).find((x) => x.name === name)! as Endpoint
    const who = identity(e.role, e.account)
    const found = new Map<string, { example: string; times: number }>()
    const note = (key: string, example: string) => {
      const seen = found.get(key)
      if (seen) seen.times++
      else found.set(key, { example, times: 1 })
    }
    // The request every attack starts from must itself be accepted, or the fuzzer never gets past the first check.
    if (who) await (e.api ? who.bearer() : who.cookie())
    const good = buildCase(e, await e.base(), { t: 'valid' }, false)
    const accepted = await send(good, who, Boolean(e.api))
    expect(
      'status' in accepted && accepted.status < 400,
      `${good.method} ${good.path} as sent by the page: ${'status' in accepted ? `${accepted.status} ${accepted.text.slice(0, 300)}` : accepted.unsendable}`,
    ).toBe(true)
    const statuses = new Map<number, number>()
    let largest = 0
    const arb = fc.tuple(e.method === 'GET' ? queryAttackArb : bodyAttackArb, fc.integer({ min: 0, max: 4 }))
    await fc.assert(
      fc.asyncProperty(arb, async ([attack, n]) => {
        await resetRateLimits(owner)
        const c = buildCase(e, await e.base(), attack, Boolean(e.page) && n === 0)
        // Sign in (or get a token) before looking at the tables: signing in writes.
        if (who && c.credentials !== 'none') await (e.api ? who.bearer() : who.cookie())
        const before = await fingerprint(owner)
        const shown = `${c.method} ${c.path.length > 160 ? `${c.path.slice(0, 160)}…` : c.path} [${c.label}]`
        let answer
        try {
          answer = await send(c, who, Boolean(e.api))
        } catch (error) {
          note(`no answer (${String(error).slice(0, 80)}) · ${family(attack, c)}`, shown)
          return true
        }
        if ('unsendable' in answer) return true
        statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1)
        if (!answer.cut) largest = Math.max(largest, answer.bytes)
        const problems = problemsOf(c, answer, { api: Boolean(e.api), fhir: Boolean(e.fhir), download: Boolean(e.download) })
        const writes = changedTables(before, await fingerprint(owner))
        const reading = c.method === 'GET' || c.method === 'HEAD'
        if (writes.length && (reading || refused(answer)))
          problems.push(`changed ${writes.join(', ')} though it ${reading ? 'only read' : `was refused (${answer.status})`}`)
        for (const problem of problems) note(`${problem.replace(/\d{3}\)/, (m) => m)} · ${family(attack, c)}`, `${shown} -> ${answer.status}`)
        return true
      }),
      { seed: SEED + hash(name), numRuns: RUNS },
    )
    if (VERBOSE) console.log(`${name}: ${JSON.stringify(Object.fromEntries(statuses))}, largest answer ${Math.round(largest / 1024)} KB`)
    const report = [...found].map(([key, { example, times }]) => `${key} (×${times}), e.g. ${example}`)
    expect(report, `${name}: what the fuzzer found (FUZZ_SEED=${SEED}, FUZZ_RUNS=${RUNS})`).toEqual([])
  })
}
