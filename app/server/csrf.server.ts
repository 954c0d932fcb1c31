/**
 * Cross-site request forgery, refused once for every state-changing request to a page or a
 * resource route (/logout, /referrals/:id/summaries, ...): Remix's own Origin check covers
 * only document and single-fetch actions, and SameSite=Lax does not stop a sibling subdomain
 * or another port of the same site. /api/* takes bearer tokens, never cookies: no CSRF there.
 * docs/decisions/019-body-limits-and-deadlines.md
 *
 * The rule, in order:
 * 1. `Sec-Fetch-Site` (sent by every current browser) must be `same-origin` (or `none`: typed
 *    by the user, not caused by a page).
 * 2. `Origin` (sent by every browser on every POST) must be this app's own origin. `null`
 *    (sandboxed frames, privacy-sensitive redirects) is not.
 * 3. A request with neither comes from a program, not a browser page: allowed when it carries
 *    no session cookie (it has nothing to forge), refused when it does, since then nothing shows
 *    where it came from.
 */
export type CsrfVerdict = { allowed: true } | { allowed: false; reason: 'cross-site' | 'foreign-origin' | 'no-origin' }

export const isSafeMethod = (method: string) => method === 'GET' || method === 'HEAD' || method === 'OPTIONS'

export function checkSameOrigin(request: Request, options: { appOrigin?: string; sessionCookieName: string }): CsrfVerdict {
  if (isSafeMethod(request.method)) return { allowed: true }
  const site = request.headers.get('Sec-Fetch-Site')
  const origin = request.headers.get('Origin')
  if (site !== null && site !== 'same-origin' && site !== 'none') return { allowed: false, reason: 'cross-site' }
  if (origin !== null) {
    const own = new Set([new URL(request.url).origin])
    if (options.appOrigin) own.add(originOf(options.appOrigin))
    return own.has(originOf(origin)) ? { allowed: true } : { allowed: false, reason: 'foreign-origin' }
  }
  if (site !== null) return { allowed: true }
  return hasCookie(request, options.sessionCookieName) ? { allowed: false, reason: 'no-origin' } : { allowed: true }
}

/** The serialised origin of a URL or an Origin header; '' for anything that does not parse. */
function originOf(value: string) {
  try {
    const origin = new URL(value).origin
    return origin === 'null' ? '' : origin
  } catch {
    return ''
  }
}

const hasCookie = (request: Request, name: string) => (request.headers.get('Cookie') ?? '').split(';').some((part) => part.trim().split('=')[0] === name)
