import { describe, expect, test } from 'vitest'
import { safeRedirect } from './misc'

/** Where a browser on https://app.example would go for `Location: <to>`. */
const landsOn = (to: string) => new URL(to, 'https://app.example').origin

describe('safeRedirect keeps redirects on this site, as a browser reads them', () => {
  test.each([
    ['//evil.example', 'protocol-relative'],
    ['/\t/evil.example', 'tab dropped by the URL parser'],
    ['/\n/evil.example', 'newline dropped'],
    ['/\r/evil.example', 'carriage return dropped'],
    ['/\r\n/evil.example', 'CRLF dropped'],
    ['/\\evil.example', 'backslash read as a slash'],
    ['/\\\\evil.example', 'two backslashes'],
    ['\\\\evil.example', 'leading backslashes'],
    ['\\/evil.example', 'backslash then slash'],
    ['/\t\\evil.example', 'tab then backslash'],
    ['/.//evil.example', 'dot segment that leaves //'],
    ['/./\\evil.example', 'dot segment then backslash'],
    ['https://evil.example', 'absolute URL'],
    ['http:evil.example', 'scheme without slashes'],
    ['javascript:alert(1)', 'javascript URL'],
    ['JaVaScRiPt:alert(1)', 'javascript URL, mixed case'],
    [' //evil.example', 'leading space'],
    ['\t//evil.example', 'leading tab'],
    ['evil.example', 'no leading slash'],
    ['', 'empty'],
  ])('%j (%s) falls back', (to) => {
    expect(safeRedirect(to, '/home')).toBe('/home')
  })

  test('a path longer than any page of ours falls back', () => {
    expect(safeRedirect('/' + 'a'.repeat(3000), '/home')).toBe('/home')
  })

  test.each([
    ['/queue', '/queue'],
    ['/referrals/abc?tab=history#notes', '/referrals/abc?tab=history#notes'],
    ['/%09/evil.example', '/%09/evil.example'],
    ['/%2F%2Fevil.example', '/%2F%2Fevil.example'],
    ['/%5Cevil.example', '/%5Cevil.example'],
    ['/%0d%0aSet-Cookie:x', '/%0d%0aSet-Cookie:x'],
    ['/queue\nSet-Cookie: x=1', '/queueSet-Cookie:%20x=1'],
    ['/queue\r\n', '/queue'],
    ['/javascript:alert(1)', '/javascript:alert(1)'],
    ['/a/../b', '/b'],
  ])('%j stays on this site as %j', (to, path) => {
    expect(safeRedirect(to, '/home')).toBe(path)
  })

  test('whatever it returns, a browser stays on this origin and the value is a valid header', () => {
    const hostile = ['/\t/x', '//x', '/%09/x', '\\\\x', '/\\x', '/\u0000/x', '/\u3000/x', '/\uFF0F/x', '/x\ny', '/%E0%A4%A', '/?next=//x']
    for (const to of hostile) {
      const out = safeRedirect(to, '/home')
      expect(landsOn(out), to).toBe('https://app.example')
      expect(() => new Headers({ Location: out }), to).not.toThrow()
    }
  })

  test('anything not a string falls back', () => {
    expect(safeRedirect(null)).toBe('/')
    expect(safeRedirect(undefined, '/x')).toBe('/x')
    expect(safeRedirect(new File([], 'f') as unknown as string, '/x')).toBe('/x')
  })
})
