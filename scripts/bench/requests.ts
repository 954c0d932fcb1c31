/**
 * Who the load signs in as (the real OIDC flow through the app, and API tokens from the provider)
 * and what each page's requests carry: the deep queue cursor (checked against the app's own Next
 * link), referral ids, submissions. Pages that do not answer as expected stop the bench here.
 */
import { CLI_CLIENT_ID, CLI_REDIRECT_URI, getTokensFor } from '../lib/idp-login'
import { fakeReferralValues } from '../../tests/factories/patients'
import { createRandom } from '../../tests/factories/random'
import type { FormValues } from '../../app/referrals/form-data.server'
import type { PageKind } from './baseline'
import type { RequestSpec } from './load'
import type { PgClient } from './pg'
import { PAGE_LABELS } from './report'
import { bigClinicAccounts, type SeedResult } from './seed'
import { signInThroughApp } from './sign-in'

type Say = (line: string) => void
export type SignedIn = { cookie: string; userId: string; email: string }
export type Users = Awaited<ReturnType<typeof signIn>>
export type PageSpec = { expect: number; users: number; next: (i: number) => RequestSpec }
export type Requests = Awaited<ReturnType<typeof prepareRequests>>

const PAGES: PageKind[] = ['queue', 'queue-deep', 'detail', 'submit', 'api-list', 'turnaround']
const DEEP_PAGES = 500
const OPEN = `status in ('received','in_review','info_requested','accepted','scheduled')`

/** The big clinic's staff and referrers signed in through /auth/microsoft, and an API token for each staff member. */
export async function signIn(o: { appOrigin: string; issuer: string; seeded: SeedResult; say: Say }) {
  const staff: SignedIn[] = []
  const referrers: SignedIn[] = []
  for (const user of [...o.seeded.staff, ...o.seeded.referrers]) {
    const cookie = await signInThroughApp({ appOrigin: o.appOrigin, email: user.email, redirectTo: user.role === 'staff' ? '/queue' : '/referrals/new' })
    ;(user.role === 'staff' ? staff : referrers).push({ cookie, userId: user.id, email: user.email })
  }
  const tokens: string[] = []
  for (const user of o.seeded.staff) {
    const set = await getTokensFor({ issuer: o.issuer, email: user.email, clientId: CLI_CLIENT_ID, redirectUri: CLI_REDIRECT_URI })
    tokens.push(set.access_token)
  }
  const firstStaff = staff[0]!
  const firstAccount = bigClinicAccounts().find((a) => a.email === firstStaff.email)!
  o.say(`signed in ${staff.length} staff and ${referrers.length} referrers of the big clinic through /auth/microsoft; ${tokens.length} API tokens`)
  return { staff, referrers, tokens, firstStaff, firstAccount }
}

/** Every page's requests, each page checked once; the API list only if it answers. */
export async function prepareRequests(o: { appOrigin: string; admin: PgClient; seeded: SeedResult; users: Users; say: Say }) {
  const { appOrigin, admin, say } = o
  const { staff, referrers, tokens, firstStaff } = o.users
  const clinicId = o.seeded.bigClinic.id
  const open = await admin.query<{ n: string }>(`select count(*) as n from referrals where clinic_id = $1 and ${OPEN}`, [clinicId])
  const openCount = Number(open.rows[0]!.n)
  const depth = Math.max(1, Math.min(DEEP_PAGES, Math.floor(openCount / 25) - 1))
  const cursorAfter = async (pages: number) => {
    const row = await admin.query<{ r: number; t: string; id: string }>(
      `select (case priority when 'emergent' then 0 when 'urgent' then 1 else 2 end) as r, received_at::text as t, id from referrals
        where clinic_id = $1 and ${OPEN}
        order by received_at desc, id desc offset $2 limit 1`,
      [clinicId, pages * 25 - 1],
    )
    const c = row.rows[0]!
    return Buffer.from(JSON.stringify({ r: Number(c.r), t: c.t, id: c.id }))
      .toString('base64')
      .replace(/\+/g, '-')
      .replace(/\//g, '_')
      .replace(/=+$/, '')
  }
  // The computed cursor must be the one the queue's own Next link carries.
  const firstPage = await getPage(appOrigin, '/queue', firstStaff.cookie)
  const nextLink = /href="\/queue\?cursor=([^"&]+)"/.exec(firstPage)?.[1]
  const expected = await cursorAfter(1)
  if (nextLink !== expected) throw new Error(`the queue's Next link (${nextLink}) is not the cursor computed from the database (${expected})`)
  const deepCursor = await cursorAfter(depth)
  const deepPage = await getPage(appOrigin, `/queue?cursor=${deepCursor}`, firstStaff.cookie)
  const deepRows = (deepPage.match(/data-testid="queue-row"/g) ?? []).length
  if (deepRows !== 25) throw new Error(`the page ${depth} deep shows ${deepRows} rows, not 25`)
  say(`deep page: ${depth} pages deep (${openCount.toLocaleString('en')} open referrals); cursor checked against the app's Next link`)
  const ids = (await admin.query<{ id: string }>(`select id from referrals where clinic_id = $1 order by random() limit 500`, [clinicId])).rows.map((r) => r.id)
  const random = createRandom(8)
  const submissions: FormValues[] = Array.from({ length: 500 }, () =>
    fakeReferralValues(random, {
      clinicSlug: o.seeded.bigClinic.template,
      services: o.seeded.bigClinic.services,
      clinician: { name: 'Dr. Amara Okafor', practice: 'Maple Family Health Team' },
    }),
  )
  // Multipart, as the page's form (it takes attachments) makes the browser send it; no file attached.
  const boundary = '----IntakePilotBench7MA4YWxkTrZu0gW'
  const part = (name: string, value: string) => `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`
  const formBodies = submissions.map((values) => {
    let body = part('idempotencyKey', '__KEY__') + part('formVersion', '1')
    for (const [k, v] of Object.entries(values))
      if (v === true) body += part(k, 'on')
      else if (v !== false && v !== null && v !== '') body += part(k, String(v))
    return `${body}--${boundary}--\r\n`
  })
  const html = { accept: 'text/html', 'user-agent': 'IntakePilot-bench' }
  const specs: Record<PageKind, PageSpec> = {
    queue: { expect: 200, users: staff.length, next: (i) => ({ path: '/queue', headers: { ...html, cookie: staff[i % staff.length]!.cookie } }) },
    'queue-deep': {
      expect: 200,
      users: staff.length,
      next: (i) => ({ path: `/queue?cursor=${deepCursor}`, headers: { ...html, cookie: staff[i % staff.length]!.cookie } }),
    },
    detail: {
      expect: 200,
      users: staff.length,
      next: (i) => ({ path: `/referrals/${ids[i % ids.length]}`, headers: { ...html, cookie: staff[i % staff.length]!.cookie } }),
    },
    submit: {
      expect: 302,
      users: referrers.length,
      next: (i) => ({
        method: 'POST',
        path: '/referrals/new',
        headers: { ...html, cookie: referrers[i % referrers.length]!.cookie, 'content-type': `multipart/form-data; boundary=${boundary}`, origin: appOrigin },
        body: formBodies[i % formBodies.length]!.replace('__KEY__', crypto.randomUUID()),
      }),
    },
    turnaround: { expect: 200, users: staff.length, next: (i) => ({ path: '/turnaround', headers: { ...html, cookie: staff[i % staff.length]!.cookie } }) },
    'api-list': {
      expect: 200,
      users: tokens.length,
      next: (i) => ({
        path: '/api/v1/referrals',
        headers: { accept: 'application/json', 'user-agent': 'IntakePilot-bench', authorization: `Bearer ${tokens[i % tokens.length]}` },
      }),
    },
  }
  // The API route is being written as this runs: bench it only if it is there and answers.
  const apiProbe = await fetchSpec(appOrigin, specs['api-list'].next(0))
  const pages = PAGES.filter((p) => p !== 'api-list' || apiProbe.status === 200)
  if (!pages.includes('api-list')) say(`GET /api/v1/referrals answered ${apiProbe.status}: the API list is left out`)
  for (const p of pages) {
    const r = await fetchSpec(appOrigin, specs[p].next(1))
    if (r.status !== specs[p].expect) throw new Error(`${PAGE_LABELS[p]}: expected ${specs[p].expect}, got ${r.status}: ${r.body.slice(0, 300)}`)
  }
  return { clinicId, openCount, depth, deepCursor, ids, submissions, specs, pages, apiStatus: apiProbe.status, firstPage }
}

export async function getPage(origin: string, path: string, cookie: string) {
  const response = await fetch(`${origin}${path}`, { headers: { cookie, accept: 'text/html' }, redirect: 'manual' })
  const text = await response.text()
  if (response.status !== 200) throw new Error(`GET ${path} answered ${response.status}: ${text.slice(0, 300)}`)
  return text
}

export async function fetchSpec(origin: string, spec: RequestSpec) {
  const response = await fetch(`${origin}${spec.path}`, { method: spec.method ?? 'GET', headers: spec.headers, body: spec.body, redirect: 'manual' })
  return { status: response.status, body: await response.text() }
}
