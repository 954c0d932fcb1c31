/**
 * What the fuzzer sends (fast-check): hostile values, field names, body shapes, cookies,
 * origins, methods and redirect targets. An attack is generated without knowing the route;
 * fuzz-requests.ts applies it to a request the route accepts, so one seed always gives the
 * same attacks whatever the database holds.
 */
import fc from 'fast-check'

/** What a field holds, which decides which values it must refuse (see mustRefuse). */
export type Kind = 'text' | 'date' | 'int' | 'uuid' | 'enum' | 'free'
export type FieldSpec = { kind: Kind; required?: boolean }

/** A value as sent: plain text, or bytes already percent-encoded (invalid UTF-8, a lone %). */
export type Value = { text: string } | { encoded: string } | { json: string }

const IGNORED_BY_CHECKS = /\bat |node_modules|\.tsx?:\d|file:|\/work\//
const text = (s: string): Value => ({ text: s })

/** Strings that broke, or could break, parsing, storage or rendering. */
export const HOSTILE_TEXT = [
  '\u0000',
  'a\u0000b',
  '\u0000'.repeat(64),
  '',
  ' ',
  '\t\r\n',
  '\uFFFF\uFFFE',
  '\uD800',
  '\uDC00x\uD83D',
  '\u202Eevil\u202C',
  'Zoë Ångström 😀 نص 中文',
  '<script>alert(1)</script>',
  '"><img src=x onerror=alert(1)>',
  "' OR 1=1 --",
  '%',
  '%E0%A4%A',
  '../../../etc/passwd',
  '{{7*7}}${7*7}',
  'x'.repeat(4_001),
  'y'.repeat(70_000),
]
export const NUMBERS = [
  '2147483648',
  '-2147483649',
  '4294967296',
  '9007199254740993',
  '-0',
  'NaN',
  '1e309',
  '-1e309',
  'Infinity',
  '1.5',
  '1e3',
  '0x7fffffff0',
  '٣',
  '99999999999999999999999',
]
export const DATES = [
  '0000-01-01',
  '10000-01-01',
  '+010000-01-01',
  '-000001-01-01',
  '1961-02-31',
  '1900-02-29',
  '2026-99-99',
  '2026-13-01',
  '2026-00-10',
  '2026-02-30',
  '0001-01-01',
  '9999-12-31',
  '275760-09-13',
  '1970-01-01T00:00:00Z',
  '2026-1-1',
]
export const REDIRECTS = [
  '/\t/evil.example',
  '/\n/evil.example',
  '/\r\n/evil.example',
  '//evil.example',
  '///evil.example',
  '/\\evil.example',
  '\\\\evil.example',
  '/\\/evil.example',
  'https://evil.example',
  'http:evil.example',
  'javascript:alert(1)',
  '%2F%2Fevil.example',
  '/%2F/evil.example',
  '/%09/evil.example',
  ' //evil.example',
  '/.//evil.example',
  '/..//evil.example',
  '/\u0000/evil.example',
  '/\u3002evil.example',
  '//evil。example',
]
/** Already percent-encoded: bytes that are not UTF-8, and escapes that do not decode. */
export const ENCODED = ['%C3%28', '%FF%FE', '%ED%A0%80', '%E0%A4%A', '%', '%%', '%zz', '%00', '%0D%0ASet-Cookie:%20x=1']
/** Conform's reserved names, with list intents that would allocate or move huge indexes. */
export const CONFORM_INTENTS = [
  '{"type":"insert","payload":{"name":"sections","index":1000000000}}',
  '{"type":"insert","payload":{"name":"sections[0].fields","index":100000000,"defaultValue":{}}}',
  '{"type":"reorder","payload":{"name":"sections","from":0,"to":1000000000}}',
  '{"type":"remove","payload":{"name":"sections","index":-1}}',
  '{"type":"validate","payload":{"name":"__proto__"}}',
  '{"type":"update","payload":{"name":"sections","value":[]}}',
  'not json',
  '{"type":"insert"',
]
export const JSON_LITERALS = [
  '2147483648',
  '9007199254740993',
  '-0',
  '1e309',
  '-1e309',
  'NaN',
  'Infinity',
  'null',
  'true',
  '[]',
  '{}',
  '"\\u0000"',
  '"a\\u0000b"',
  '"\\ud800"',
  '[[[[[[[[[[1]]]]]]]]]]',
  '{"__proto__":{"x":1}}',
  `"${'z'.repeat(70_000)}"`,
]

const year = fc.oneof(fc.constantFrom(0, 1, 1899, 1900, 1961, 2000, 2026, 9999, 10000, 275760), fc.integer({ min: 0, max: 12000 }))
const madeUpDate = fc
  .tuple(year, fc.integer({ min: 0, max: 14 }), fc.integer({ min: 0, max: 33 }))
  .map(([y, m, d]) => `${String(y).padStart(4, '0')}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`)
const randomText = fc.string({ unit: 'binary', maxLength: 40 }).filter((s) => !IGNORED_BY_CHECKS.test(s))

/** Any hostile value: each field gets values of every family, so a date field also meets NUL bytes. */
export const valueArb: fc.Arbitrary<Value> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...HOSTILE_TEXT).map(text) },
  { weight: 3, arbitrary: randomText.map(text) },
  { weight: 3, arbitrary: fc.constantFrom(...NUMBERS).map(text) },
  { weight: 3, arbitrary: fc.oneof(fc.constantFrom(...DATES), madeUpDate).map(text) },
  { weight: 1, arbitrary: fc.uuid().map(text) },
  { weight: 1, arbitrary: fc.constantFrom(...REDIRECTS).map(text) },
  { weight: 1, arbitrary: fc.constantFrom(...ENCODED).map((encoded) => ({ encoded })) },
  { weight: 2, arbitrary: fc.constantFrom(...JSON_LITERALS).map((json) => ({ json })) },
)

/** Array indexes up to 1e9 (and past 2^31 and 2^53), as conform reads `name[N]`. */
export const INDEXES = [0, 1, 7, 99, 2_000, 100_000, 10_000_000, 100_000_000, 1_000_000_000]
const indexArb = fc.oneof(fc.constantFrom(...INDEXES, 2 ** 31, 2 ** 53, -1), fc.integer({ min: 0, max: 1_000_000_000 }))
const unknownName = fc.oneof(
  fc.constantFrom(
    '__proto__',
    'constructor',
    'prototype',
    '__proto__.polluted',
    'constructor.prototype.polluted',
    '__intent__',
    '__state__',
    'a.b.c.d.e',
    'x[0][1][2]',
    '[0]',
    '.',
    '',
    'a\u0000b',
    'name with spaces',
    '名前',
    '__proto__[0]',
  ),
  fc.stringMatching(/^[a-z_][a-z0-9_.[\]]{0,20}$/),
)

export type Shape =
  | 'none'
  | 'empty'
  | 'json'
  | 'json-garbage'
  | 'json-array'
  | 'json-deep'
  | 'text'
  | 'binary'
  | 'multipart'
  | 'multipart-no-boundary'
  | 'multipart-broken'
  | 'multipart-wrong-boundary'
  | 'multipart-file'
  | 'urlencoded-as-json'
  | 'odd-content-type'
  | 'utf16'
  | 'bad-percent'
  | 'big'
  | 'many-fields'
  | 'bom'
export const SHAPES: Shape[] = [
  'none',
  'empty',
  'json',
  'json-garbage',
  'json-array',
  'json-deep',
  'text',
  'binary',
  'multipart',
  'multipart-no-boundary',
  'multipart-broken',
  'multipart-wrong-boundary',
  'multipart-file',
  'urlencoded-as-json',
  'odd-content-type',
  'utf16',
  'bad-percent',
  'big',
  'many-fields',
  'bom',
]
export const ODD_CONTENT_TYPES = [
  '',
  'application/x-www-form-urlencoded;',
  'multipart/form-data; boundary=',
  'multipart/form-data; boundary="',
  'application/json; charset=utf-32',
  'text/html',
  '*/*',
  'application/x-www-form-urlencoded, application/json',
  'APPLICATION/X-WWW-FORM-URLENCODED',
  'a'.repeat(5000),
  'multipart/mixed; boundary=x',
  'application/octet-stream',
]

export type CookieAttack =
  | { t: 'none' }
  | { t: 'truncated'; keep: number }
  | { t: 'flipped'; at: number }
  | { t: 'empty' }
  | { t: 'twice' }
  | { t: 'huge' }
  | { t: 'garbage'; header: string }
  | { t: 'extra'; name: 'intakepilot_redirect' | 'intakepilot_ai_endpoint' | 'oauth2' | '__Host-intakepilot_session'; value: string }
const COOKIE_VALUES = [
  '%E0%A4%A',
  '%',
  '%FF',
  '%00',
  '/\t/evil.example',
  '%2F%09%2Fevil.example',
  'javascript:alert(1)',
  'http://evil.example/v1',
  'http://127.0.0.1:1/v1',
  '%0D%0A',
  'x'.repeat(4000),
  '"quoted"',
  '',
]
const cookieArb: fc.Arbitrary<CookieAttack> = fc.oneof(
  fc.constant({ t: 'none' as const }),
  fc.integer({ min: 0, max: 4000 }).map((keep) => ({ t: 'truncated' as const, keep })),
  fc.nat().map((at) => ({ t: 'flipped' as const, at })),
  fc.constant({ t: 'empty' as const }),
  fc.constant({ t: 'twice' as const }),
  fc.constant({ t: 'huge' as const }),
  fc
    .constantFrom('=;=;;', 'intakepilot_session', ';;;;', 'a=b; a=c; intakepilot_session=%', `${'k'.repeat(3000)}=v`)
    .map((header) => ({ t: 'garbage' as const, header })),
  fc
    .tuple(
      fc.constantFrom('intakepilot_redirect', 'intakepilot_ai_endpoint', 'oauth2', '__Host-intakepilot_session') as fc.Arbitrary<'intakepilot_redirect'>,
      fc.constantFrom(...COOKIE_VALUES),
    )
    .map(([name, value]) => ({ t: 'extra' as const, name, value })),
)

/** Origins that must not be able to change anything through a signed-in browser. */
export const FOREIGN = [
  { origin: 'https://evil.example' },
  { origin: 'null' },
  { origin: 'http://127.0.0.1:1' },
  { origin: 'http://localhost' },
  { fetchSite: 'cross-site' },
  { fetchSite: 'same-site' },
  { origin: 'https://evil.example', fetchSite: 'same-origin' },
] as const
export type Foreign = (typeof FOREIGN)[number]

export const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const

export type Attack =
  | { t: 'set'; pick: number; value: Value; multipart: boolean; redirect: string }
  | { t: 'remove'; pick: number; multipart: boolean }
  | { t: 'repeat'; pick: number; value: Value }
  | { t: 'index'; pick: number; index: number; nested: boolean; multipart: boolean }
  | { t: 'unknown'; name: string; value: Value }
  | { t: 'shape'; shape: Shape; pick: number; bytes: Uint8Array }
  | { t: 'method'; method: (typeof METHODS)[number] }
  | { t: 'cookie'; cookie: CookieAttack }
  | { t: 'origin'; foreign: Foreign }
  | { t: 'valid' }

/** Attacks on a request with a body (page actions, API writes). */
export const bodyAttackArb: fc.Arbitrary<Attack> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({ t: fc.constant('set' as const), pick: fc.nat(), value: valueArb, multipart: fc.boolean(), redirect: fc.constantFrom(...REDIRECTS) }),
  },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('remove' as const), pick: fc.nat(), multipart: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('repeat' as const), pick: fc.nat(), value: valueArb }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('index' as const), pick: fc.nat(), index: indexArb, nested: fc.boolean(), multipart: fc.boolean() }) },
  {
    weight: 1,
    arbitrary: fc.record({ t: fc.constant('unknown' as const), name: unknownName, value: fc.oneof(valueArb, fc.constantFrom(...CONFORM_INTENTS).map(text)) }),
  },
  {
    weight: 4,
    arbitrary: fc.record({ t: fc.constant('shape' as const), shape: fc.constantFrom(...SHAPES), pick: fc.nat(), bytes: fc.uint8Array({ maxLength: 200 }) }),
  },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('method' as const), method: fc.constantFrom(...METHODS) }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('cookie' as const), cookie: cookieArb }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('origin' as const), foreign: fc.constantFrom(...FOREIGN) }) },
  { weight: 1, arbitrary: fc.constant({ t: 'valid' as const }) },
)

/** Attacks on a GET (query parameters are the fields). */
export const queryAttackArb: fc.Arbitrary<Attack> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      t: fc.constant('set' as const),
      pick: fc.nat(),
      value: valueArb,
      multipart: fc.constant(false),
      redirect: fc.constantFrom(...REDIRECTS),
    }),
  },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('repeat' as const), pick: fc.nat(), value: valueArb }) },
  {
    weight: 2,
    arbitrary: fc.record({ t: fc.constant('index' as const), pick: fc.nat(), index: indexArb, nested: fc.boolean(), multipart: fc.constant(false) }),
  },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('unknown' as const), name: unknownName, value: valueArb }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('method' as const), method: fc.constantFrom(...METHODS) }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('cookie' as const), cookie: cookieArb }) },
  { weight: 1, arbitrary: fc.constant({ t: 'valid' as const }) },
)

const realDate = (v: string) => {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(v)
  if (!m) return false
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])]
  const date = new Date(Date.UTC(y, mo - 1, d))
  return y >= 1000 && date.getUTCFullYear() === y && date.getUTCMonth() === mo - 1 && date.getUTCDate() === d
}

/**
 * Why a stored field must refuse this value, or null when it may accept it. Only what is
 * wrong for certain is claimed: a NUL byte in text, a day that is not in the calendar or a
 * year outside 1000-9999, an integer PostgreSQL cannot hold, an id or code that is not one.
 */
export function mustRefuse(spec: FieldSpec, raw: string | null): string | null {
  if (raw === null) return spec.required ? 'a required field is missing' : null
  const value = raw.trim()
  if (spec.kind === 'text') return raw.includes('\u0000') ? 'a NUL byte in stored text' : null
  if (spec.kind === 'date') return value && !realDate(value) ? `"${raw.slice(0, 30)}" is not a real date` : null
  if (spec.kind === 'int') {
    const n = Number(value)
    return Number.isSafeInteger(n) && Math.abs(n) < 2 ** 31 ? null : `"${raw.slice(0, 30)}" is not a 32-bit integer`
  }
  if (spec.kind === 'uuid' || spec.kind === 'enum') return value ? `"${raw.slice(0, 30)}" is not a known ${spec.kind === 'uuid' ? 'id' : 'choice'}` : null
  return null
}

/** The text of a value as the server will read it (null when it is not text a field can hold). */
export function readAs(value: Value): string | null {
  if ('text' in value) return value.text
  if ('json' in value) return value.json
  try {
    return decodeURIComponent(value.encoded)
  } catch {
    return null
  }
}

export const describeValue = (value: Value) => {
  const shown = 'text' in value ? value.text : 'json' in value ? `json ${value.json}` : `encoded ${value.encoded}`
  return JSON.stringify(shown.length > 40 ? `${shown.slice(0, 30)}…(${shown.length} chars)` : shown)
}
