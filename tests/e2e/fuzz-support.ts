/**
 * The fuzzer's client and judge: signed-in identities (a real sign-in through the local
 * provider, or its access tokens for /api), one request sent with its answer read up to a
 * bound, what the database looked like before and after, and what must hold of every answer.
 */
import { Buffer } from 'node:buffer'
import { sql } from 'drizzle-orm'
import { APP_URL, IDP_URL, LEAKS, PASSWORD, SESSION_COOKIE, token, type Owner } from './fixtures'
import type { CookieAttack } from './fuzz-cases'
import type { Case, Role } from './fuzz-requests'

/** Larger than any real page of the app (the biggest, the intake form editor, is ~150 KB). */
export const MAX_ANSWER_BYTES = 256 * 1024
const ALLOWED_ORIGINS = new Set([new URL(APP_URL).origin, new URL(IDP_URL).origin])

/** A stack frame, a source path or a module path: what no answer may carry. */
const STACK = /^\s+at \S+ \(|^\s+at [^\s()]+:\d+:\d+|\bat async \S|node_modules|\/work\/|file:\/\/\/|\.tsx?:\d+:\d+|\.server\.[jt]s/m

class Jar {
  private cookies = new Map<string, string>()
  header = () => [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ')
  get = (name: string) => this.cookies.get(name)
  store(response: Response) {
    for (const line of response.headers.getSetCookie()) {
      const [pair = ''] = line.split(';')
      const name = pair.slice(0, pair.indexOf('=')).trim()
      const value = pair.slice(pair.indexOf('=') + 1)
      if (!value || /max-age=0/i.test(line)) this.cookies.delete(name)
      else this.cookies.set(name, value)
    }
  }
  async fetch(url: URL, init: RequestInit = {}) {
    const response = await fetch(url, { ...init, headers: { ...(init.headers as Record<string, string>), cookie: this.header() }, redirect: 'manual' })
    this.store(response)
    return response
  }
}

/** The whole browser sign-in, without a browser: our sign-in form, the provider's page, the callback. */
async function webSignIn(email: string): Promise<string> {
  const app = new Jar()
  const idp = new Jar()
  const form = { 'content-type': 'application/x-www-form-urlencoded', origin: APP_URL, 'sec-fetch-site': 'same-origin' }
  let response = await app.fetch(new URL('/auth/microsoft', APP_URL), { method: 'POST', headers: form, body: 'redirectTo=%2F' })
  let url = new URL(response.headers.get('location') ?? '/', APP_URL)
  let submitted = false
  for (let hop = 0; hop < 20; hop++) {
    const ours = url.origin === new URL(APP_URL).origin
    if (ours && url.pathname === '/auth/callback') {
      await app.fetch(url)
      const session = app.get(SESSION_COOKIE)
      if (!session) throw new Error(`Signing in as ${email} set no session cookie`)
      return session
    }
    response = await (ours ? app : idp).fetch(url)
    const location = response.headers.get('location')
    if (response.status >= 300 && response.status < 400 && location) url = new URL(location, url)
    else if (response.status === 200 && !submitted && url.pathname.includes('/interaction/')) {
      submitted = true
      response = await idp.fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ login: email, password: PASSWORD }).toString(),
      })
      url = new URL(response.headers.get('location') ?? url.href, url)
    } else throw new Error(`Signing in as ${email} stopped at ${url.pathname} (${response.status})`)
  }
  throw new Error(`Signing in as ${email} did not end`)
}

/** One demo account, signed in for pages (a session cookie) and for the API (an access token). */
export class Identity {
  private session: string | undefined
  private access: { value: string; at: number } | undefined
  signIns = 0
  constructor(
    readonly role: Role,
    readonly email: string,
  ) {}
  async cookie() {
    if (!this.session) {
      this.session = await webSignIn(this.email)
      this.signIns++
    }
    return this.session
  }
  /** Tokens live 20 s here (+60 s skew): a fresh one well before that. */
  async bearer() {
    if (!this.access || Date.now() - this.access.at > 30_000) this.access = { value: await token(this.email), at: Date.now() }
    return this.access.value
  }
  /** A refreshed session (the pipeline rotates it), or one that ended. */
  update(response: Response) {
    for (const line of response.headers.getSetCookie()) {
      if (!line.startsWith(`${SESSION_COOKIE}=`)) continue
      const value = line.slice(SESSION_COOKIE.length + 1).split(';')[0]!
      this.session = value && !/max-age=0/i.test(line) ? value : undefined
    }
  }
  get signedIn() {
    return this.session !== undefined
  }
}

const flip = (s: string, at: number) => {
  const i = at % Math.max(s.length, 1)
  return `${s.slice(0, i)}${s[i] === 'A' ? 'B' : 'A'}${s.slice(i + 1)}`
}
/** What the attack makes of a real credential (a session cookie or a bearer token). */
function spoiled(attack: CookieAttack, real: string, api: boolean): Record<string, string> {
  const wrap = (v: string): Record<string, string> => (api ? { Authorization: `Bearer ${v}` } : { Cookie: `${SESSION_COOKIE}=${v}` })
  switch (attack.t) {
    case 'truncated':
      return wrap(real.slice(0, attack.keep % Math.max(real.length, 1)))
    case 'flipped':
      return wrap(flip(real, attack.at))
    case 'empty':
      return wrap('')
    case 'twice':
      return api
        ? { Authorization: `Bearer ${real.slice(0, 12)}, Bearer ${real}` }
        : { Cookie: `${SESSION_COOKIE}=${real.slice(0, 12)}; ${SESSION_COOKIE}=${real}` }
    case 'huge':
      return wrap(`${real}${'A'.repeat(8_000)}`)
    case 'garbage':
      return api ? { Authorization: attack.header } : { Cookie: attack.header }
    default:
      return {}
  }
}

export type Answer = { status: number; headers: Headers; text: string; bytes: number; cut: boolean }

/** Sends one case as `who`; reads at most MAX_ANSWER_BYTES of the answer (a longer one is cut). */
export async function send(c: Case, who: Identity | null, api: boolean): Promise<Answer | { unsendable: string }> {
  const headers: Record<string, string> = { ...c.headers }
  const cookies: string[] = []
  if (who && c.credentials === 'valid') {
    if (api) headers.Authorization = `Bearer ${await who.bearer()}`
    else cookies.push(`${SESSION_COOKIE}=${await who.cookie()}`)
  }
  if (who && c.credentials === 'replaced' && c.cookieAttack) {
    const made = spoiled(c.cookieAttack, api ? await who.bearer() : await who.cookie(), api)
    if (made.Authorization !== undefined) headers.Authorization = made.Authorization
    if (made.Cookie !== undefined) cookies.push(made.Cookie)
  }
  if (c.extraCookie) cookies.push(c.extraCookie)
  if (cookies.length) headers.Cookie = cookies.join('; ')
  const init: RequestInit = { method: c.method, headers, body: c.body as BodyInit | undefined, redirect: 'manual' }
  try {
    new Request(new URL(c.path, APP_URL), init)
  } catch (error) {
    return { unsendable: String(error) }
  }
  const response = await fetch(new URL(c.path, APP_URL), { ...init, signal: AbortSignal.timeout(60_000) })
  if (who && !api && c.credentials === 'valid') who.update(response)
  const chunks: Buffer[] = []
  let bytes = 0
  let cut = false
  if (response.body) {
    const reader = response.body.getReader()
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      bytes += value.byteLength
      chunks.push(Buffer.from(value))
      if (bytes > MAX_ANSWER_BYTES) {
        cut = true
        await reader.cancel()
        break
      }
    }
  }
  return { status: response.status, headers: response.headers, text: Buffer.concat(chunks).toString('utf8'), bytes, cut }
}

/** Where an answer sends the browser: its Location, or a single-fetch redirect (202, in the turbo-stream body). */
export function redirectTarget(a: Answer): string | null {
  if (a.status >= 300 && a.status < 400) return a.headers.get('location')
  if (a.status !== 202) return null
  const quoted = /"redirect","((?:[^"\\]|\\.)*)"/.exec(a.text)?.[1]
  return quoted === undefined ? null : (JSON.parse(`"${quoted}"`) as string)
}

/** A refusal: a 4xx, or (for a page) being sent to sign in. */
export function refused(a: Answer) {
  if (a.status >= 400 && a.status < 500) return true
  const target = redirectTarget(a)
  return target !== null && /^\/login\b/.test(new URL(target, APP_URL).pathname)
}

/** What is wrong with an answer, whatever the request was. */
export function problemsOf(c: Case, a: Answer, options: { api: boolean; fhir?: boolean; download: boolean }): string[] {
  const problems: string[] = []
  // URL or headers too long: refused by the runtime (the edge, in production) before the app runs.
  const byRuntime = a.status === 414 || a.status === 431
  if (a.status >= 500) problems.push(`answered ${a.status}`)
  if (a.cut && !(options.download && a.status === 200)) problems.push(`answered more than ${MAX_ANSWER_BYTES / 1024} KB`)
  if (STACK.test(a.text)) problems.push(`a stack trace or source path in the body: ${JSON.stringify(STACK.exec(a.text)![0])}`)
  if (options.api && a.status >= 400 && !byRuntime && LEAKS.test(a.text))
    problems.push(`an internal error in the JSON: ${JSON.stringify(LEAKS.exec(a.text)![0])}`)
  const location = redirectTarget(a) ?? a.headers.get('location')
  if (location !== null) {
    const target = new URL(location, new URL(c.path, APP_URL))
    if (!ALLOWED_ORIGINS.has(target.origin)) problems.push(`redirects to another site: ${JSON.stringify(location)} -> ${target.origin}`)
  }
  if (options.api && a.status >= 400 && !byRuntime && c.method !== 'HEAD') {
    let body: Record<string, unknown> | null = null
    try {
      body = JSON.parse(a.text) as Record<string, unknown>
    } catch {
      body = null
    }
    if (options.fhir) {
      // /fhir/R4 (docs/decisions/046-fhir-r4-read-and-search.md): an OperationOutcome with at least one issue.
      if (!body || body.resourceType !== 'OperationOutcome' || !Array.isArray(body.issue) || body.issue.length === 0)
        problems.push(`a ${a.status} that is not an OperationOutcome`)
    } else if (!body || typeof body.error !== 'string' || typeof body.code !== 'string' || !('details' in body))
      problems.push(`a ${a.status} that is not the API's { error, details, code }`)
  }
  if (c.refuse && a.status < 400 && !refused(a)) problems.push(`accepted (${a.status}) though ${c.refuse}`)
  return problems
}

/** The tables a refused request must leave alone (audit rows excepted: refusals are recorded). */
export const GUARDED_TABLES = ['referrals', 'referral_events', 'users', 'intake_forms', 'processing_results', 'clinics'] as const

/** Row count and newest row version (xmin) of each guarded table: any insert, update or delete changes it. */
export async function fingerprint(db: Owner): Promise<Record<string, string>> {
  const columns = GUARDED_TABLES.map((t) => `(select count(*) || '/' || coalesce(max(xmin::text::bigint), 0) from ${t}) as ${t}`).join(', ')
  const result = await db.execute<Record<string, string>>(sql.raw(`select ${columns}`))
  return result.rows[0]!
}
export const changedTables = (before: Record<string, string>, after: Record<string, string>) => GUARDED_TABLES.filter((t) => before[t] !== after[t])

/** The fuzzer sends far more than 100 requests a minute per user: it alone runs now (fuzz project), so it starts each minute afresh. */
export const resetRateLimits = (db: Owner) => db.execute(sql`delete from rate_limits`)
