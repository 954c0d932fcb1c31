/**
 * Turns an attack (fuzz-cases.ts) into the bytes of one request to one endpoint: a request
 * the endpoint accepts (its base, read from the live app) with one thing made hostile.
 */
import { Buffer } from 'node:buffer'
import { APP_URL } from '../../playwright.config'
import {
  describeValue,
  mustRefuse,
  type Attack,
  type FieldSpec,
  type CookieAttack,
  type Foreign,
  type Shape,
  type Value,
  ODD_CONTENT_TYPES,
} from './fuzz-cases'

export type Role = 'staff' | 'admin' | 'referrer' | 'superadmin' | 'anonymous'

/**
 * A request the endpoint accepts. Names starting with ':' are path parameters (`/referrals/:id`);
 * JSON bodies are listed by dotted path (`data.patient_dob`).
 */
/** `multipart`: the page's form is multipart/form-data (it takes files), so the valid request and its variants are too. */
export type Base = { type: 'form' | 'query' | 'json'; fields: [string, unknown][]; specs: Record<string, FieldSpec>; multipart?: boolean }

export type Endpoint = {
  /** e.g. "POST /queue" */
  name: string
  method: 'GET' | 'POST' | 'PATCH'
  role: Role
  /** With `:name` placeholders, filled from the base's path parameters. */
  path: string
  base: () => Promise<Base>
  headers?: () => Record<string, string>
  /** A page (cookie session, Origin rules, `.data` single-fetch twin); otherwise /api or a resource. */
  page?: boolean
  api?: boolean
  /** Under /fhir/R4 (sent as the API is): its refusals are OperationOutcomes, not the API's JSON. */
  fhir?: boolean
  /** Another account than the role's usual one (sign-out ends its session). */
  account?: string
  /** May answer more than the size bound when the request is good (an export download). */
  download?: boolean
}

export type Case = {
  label: string
  method: string
  path: string
  headers: Record<string, string>
  body?: Uint8Array
  /** valid: the role's session or token; replaced: made from it by the attack; none: no credentials. */
  credentials: 'valid' | 'replaced' | 'none'
  cookieAttack?: CookieAttack
  extraCookie?: string
  /** Why this request must be refused (a 4xx, nothing written), when it must. */
  refuse?: string
}

const UNRESERVED = /[A-Za-z0-9*\-._]/
/** application/x-www-form-urlencoded, byte by byte (lone surrogates become U+FFFD, as browsers send). */
export function pct(s: string) {
  let out = ''
  for (const byte of Buffer.from(s, 'utf8')) {
    const c = String.fromCharCode(byte)
    out += byte < 0x80 && UNRESERVED.test(c) ? c : byte === 0x20 ? '+' : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`
  }
  return out
}
/** WHATWG percent-decoding: malformed escapes stay as they are. */
export function percentBytes(s: string) {
  const bytes: number[] = []
  const raw = Buffer.from(s, 'utf8')
  for (let i = 0; i < raw.length; i++) {
    const hex = String.fromCharCode(raw[i + 1] ?? 0, raw[i + 2] ?? 0)
    if (raw[i] === 0x25 && /^[0-9a-fA-F]{2}$/.test(hex)) {
      bytes.push(parseInt(hex, 16))
      i += 2
    } else bytes.push(raw[i]!)
  }
  return Buffer.from(bytes)
}
const asText = (v: Value) => ('text' in v ? v.text : 'json' in v ? v.json : new TextDecoder().decode(percentBytes(v.encoded)))
const encodeValue = (v: Value) => ('encoded' in v ? v.encoded : pct(asText(v)))
const encodeField = (name: string, value: unknown) => `${pct(name)}=${isValue(value) ? encodeValue(value) : pct(String(value))}`
const isValue = (v: unknown): v is Value => typeof v === 'object' && v !== null && ('text' in v || 'encoded' in v || 'json' in v)
const fieldBytes = (v: unknown) => (isValue(v) ? ('encoded' in v ? percentBytes(v.encoded) : Buffer.from(asText(v), 'utf8')) : Buffer.from(String(v), 'utf8'))

export const urlencoded = (fields: [string, unknown][]) => fields.map(([n, v]) => encodeField(n, v)).join('&')

export function multipart(fields: [string, unknown][], boundary: string, fileField?: string) {
  const parts: Buffer[] = []
  for (const [name, value] of fields) {
    const quoted = name.replace(/"/g, '%22').replace(/\r/g, '%0D').replace(/\n/g, '%0A')
    const file = name === fileField ? `; filename="fuzz.bin"\r\nContent-Type: application/octet-stream` : ''
    parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${quoted}"${file}\r\n\r\n`), fieldBytes(value), Buffer.from('\r\n'))
  }
  parts.push(Buffer.from(`--${boundary}--\r\n`))
  return Buffer.concat(parts)
}

const PLACEHOLDER = 'fuzz-placeholder-7f3a9c'
/** A JSON body with one path set to a raw literal (which may not be JSON at all: `NaN`). */
function jsonWith(fields: [string, unknown][], path?: string, literal?: string, drop?: string) {
  const root: Record<string, unknown> = {}
  for (const [name, value] of fields) {
    if (name === drop) continue
    const keys = name.split('.')
    let node = root
    for (const key of keys.slice(0, -1)) node = (node[key] ??= {}) as Record<string, unknown>
    node[keys.at(-1)!] = name === path ? PLACEHOLDER : value
  }
  if (path && !fields.some(([n]) => n === path)) root[path] = PLACEHOLDER
  return JSON.stringify(root).replace(JSON.stringify(PLACEHOLDER), () => literal ?? 'null')
}
const jsonLiteral = (v: Value) => ('json' in v ? v.json : JSON.stringify(asText(v)))

/** What a JSON value must be refused for: not JSON at all, or what mustRefuse says of the text. */
function refuseJson(spec: FieldSpec | undefined, literal: string): string | null {
  let parsed: unknown
  try {
    parsed = JSON.parse(literal)
  } catch {
    return 'the body is not JSON'
  }
  if (!spec) return null
  if (spec.kind === 'int') return typeof parsed === 'number' ? mustRefuse(spec, String(parsed)) : 'not a number'
  if (typeof parsed === 'string') return mustRefuse(spec, parsed)
  if (parsed === null) return spec.kind === 'uuid' ? null : spec.required ? 'a required field is null' : null
  if (typeof parsed === 'object') return 'an object or array where a value belongs'
  if (spec.kind === 'date') return mustRefuse(spec, String(parsed))
  return null
}

function shaped(
  shape: Shape,
  fields: [string, unknown][],
  json: boolean,
  pick: number,
  bytes: Uint8Array,
): { type?: string; body?: Uint8Array; note?: string } {
  const form = urlencoded(fields)
  const asJson = json ? jsonWith(fields) : JSON.stringify(Object.fromEntries(fields.map(([n, v]) => [n, isValue(v) ? asText(v) : v])))
  const boundary = '----fuzz7MA4YWxkTrZu0gW'
  const parts = multipart(fields, boundary)
  const named = fields[pick % Math.max(fields.length, 1)]?.[0]
  const utf8 = (s: string) => Buffer.from(s, 'utf8')
  switch (shape) {
    case 'none':
      return {}
    case 'empty':
      return { type: 'application/x-www-form-urlencoded', body: new Uint8Array() }
    case 'json':
      return { type: 'application/json', body: utf8(asJson) }
    case 'json-garbage':
      return { type: 'application/json', body: utf8(asJson.slice(0, Math.max(1, asJson.length >> 1))) }
    case 'json-array':
      return { type: 'application/json', body: utf8(`[${asJson},null,1]`) }
    case 'json-deep':
      return { type: 'application/json', body: utf8(`${'['.repeat(50_000)}${']'.repeat(50_000)}`) }
    case 'text':
      return { type: 'text/plain', body: utf8(fields.map(([n, v]) => `${n}=${isValue(v) ? asText(v) : String(v)}`).join('\r\n')) }
    case 'binary':
      return { type: 'application/octet-stream', body: bytes }
    case 'multipart':
      return { type: `multipart/form-data; boundary=${boundary}`, body: parts }
    case 'multipart-no-boundary':
      return { type: 'multipart/form-data', body: parts }
    case 'multipart-broken':
      return { type: `multipart/form-data; boundary=${boundary}`, body: parts.subarray(0, Math.max(1, parts.length >> 1)) }
    case 'multipart-wrong-boundary':
      return { type: 'multipart/form-data; boundary=AaB03x', body: parts }
    case 'multipart-file':
      return { type: `multipart/form-data; boundary=${boundary}`, body: multipart(fields, boundary, named), note: `${named} as a file` }
    case 'urlencoded-as-json':
      return { type: 'application/x-www-form-urlencoded', body: utf8(asJson) }
    case 'odd-content-type': {
      const type = ODD_CONTENT_TYPES[pick % ODD_CONTENT_TYPES.length]!
      return { type, body: utf8(json ? asJson : form), note: JSON.stringify(type.slice(0, 40)) }
    }
    case 'utf16':
      return {
        type: `${json ? 'application/json' : 'application/x-www-form-urlencoded'}; charset=utf-16le`,
        body: Buffer.from(json ? asJson : form, 'utf16le'),
      }
    case 'bad-percent':
      return { type: 'application/x-www-form-urlencoded', body: utf8(`${form}&%=%E0%A4%A&%zz=%&a%00b=%FF`) }
    case 'big':
      return json
        ? { type: 'application/json', body: utf8(jsonWith(fields, named, JSON.stringify('x'.repeat(1_200_000)))) }
        : { type: 'application/x-www-form-urlencoded', body: utf8(`${form}&${pct(named ?? 'x')}=${'x'.repeat(1_200_000)}`) }
    case 'many-fields':
      return { type: 'application/x-www-form-urlencoded', body: utf8(`${form}${'&f=1'.repeat(30_000)}`) }
    case 'bom':
      return { type: json ? 'application/json' : 'application/x-www-form-urlencoded', body: utf8(`\uFEFF${json ? asJson : form}`) }
  }
}

const foreignHeaders = (f: Foreign): Record<string, string> => ({
  ...('origin' in f ? { Origin: f.origin } : {}),
  ...('fetchSite' in f ? { 'Sec-Fetch-Site': f.fetchSite } : {}),
})

/** The request for one attack on one endpoint. */
export function buildCase(endpoint: Endpoint, base: Base, attack: Attack, singleFetch: boolean): Case {
  const json = base.type === 'json'
  const names = base.fields.map(([n]) => n)
  const pickName = (pick: number) => names[pick % Math.max(names.length, 1)]
  let fields = base.fields.slice()
  let method: string = endpoint.method
  const headers: Record<string, string> = { ...endpoint.headers?.() }
  let credentials: Case['credentials'] = 'valid'
  let refuse: string | null = null
  let label = ''
  let cookieAttack: CookieAttack | undefined
  let extraCookie: string | undefined
  let shape: ReturnType<typeof shaped> | null = null
  let multipartBody = base.multipart === true
  let jsonBody: string | undefined

  switch (attack.t) {
    case 'set':
    case 'repeat': {
      const name = pickName(attack.pick)
      if (!name) break
      // Redirect targets get the open-redirect table most of the time.
      const value: Value = attack.t === 'set' && /redirect/i.test(name) && attack.pick % 4 !== 0 ? { text: attack.redirect } : attack.value
      label = `${attack.t === 'set' ? '' : 'a second '}${name}=${describeValue(value)}`
      const spec = base.specs[name]
      if (json && !name.startsWith(':')) {
        jsonBody = jsonWith(fields, name, jsonLiteral(value))
        refuse = refuseJson(spec, jsonLiteral(value))
      } else {
        fields = attack.t === 'set' ? fields.map(([n, v]) => [n, n === name ? value : v]) : [...fields, [name, value]]
        if (attack.t === 'set' && spec) refuse = mustRefuse(spec, asText(value))
      }
      multipartBody ||= attack.t === 'set' && attack.multipart
      break
    }
    case 'remove': {
      const name = pickName(attack.pick)
      if (!name || name.startsWith(':')) break
      label = `without ${name}`
      fields = fields.filter(([n]) => n !== name)
      if (json) jsonBody = jsonWith(base.fields, undefined, undefined, name)
      const spec = base.specs[name]
      if (spec) refuse = mustRefuse(spec, null)
      multipartBody ||= attack.multipart
      break
    }
    case 'index': {
      const name = pickName(attack.pick)
      if (!name || name.startsWith(':')) break
      const renamed = `${name}[${attack.index}]${attack.nested ? '.x[0]' : ''}`
      label = `field name ${renamed}`
      fields = fields.map(([n, v]) => [n === name ? renamed : n, v])
      if (json) jsonBody = jsonWith(fields)
      multipartBody ||= attack.multipart
      break
    }
    case 'unknown':
      label = `unknown field ${JSON.stringify(attack.name)}=${describeValue(attack.value)}`
      fields = [...fields, [attack.name, attack.value]]
      if (json) jsonBody = jsonWith(base.fields, attack.name, jsonLiteral(attack.value))
      break
    case 'shape':
      shape = shaped(
        attack.shape,
        fields.filter(([n]) => !n.startsWith(':')),
        json,
        attack.pick,
        attack.bytes,
      )
      label = `body: ${attack.shape}${shape.note ? ` (${shape.note})` : ''}`
      break
    case 'method':
      method = attack.method
      label = `method ${method}`
      break
    case 'cookie': {
      const c = attack.cookie
      label = `cookie: ${c.t}${c.t === 'extra' ? ` ${c.name}=${JSON.stringify(c.value.slice(0, 30))}` : c.t === 'garbage' ? ` ${JSON.stringify(c.header.slice(0, 30))}` : ''}`
      if (c.t === 'extra') extraCookie = `${c.name}=${c.value}`
      else if (c.t === 'none') credentials = 'none'
      else {
        credentials = 'replaced'
        cookieAttack = c
      }
      break
    }
    case 'origin':
      Object.assign(headers, foreignHeaders(attack.foreign))
      label = `cross-site: ${JSON.stringify(attack.foreign)}`
      if (!endpoint.api && endpoint.method !== 'GET') refuse = 'a cross-site request to change something'
      break
    case 'valid':
      label = 'the request as the page sends it'
      break
  }

  let path = endpoint.path
  for (const [name, value] of fields) {
    if (!name.startsWith(':')) continue
    path = path.replace(name, isValue(value) ? encodeValue(value) : pct(String(value)))
  }
  if (endpoint.page && singleFetch) {
    path = path === '/' ? '/_root.data' : `${path}.data`
    label += ' (single fetch)'
  }
  const sent = fields.filter(([n]) => !n.startsWith(':'))
  let body: Uint8Array | undefined
  if (base.type === 'query' || method === 'GET' || method === 'HEAD') {
    const query = base.type === 'query' ? urlencoded(sent) : ''
    if (query) path += `?${query}`
  }
  if (method !== 'GET' && method !== 'HEAD') {
    if (shape) {
      if (shape.type !== undefined) headers['Content-Type'] = shape.type
      body = shape.body
    } else if (base.type === 'json') {
      headers['Content-Type'] = 'application/json'
      body = Buffer.from(jsonBody ?? jsonWith(base.fields), 'utf8')
    } else if (base.type === 'form') {
      const boundary = '----fuzzBoundary1961'
      headers['Content-Type'] = multipartBody ? `multipart/form-data; boundary=${boundary}` : 'application/x-www-form-urlencoded'
      body = multipartBody ? multipart(sent, boundary) : Buffer.from(urlencoded(sent), 'utf8')
    }
  }
  // A browser's own request: same origin. The origin attack overrides it.
  if (!endpoint.api && method !== 'GET' && method !== 'HEAD' && attack.t !== 'origin') {
    headers.Origin = APP_URL
    headers['Sec-Fetch-Site'] = 'same-origin'
  }
  if (multipartBody) label += ' (multipart)'
  // Only the request the endpoint is for can be held to a refusal: another method is refused or not by Remix.
  if (method !== endpoint.method) refuse = null
  return { label: label || attack.t, method, path, headers, body, credentials, cookieAttack, extraCookie, refuse: refuse ?? undefined }
}
