import { describe, expect, test } from 'vitest'
import { checkSameOrigin } from './csrf.server'

const APP = 'https://intake.example.org'
const post = (headers: Record<string, string>, method = 'POST') => new Request(`${APP}/logout`, { method, headers })
const verdict = (headers: Record<string, string>, method?: string) =>
  checkSameOrigin(post(headers, method), { appOrigin: APP, sessionCookieName: '__Host-intakepilot_session' })
const COOKIE = { Cookie: 'theme=dark; __Host-intakepilot_session=abc' }

describe('one origin check for every state-changing request to a page or resource route', () => {
  test.each([
    ['a form from one of our pages', { Origin: APP, 'Sec-Fetch-Site': 'same-origin', ...COOKIE }],
    ['an older browser: Origin, no fetch metadata', { Origin: APP, ...COOKIE }],
    ['fetch metadata only', { 'Sec-Fetch-Site': 'same-origin', ...COOKIE }],
    ['typed by the user (none)', { 'Sec-Fetch-Site': 'none', Origin: APP, ...COOKIE }],
    ['a program without cookies or headers', {}],
    ['a program with unrelated cookies only', { Cookie: 'theme=dark' }],
  ])('allowed: %s', (_, headers) => {
    expect(verdict(headers)).toEqual({ allowed: true })
  })

  test.each([
    ['another site', { Origin: 'https://evil.example', ...COOKIE }, 'foreign-origin'],
    ['a sibling subdomain', { Origin: 'https://portal.example.org', 'Sec-Fetch-Site': 'same-site', ...COOKIE }, 'cross-site'],
    ['another port of the same host', { Origin: 'https://intake.example.org:8443', ...COOKIE }, 'foreign-origin'],
    ['plain http of the same host', { Origin: 'http://intake.example.org', ...COOKIE }, 'foreign-origin'],
    ['a sandboxed frame (null)', { Origin: 'null', ...COOKIE }, 'foreign-origin'],
    ['an Origin that does not parse', { Origin: 'intake.example.org', ...COOKIE }, 'foreign-origin'],
    ['cross-site metadata with a copied Origin', { Origin: APP, 'Sec-Fetch-Site': 'cross-site', ...COOKIE }, 'cross-site'],
    ['the session cookie and neither header', COOKIE, 'no-origin'],
    ['another site, no cookie at all', { Origin: 'https://evil.example' }, 'foreign-origin'],
  ])('refused: %s', (_, headers, reason) => {
    expect(verdict(headers)).toEqual({ allowed: false, reason })
  })

  test('every unsafe method is checked; GET, HEAD and OPTIONS are not', () => {
    for (const method of ['POST', 'PUT', 'PATCH', 'DELETE']) expect(verdict({ Origin: 'https://evil.example' }, method).allowed, method).toBe(false)
    for (const method of ['GET', 'HEAD', 'OPTIONS']) expect(verdict({ Origin: 'https://evil.example' }, method).allowed, method).toBe(true)
  })

  test("the request's own origin counts when APP_ORIGIN is not set", () => {
    const request = new Request('http://127.0.0.1:8788/logout', { method: 'POST', headers: { Origin: 'http://127.0.0.1:8788', ...COOKIE } })
    expect(checkSameOrigin(request, { sessionCookieName: 'intakepilot_session' })).toEqual({ allowed: true })
  })
})
