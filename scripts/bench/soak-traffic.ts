/**
 * The soak's traffic: a closed loop of `connections` workers, each sending the next request of a
 * weighted mix of what a clinic's day looks like (the queue, referral pages, submissions, the
 * API, sign-in and sign-out, and hostile or mistaken requests), each checked against the status
 * it must get. Any other status (above all a 5xx) is counted as unexpected.
 */
import { signInThroughApp } from './sign-in'

export type Session = { cookie: string; email: string }
export type TrafficInputs = {
  origin: string
  /** Where sign-in starts (the provider sends the browser back to the app's configured origin). */
  signInOrigin: string
  staff: Session[]
  referrers: Session[]
  /** Signed in and out again, over and over (its own account: signing out ends only its session). */
  signInOutEmail: string | null
  /** API access tokens of staff (list, detail) and of referrers (who may POST a referral). */
  tokens: string[]
  referrerTokens: string[]
  referralIds: string[]
  /** Form bodies for POST /referrals/new, with __KEY__ where the idempotency key goes. */
  formBodies: string[]
}

type Step = { kind: string; expect: number[]; run: (i: number) => Promise<number> }

export const MIXES: Record<string, Record<string, number>> = {
  // What the finding measured: plain page traffic of signed-in staff.
  pages: { queue: 1, referral: 1 },
  all: {
    queue: 22,
    referral: 22,
    'referral-data': 4,
    submit: 8,
    'api-list': 10,
    'api-detail': 12,
    'sign-in-out': 1,
    'bad-cursor': 3,
    'bad-id': 3,
    'bad-api-json': 3,
    'no-token': 3,
    'bad-token': 3,
    'not-found': 3,
    'anonymous-page': 3,
  },
}

export function trafficSteps(input: TrafficInputs, mixName: string): Step[] {
  const { origin } = input
  const html = { accept: 'text/html', 'user-agent': 'IntakePilot-soak' }
  const json = { accept: 'application/json', 'user-agent': 'IntakePilot-soak' }
  const pick = <T>(list: T[], i: number) => list[i % list.length]!
  const status = async (path: string, init: RequestInit = {}) => {
    const response = await fetch(`${origin}${path}`, { redirect: 'manual', ...init })
    await response.arrayBuffer()
    return response.status
  }
  const staffPage = (path: (i: number) => string) => (i: number) => status(path(i), { headers: { ...html, cookie: pick(input.staff, i).cookie } })
  const steps: Record<string, Omit<Step, 'kind'>> = {
    queue: { expect: [200], run: staffPage(() => '/queue') },
    referral: { expect: [200], run: staffPage((i) => `/referrals/${pick(input.referralIds, i)}`) },
    // The same page fetched by the client-side router (single fetch).
    'referral-data': { expect: [200], run: staffPage((i) => `/referrals/${pick(input.referralIds, i)}.data`) },
    submit: {
      expect: [302],
      run: (i) =>
        status('/referrals/new', {
          method: 'POST',
          headers: { ...html, origin, cookie: pick(input.referrers, i).cookie, 'content-type': 'application/x-www-form-urlencoded' },
          body: pick(input.formBodies, i).replace('__KEY__', crypto.randomUUID()),
        }),
    },
    'api-list': { expect: [200], run: (i) => status('/api/v1/referrals', { headers: { ...json, authorization: `Bearer ${pick(input.tokens, i)}` } }) },
    'api-detail': {
      expect: [200],
      run: (i) => status(`/api/v1/referrals/${pick(input.referralIds, i)}`, { headers: { ...json, authorization: `Bearer ${pick(input.tokens, i)}` } }),
    },
    'sign-in-out': {
      expect: [302, 303],
      run: async () => {
        if (!input.signInOutEmail) return 302
        const cookie = await signInThroughApp({ appOrigin: input.signInOrigin, email: input.signInOutEmail, redirectTo: '/queue' })
        const page = await status('/queue', { headers: { ...html, cookie } })
        if (page !== 200) return page
        return status('/logout', { method: 'POST', headers: { ...html, origin, cookie, 'content-type': 'application/x-www-form-urlencoded' }, body: '' })
      },
    },
    'bad-cursor': { expect: [200, 400], run: staffPage(() => '/queue?cursor=%00not-a-cursor') },
    'bad-id': { expect: [400, 404], run: staffPage(() => '/referrals/not-a-uuid') },
    'bad-api-json': {
      expect: [400, 415, 422],
      run: (i) =>
        status('/api/v1/referrals', {
          method: 'POST',
          headers: {
            ...json,
            'content-type': 'application/json',
            'idempotency-key': crypto.randomUUID(),
            authorization: `Bearer ${pick(input.referrerTokens, i)}`,
          },
          body: '{"formVersion": 1, "data": {',
        }),
    },
    'no-token': { expect: [401], run: () => status('/api/v1/referrals', { headers: json }) },
    'bad-token': { expect: [401], run: () => status('/api/v1/referrals', { headers: { ...json, authorization: 'Bearer eyJhbGciOiJIUzI1NiJ9.e30.x' } }) },
    'not-found': { expect: [404], run: staffPage(() => '/no-such-page') },
    'anonymous-page': { expect: [302], run: () => status('/queue', { headers: html }) },
  }
  const weights = MIXES[mixName]
  if (!weights) throw new Error(`unknown mix ${mixName} (${Object.keys(MIXES).join(', ')})`)
  // A fixed interleaving (no randomness): each kind appears `weight` times per round.
  const round: Step[] = []
  const max = Math.max(...Object.values(weights))
  for (let k = 0; k < max; k++) {
    for (const [kind, weight] of Object.entries(weights)) if (k < weight) round.push({ kind, ...steps[kind]! })
  }
  return round
}

export type Tally = {
  requests: number
  byKind: Record<string, Record<string, number>>
  unexpected: Record<string, number>
  errors: number
  firstError: string | null
}

/** Runs the mix with `connections` workers until `stop()` says so; `tally` is updated live. */
export async function runTraffic(options: { steps: Step[]; connections: number; stop: () => boolean; tally: Tally }) {
  const { steps, tally } = options
  let next = 0
  await Promise.all(
    Array.from({ length: options.connections }, async () => {
      while (!options.stop()) {
        const n = next++
        const step = steps[n % steps.length]!
        let code: string
        try {
          code = String(await step.run(Math.floor(n / steps.length)))
        } catch (error) {
          tally.errors++
          // fetch's own message is "fetch failed": the cause says which (refused, reset, timed out).
          const cause = error instanceof Error && error.cause instanceof Error ? ` (${(error.cause as NodeJS.ErrnoException).code ?? error.cause.message})` : ''
          tally.firstError ??= `${step.kind}: ${error instanceof Error ? error.message : String(error)}${cause}`
          code = 'error'
          await new Promise((r) => setTimeout(r, 100))
        }
        tally.requests++
        const byKind = (tally.byKind[step.kind] ??= {})
        byKind[code] = (byKind[code] ?? 0) + 1
        if (!step.expect.map(String).includes(code)) tally.unexpected[`${step.kind} ${code}`] = (tally.unexpected[`${step.kind} ${code}`] ?? 0) + 1
      }
    }),
  )
}

export function emptyTally(): Tally {
  return { requests: 0, byKind: {}, unexpected: {}, errors: 0, firstError: null }
}
