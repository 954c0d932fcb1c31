/**
 * The test's users: people with a session cookie (pages) and programs with a bearer token
 * (/api), each sending one request at a time at a pace under the rate limit. Every answer is
 * recorded with the phase it fell in, then judged: success, a clear 503, or a failure.
 */
export type Answer = {
  client: string
  phase: string
  method: string
  path: string
  /** ms since the run started */
  at: number
  ms: number
  /** 0: no answer (connection error, or nothing within the client's patience) */
  status: number
  retryAfter: string | null
  contentType: string
  location: string | null
  body: string
  /** The session cookie was cleared by this answer. */
  signedOut: boolean
}

export type Verdict = 'ok' | 'unavailable' | 'bad'

const LEAKS = /\bat [\w$.<>]+ \(|node_modules|ECONNREFUSED|NeonDbError|stack|TypeError|ReferenceError/i

/** What a user sees: success, or a 503 that says to come back (Retry-After, a page or the JSON error). */
export function judge(answer: Answer, deadlineMs: number): { verdict: Verdict; why?: string } {
  if (answer.status === 0) return { verdict: 'bad', why: `no answer after ${Math.round(answer.ms)} ms` }
  if (answer.signedOut) return { verdict: 'bad', why: `signed out (${answer.status})` }
  // A little over the deadline: the time for the answer to travel and the test's own scheduling.
  if (answer.ms > deadlineMs + 2500) return { verdict: 'bad', why: `${answer.status} after ${Math.round(answer.ms)} ms (deadline ${deadlineMs} ms)` }
  if (answer.status >= 200 && answer.status < 300) return { verdict: 'ok' }
  if (answer.status >= 300 && answer.status < 400) {
    if (answer.location && new URL(answer.location, 'http://app').pathname === '/login') return { verdict: 'bad', why: `sent to sign-in (${answer.location})` }
    return { verdict: 'ok' }
  }
  if (answer.status === 503) {
    if (!answer.retryAfter || !(Number(answer.retryAfter) > 0)) return { verdict: 'bad', why: '503 without Retry-After' }
    if (LEAKS.test(answer.body)) return { verdict: 'bad', why: '503 that shows internals' }
    if (answer.path.startsWith('/api/')) {
      const json = safeJson(answer.body)
      if (!answer.contentType.includes('application/json') || typeof json?.error !== 'string' || typeof json?.code !== 'string')
        return { verdict: 'bad', why: '503 without the JSON error shape' }
    } else if (!answer.contentType.includes('text/html') || !/<h1[^>]*>[^<]+/.test(answer.body)) {
      return { verdict: 'bad', why: '503 without a page that says what happened' }
    }
    return { verdict: 'unavailable' }
  }
  return { verdict: 'bad', why: `${answer.status}${answer.location ? ` -> ${answer.location}` : ''}` }
}

const safeJson = (text: string) => {
  try {
    return JSON.parse(text) as Record<string, unknown>
  } catch {
    return null
  }
}

export class Recorder {
  readonly answers: Answer[] = []
  phase = 'start'
  readonly t0 = performance.now()
  now = () => performance.now() - this.t0
}

/** One user agent: a cookie jar (pages) or a bearer token (/api). Sequential by construction. */
export class Client {
  private cookies = new Map<string, string>()

  constructor(
    readonly name: string,
    private readonly origin: string,
    private readonly recorder: Recorder,
    private readonly options: { sessionCookie?: string; bearer?: string; patienceMs: number },
  ) {
    if (options.sessionCookie) this.setCookieHeader(options.sessionCookie)
  }

  /** Replaces the jar's cookies with `name=value; ...` (a saved or altered session). */
  setCookieHeader(header: string) {
    for (const pair of header.split(';')) {
      const i = pair.indexOf('=')
      if (i > 0) this.cookies.set(pair.slice(0, i).trim(), pair.slice(i + 1).trim())
    }
  }

  cookie(name: string) {
    return this.cookies.get(name)
  }

  async send(method: 'GET' | 'POST', path: string, body?: { form?: URLSearchParams; json?: unknown; headers?: Record<string, string> }): Promise<Answer> {
    const headers: Record<string, string> = {
      'user-agent': 'IntakePilot-faults',
      accept: path.startsWith('/api/') ? 'application/json' : 'text/html',
      ...body?.headers,
    }
    if (this.cookies.size) headers.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ')
    if (this.options.bearer) headers.authorization = `Bearer ${this.options.bearer}`
    let payload: string | undefined
    if (body?.form) {
      headers['content-type'] = 'application/x-www-form-urlencoded'
      payload = body.form.toString()
      // Same-origin form posts, as a browser sends them.
      headers.origin = this.origin
    } else if (body?.json !== undefined) {
      headers['content-type'] = 'application/json'
      payload = JSON.stringify(body.json)
    }
    const at = this.recorder.now()
    const phase = this.recorder.phase
    const started = performance.now()
    const answer: Answer = {
      client: this.name,
      phase,
      method,
      path,
      at,
      ms: 0,
      status: 0,
      retryAfter: null,
      contentType: '',
      location: null,
      body: '',
      signedOut: false,
    }
    try {
      const response = await fetch(`${this.origin}${path}`, {
        method,
        headers,
        body: payload,
        redirect: 'manual',
        signal: AbortSignal.timeout(this.options.patienceMs),
      })
      answer.body = (await response.text()).slice(0, 20_000)
      answer.status = response.status
      answer.retryAfter = response.headers.get('retry-after')
      answer.contentType = response.headers.get('content-type') ?? ''
      answer.location = response.headers.get('location')
      for (const line of response.headers.getSetCookie()) {
        const [pair = ''] = line.split(';')
        const name = pair.slice(0, pair.indexOf('='))
        const value = pair.slice(pair.indexOf('=') + 1)
        const cleared = value === '' || /max-age=0\b/i.test(line)
        if (cleared) {
          if (name.includes('session')) answer.signedOut = true
          this.cookies.delete(name)
        } else {
          this.cookies.set(name, value)
        }
      }
    } catch (error) {
      answer.body = error instanceof Error ? error.message : String(error)
    }
    answer.ms = performance.now() - started
    this.recorder.answers.push(answer)
    return answer
  }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))
