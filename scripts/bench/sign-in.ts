/**
 * Headless sign-in through the app's real OpenID Connect flow (what a browser does, with fetch and
 * a cookie jar): POST /auth/microsoft -> the provider's authorize endpoint -> its sign-in form
 * (posted with the demo password) -> back to /auth/callback, where the app verifies the ID token,
 * maps (tid, oid) to the user and sets the encrypted session cookie.
 */
import { DEMO_PASSWORD } from '../lib/demo-accounts'

/** Cookies by host (as browsers keep them: the app and the provider share 127.0.0.1). */
class CookieJar {
  private cookies = new Map<string, string>()

  header() {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ')
  }

  get(name: string) {
    return this.cookies.get(name)
  }

  store(response: Response) {
    for (const line of response.headers.getSetCookie()) {
      const [pair = '', ...attributes] = line.split(';').map((s) => s.trim())
      const name = pair.slice(0, pair.indexOf('='))
      const value = pair.slice(pair.indexOf('=') + 1)
      const expired = value === '' || attributes.some((a) => /^max-age=0$/i.test(a) || (/^expires=/i.test(a) && Date.parse(a.slice(8)) < Date.now()))
      if (expired) this.cookies.delete(name)
      else this.cookies.set(name, value)
    }
  }

  async fetch(url: string | URL, init: { method?: string; form?: URLSearchParams } = {}) {
    const headers: Record<string, string> = { cookie: this.header(), 'user-agent': 'IntakePilot-bench' }
    if (init.form) headers['content-type'] = 'application/x-www-form-urlencoded'
    const response = await fetch(url, { method: init.method ?? (init.form ? 'POST' : 'GET'), headers, body: init.form, redirect: 'manual' })
    this.store(response)
    return response
  }
}

export const SESSION_COOKIE = 'intakepilot_session'

/** Returns the `Cookie` header value of a signed-in session for `email`. */
export async function signInThroughApp(options: { appOrigin: string; email: string; password?: string; redirectTo?: string }): Promise<string> {
  const { appOrigin, email, password = DEMO_PASSWORD } = options
  const jar = new CookieJar()
  let response = await jar.fetch(`${appOrigin}/auth/microsoft`, { form: new URLSearchParams({ redirectTo: options.redirectTo ?? '/' }) })
  let url = new URL(`${appOrigin}/auth/microsoft`)
  let submitted = false
  for (let hop = 0; hop < 20; hop++) {
    const location = response.headers.get('location')
    if (response.status >= 300 && response.status < 400 && location) {
      url = new URL(location, url)
      if (url.origin === appOrigin && url.pathname !== '/auth/callback') break
      response = await jar.fetch(url)
    } else if (response.status === 200 && !submitted && url.pathname.includes('/interaction/')) {
      submitted = true
      await response.text()
      response = await jar.fetch(url, { form: new URLSearchParams({ login: email, password }) })
    } else {
      const text = await response.text()
      throw new Error(`Sign-in as ${email} failed (${response.status} at ${url.pathname}): ${text.slice(0, 300)}`)
    }
  }
  const session = jar.get(SESSION_COOKIE)
  if (!session) throw new Error(`Sign-in as ${email} ended at ${url.pathname} without a session cookie`)
  return `${SESSION_COOKIE}=${session}`
}
