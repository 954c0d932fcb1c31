/**
 * Where a webhook may be sent (docs/decisions/044-webhook-addresses.md): HTTPS to a public
 * address, never to the clinic's or Cloudflare's own network. Checked when an admin registers an
 * endpoint and again before every delivery. The WHATWG URL parser writes every IPv4 form
 * (decimal `2130706433`, hex `0x7f.1`, octal `0177.0.0.1`, short `127.1`) as a dotted quad and
 * every IPv6 literal in its compressed form, so the checks below see one shape of each.
 *
 * Browser-safe: the form shows the same refusal the server gives.
 */

export type AddressPolicy = {
  /** The local stack and the tests: http:// and loopback are allowed (never in production). */
  allowLoopback: boolean
}

export type AddressRefusal = 'invalid' | 'scheme' | 'credentials' | 'port' | 'private' | 'name'

export const ADDRESS_REFUSED: Record<AddressRefusal, string> = {
  invalid: 'Enter the full address of the endpoint, starting with https://',
  scheme: 'The address must start with https://',
  credentials: 'The address must not hold a user name or password: the signature proves who sent it',
  port: 'Use the standard HTTPS port (443) or a port above 1023',
  private: 'The address points into a private, loopback or reserved network: use a public address',
  name: 'That host name is only meaningful inside a private network: use a public name',
}

/** A URL to send to, or why not. Only the URL's own text is looked at: see resolvesPrivate for DNS. */
export function checkWebhookUrl(input: string, policy: AddressPolicy): { url: URL } | { refused: AddressRefusal } {
  let url: URL
  try {
    url = new URL(input.trim())
  } catch {
    return { refused: 'invalid' }
  }
  const loopbackOk = policy.allowLoopback
  if (url.protocol !== 'https:' && !(loopbackOk && url.protocol === 'http:')) return { refused: url.protocol === 'http:' ? 'scheme' : 'invalid' }
  if (url.username || url.password) return { refused: 'credentials' }
  if (url.port && Number(url.port) < 1024 && url.port !== '443' && !loopbackOk) return { refused: 'port' }
  const host = url.hostname.toLowerCase()
  if (!host) return { refused: 'invalid' }
  const address = hostAddress(host)
  if (address) {
    if (loopbackOk && isLoopback(address)) return { url }
    return isPublic(address) ? { url } : { refused: 'private' }
  }
  if (loopbackOk && (host === 'localhost' || host.endsWith('.localhost'))) return { url }
  if (isPrivateName(host)) return { refused: 'name' }
  return { url }
}

/** An IP literal in a URL's host, parsed: 4 bytes or 16. */
type Address = { v: 4; bytes: number[] } | { v: 6; bytes: number[] }

function hostAddress(host: string): Address | null {
  if (host.startsWith('[') && host.endsWith(']')) return parseIPv6(host.slice(1, -1))
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(host)) return { v: 4, bytes: host.split('.').map(Number) }
  return null
}

/** Accepts what the URL parser writes (compressed, lower case, maybe a dotted IPv4 tail). */
export function parseIPv6(text: string): Address | null {
  let head = text
  let tail: number[] = []
  const dotted = /(\d{1,3}(?:\.\d{1,3}){3})$/.exec(text)
  if (dotted) {
    tail = dotted[1]!.split('.').map(Number)
    if (tail.some((b) => b > 255)) return null
    head = text.slice(0, -dotted[1]!.length) + '0:0'
  }
  const halves = head.split('::')
  if (halves.length > 2) return null
  const groups = (part: string) => (part ? part.split(':') : [])
  const left = groups(halves[0]!)
  const right = halves.length === 2 ? groups(halves[1]!) : []
  const fill = 8 - left.length - right.length
  if (fill < 0 || (halves.length === 1 && fill !== 0)) return null
  const all = [...left, ...Array<string>(halves.length === 2 ? fill : 0).fill('0'), ...right]
  if (all.length !== 8 || all.some((g) => !/^[0-9a-f]{1,4}$/i.test(g))) return null
  const bytes = all.flatMap((g) => [parseInt(g, 16) >> 8, parseInt(g, 16) & 0xff])
  if (dotted) bytes.splice(12, 4, ...tail)
  return { v: 6, bytes }
}

/** Parses a DNS answer's address (an A or AAAA record's data). */
export function parseAddress(text: string): Address | null {
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(text)) {
    const bytes = text.split('.').map(Number)
    return bytes.every((b) => b <= 255) ? { v: 4, bytes } : null
  }
  return text.includes(':') ? parseIPv6(text.toLowerCase()) : null
}

const isLoopback = (a: Address) => (a.v === 4 ? a.bytes[0] === 127 : a.bytes.slice(0, 15).every((b) => b === 0) && a.bytes[15] === 1)

/** Ranges no webhook goes to: RFC 6890's special-purpose registries, in short. */
const PRIVATE_V4: [number[], number][] = [
  [[0, 0, 0, 0], 8], // "this network"
  [[10, 0, 0, 0], 8],
  [[100, 64, 0, 0], 10], // carrier-grade NAT
  [[127, 0, 0, 0], 8],
  [[169, 254, 0, 0], 16], // link-local, cloud metadata
  [[172, 16, 0, 0], 12],
  [[192, 0, 0, 0], 24],
  [[192, 0, 2, 0], 24], // documentation
  [[192, 88, 99, 0], 24],
  [[192, 168, 0, 0], 16],
  [[198, 18, 0, 0], 15], // benchmarking
  [[198, 51, 100, 0], 24],
  [[203, 0, 113, 0], 24],
  [[224, 0, 0, 0], 4], // multicast
  [[240, 0, 0, 0], 4], // reserved, broadcast
]

const inRange = (bytes: number[], [base, bits]: [number[], number]) => {
  for (let i = 0; i < bits; i++) {
    const bit = (b: number[]) => (b[i >> 3]! >> (7 - (i & 7))) & 1
    if (bit(bytes) !== bit(base)) return false
  }
  return true
}

export function isPublic(a: Address): boolean {
  if (a.v === 4) return !PRIVATE_V4.some((range) => inRange(a.bytes, range))
  const b = a.bytes
  // An IPv4 address inside IPv6 (mapped ::ffff:a.b.c.d, compatible ::a.b.c.d, NAT64 64:ff9b::/96)
  // is judged as that IPv4 address.
  if (b.slice(0, 10).every((x) => x === 0) && ((b[10] === 0xff && b[11] === 0xff) || (b[10] === 0 && b[11] === 0)))
    return b.slice(0, 12).every((x) => x === 0) && b.slice(12).every((x) => x === 0) ? false : isPublic({ v: 4, bytes: b.slice(12) })
  if (inRange(b, [[0x00, 0x64, 0xff, 0x9b, ...Array<number>(12).fill(0)], 96])) return isPublic({ v: 4, bytes: b.slice(12) })
  // 6to4 (2002::/16) carries an IPv4 address in bytes 2..5.
  if (b[0] === 0x20 && b[1] === 0x02) return isPublic({ v: 4, bytes: b.slice(2, 6) })
  const v6 = (prefix: number[], bits: number): [number[], number] => [[...prefix, ...Array<number>(16 - prefix.length).fill(0)], bits]
  const blocked = [
    v6([0xfc], 7), // unique local
    v6([0xfe, 0x80], 10), // link-local
    v6([0xfe, 0xc0], 10), // site-local (deprecated)
    v6([0xff], 8), // multicast
    v6([0x01, 0x00], 64), // discard
    v6([0x20, 0x01, 0x0d, 0xb8], 32), // documentation
    v6([0x20, 0x01, 0x00, 0x00], 32), // Teredo
    v6([0x00, 0x64, 0xff, 0x9b, 0x00, 0x01], 48), // local NAT64
  ]
  return !blocked.some((range) => inRange(b, range))
}

/**
 * Names that only resolve inside a network (RFC 6761, 6762, 8375), and the public "wildcard DNS"
 * services whose names spell out an address (10.0.0.1.nip.io): judged by the address they spell.
 */
function isPrivateName(host: string): boolean {
  const name = host.replace(/\.$/, '')
  if (!name.includes('.')) return true
  if (/(^|\.)(localhost|local|internal|intranet|lan|home|corp|private|localdomain|home\.arpa|in-addr\.arpa|ip6\.arpa|test|invalid|example)$/.test(name))
    return true
  const spelled = /(?:^|[.-])(\d{1,3}[.-]\d{1,3}[.-]\d{1,3}[.-]\d{1,3})\.(?:nip\.io|sslip\.io|xip\.io|traefik\.me|localtest\.me|lvh\.me)$/.exec(name)
  if (/(^|\.)(localtest\.me|lvh\.me)$/.test(name)) return true
  if (spelled) {
    const address = parseAddress(spelled[1]!.replace(/-/g, '.'))
    return !address || !isPublic(address)
  }
  return false
}

/**
 * Whether any address a name resolves to is not public, asked of a DNS-over-HTTPS resolver (the
 * JSON API that Cloudflare's and Google's resolvers speak). Without a resolver it cannot be
 * checked: null. A failed lookup counts as private: a delivery is refused, not risked.
 */
export async function resolvesPrivate(host: string, resolver: string | undefined, fetcher: typeof fetch = fetch): Promise<boolean | null> {
  if (!resolver || hostAddress(host)) return null
  const lookups = ['A', 'AAAA'].map(async (type) => {
    const query = new URL(resolver)
    query.searchParams.set('name', host)
    query.searchParams.set('type', type)
    const response = await fetcher(query, { headers: { accept: 'application/dns-json' }, signal: AbortSignal.timeout(3_000) })
    if (!response.ok) throw new Error('resolver')
    const answer: { Status?: number; Answer?: { type: number; data: string }[] } = await response.json()
    if (answer.Status !== 0 && answer.Status !== 3) throw new Error('resolver')
    return (answer.Answer ?? []).filter((r) => r.type === 1 || r.type === 28).map((r) => parseAddress(r.data))
  })
  try {
    const addresses = (await Promise.all(lookups)).flat()
    return addresses.some((a) => !a || !isPublic(a))
  } catch {
    return true
  }
}
