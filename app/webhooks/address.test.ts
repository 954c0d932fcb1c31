import { describe, expect, test } from 'vitest'
import { checkWebhookUrl, resolvesPrivate } from './address'

const production = { allowLoopback: false }
const local = { allowLoopback: true }
const refusal = (url: string, policy = production) => {
  const result = checkWebhookUrl(url, policy)
  return 'refused' in result ? result.refused : 'ok'
}

describe('webhook addresses in production', () => {
  test.each(['https://hooks.example.com/intake', 'https://93.184.216.34/x', 'https://[2606:4700::1111]/x', 'https://hooks.example.com:8443/x'])(
    'a public HTTPS address is taken: %s',
    (url) => expect(refusal(url)).toBe('ok'),
  )

  test.each(['http://hooks.example.com/x', 'ftp://hooks.example.com/x', 'javascript:alert(1)', 'hooks.example.com', ''])('not HTTPS, refused: %s', (url) =>
    expect(refusal(url)).toMatch(/scheme|invalid/),
  )

  test.each([
    // IPv4, every way the URL parser reads one.
    'https://127.0.0.1/',
    'https://127.1/',
    'https://2130706433/',
    'https://0x7f000001/',
    'https://0x7f.0.0.1/',
    'https://0177.0.0.1/',
    'https://0/',
    'https://10.1.2.3/',
    'https://172.16.0.1/',
    'https://172.31.255.255/',
    'https://192.168.1.1/',
    'https://169.254.169.254/latest/meta-data',
    'https://100.64.0.1/',
    'https://224.0.0.1/',
    'https://255.255.255.255/',
    'https://3232235777/', // 192.168.1.1 as one number
    // IPv6.
    'https://[::1]/',
    'https://[::]/',
    'https://[0:0:0:0:0:0:0:1]/',
    'https://[fc00::1]/',
    'https://[fd12:3456::1]/',
    'https://[fe80::1]/',
    'https://[ff02::1]/',
    'https://[::ffff:127.0.0.1]/',
    'https://[::ffff:7f00:1]/',
    'https://[::ffff:10.0.0.1]/',
    'https://[::ffff:169.254.169.254]/',
    'https://[64:ff9b::a00:1]/', // NAT64 of 10.0.0.1
    'https://[2002:c0a8:101::1]/', // 6to4 of 192.168.1.1
    'https://[2001:db8::1]/',
  ])('a private, loopback or reserved address is refused: %s', (url) => expect(refusal(url)).toBe('private'))

  test.each([
    'https://localhost/',
    'https://LOCALHOST./',
    'https://api.localhost/',
    'https://printer.local/',
    'https://db.internal/',
    'https://router.home.arpa/',
    'https://intranet/',
    'https://10.0.0.1.nip.io/',
    'https://app-192-168-0-1.sslip.io/',
    'https://127.0.0.1.nip.io/',
    'https://anything.localtest.me/',
  ])('a name that is private by its own spelling is refused: %s', (url) => expect(refusal(url)).toBe('name'))

  test('a public address spelled in a wildcard name is taken', () => expect(refusal('https://93.184.216.34.nip.io/')).toBe('ok'))

  test('credentials in the URL and low ports are refused', () => {
    expect(refusal('https://user:pass@hooks.example.com/')).toBe('credentials')
    expect(refusal('https://hooks.example.com:22/')).toBe('port')
  })
})

describe('the local stack and the tests', () => {
  test('may use http and loopback', () => {
    expect(refusal('http://127.0.0.1:56031/hook', local)).toBe('ok')
    expect(refusal('http://localhost:56031/hook', local)).toBe('ok')
    expect(refusal('http://[::1]:56031/hook', local)).toBe('ok')
  })
  test('but still not private networks or metadata', () => {
    expect(refusal('http://169.254.169.254/', local)).toBe('private')
    expect(refusal('http://10.0.0.1/', local)).toBe('private')
  })
})

describe('names that resolve to private addresses (DNS over HTTPS)', () => {
  const resolver = 'https://dns.example.test/dns-query'
  const answering =
    (records: Record<string, { type: number; data: string }[]>, status = 200): typeof fetch =>
    async (input) => {
      const url = new URL(String(input))
      const key = `${url.searchParams.get('name')}/${url.searchParams.get('type')}`
      return new Response(JSON.stringify({ Status: 0, Answer: records[key] ?? [] }), { status })
    }
  test('a name with a private A or AAAA record is private; a public one is not', async () => {
    const dns = answering({
      'rebind.example.com/A': [{ type: 1, data: '10.0.0.7' }],
      'six.example.com/AAAA': [{ type: 28, data: 'fd00::7' }],
      'hooks.example.com/A': [{ type: 1, data: '93.184.216.34' }],
      'hooks.example.com/AAAA': [{ type: 28, data: '2606:2800:220:1::248' }],
    })
    expect(await resolvesPrivate('rebind.example.com', resolver, dns)).toBe(true)
    expect(await resolvesPrivate('six.example.com', resolver, dns)).toBe(true)
    expect(await resolvesPrivate('hooks.example.com', resolver, dns)).toBe(false)
  })
  test('a resolver that fails counts as private; no resolver cannot tell', async () => {
    expect(await resolvesPrivate('hooks.example.com', resolver, answering({}, 500))).toBe(true)
    expect(await resolvesPrivate('hooks.example.com', undefined)).toBe(null)
  })
})
