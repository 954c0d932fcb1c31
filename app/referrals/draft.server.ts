/**
 * A referral form that could not be sent is not lost: when the session ended mid-form, or the
 * database was unavailable, its values are kept in short-lived cookies in the referrer's own
 * browser and put back into the form when it is next opened. Works without JavaScript; nothing
 * is stored server-side. (docs/decisions/020-server-side-sessions.md)
 *
 * - Bound to the user and clinic the form was given to: the page carries a sealed owner token
 *   (hidden field) that says who, so the draft knows its owner even after the session is gone.
 *   It is offered only to that user in that clinic; anyone else who opens the form in the
 *   browser gets an empty form and the draft is dropped.
 * - PHI: the values are encrypted under the PHI key ring (the clinic's data key), with the
 *   owner, expiry and reason as additional authenticated data.
 * - Cleared on sign-out, and once offered.
 * The cookie is split into chunks (4 KB per cookie).
 */
import { base64url } from 'jose'
import { openJson, readCookie, sealJson } from '~/auth/session.server'
import { fromBase64, phiCipherFromEnv, toBase64, type FieldBinding } from '~/crypto/phi.server'
import { isProduction, type Env } from '~/utils/env.server'
import { DRAFT_OWNER_FIELD } from './draft'

/** Why the draft was kept: the page says which. */
export type DraftReason = 'signed-out' | 'unavailable'
export type DraftOwner = { userId: string; clinicId: string }
export type ReferralDraft = { values: Record<string, string>; idempotencyKey: string; reason: DraftReason }

/** The hidden field of the referral form that carries its owner token. */
export { DRAFT_OWNER_FIELD }

const OWNER_PURPOSE = 'referral-draft-owner'
const CHUNK = 3800
const MAX_CHUNKS = 12
const MAX_AGE_SECONDS = 60 * 60
/** A form left open this long, then sent, still keeps its draft. */
const OWNER_TOKEN_SECONDS = 13 * 60 * 60
/** What the unavailable path reads of a body (the form limit). */
const MAX_BODY_BYTES = 64 * 1024
const VALUE_KEY = /^[A-Za-z][A-Za-z0-9_]{0,63}$/
const MAX_VALUES = 200
const MAX_VALUE_LENGTH = 20_000

const cookieName = (env: Env, i: number) => `${isProduction(env) ? '__Host-' : ''}intakepilot_draft_${i}`
const attributes = (env: Env, maxAge: number) =>
  ['Path=/', 'HttpOnly', 'SameSite=Lax', `Max-Age=${maxAge}`, ...(isProduction(env) ? ['Secure'] : [])].join('; ')
const nowSeconds = () => Math.floor(Date.now() / 1000)

type OwnerToken = { u: string; c: string; exp: number }
type Header = { v: 1; u: string; c: string; exp: number; r: DraftReason; kid: string; iv: string }

/** The owner token for the form's hidden field: the user and clinic it was given to (sealed). */
export function draftOwnerToken(env: Env, owner: DraftOwner): Promise<string> {
  return sealJson(env, OWNER_PURPOSE, { u: owner.userId, c: owner.clinicId, exp: nowSeconds() + OWNER_TOKEN_SECONDS } satisfies OwnerToken)
}

async function ownerOf(env: Env, formData: FormData): Promise<DraftOwner | null> {
  const token = formData.get(DRAFT_OWNER_FIELD)
  if (typeof token !== 'string' || token.length > 1000) return null
  const owner = await openJson<OwnerToken>(env, OWNER_PURPOSE, token)
  if (!owner || typeof owner.u !== 'string' || typeof owner.c !== 'string' || typeof owner.exp !== 'number') return null
  return owner.exp > nowSeconds() ? { userId: owner.u, clinicId: owner.c } : null
}

const binding = (h: Pick<Header, 'u' | 'c' | 'exp' | 'r'>): FieldBinding => ({ clinicId: h.c, recordId: h.u, field: `referral-draft|${h.exp}|${h.r}` })
const toUrl = (b64: string) => base64url.encode(fromBase64(b64))
const fromUrl = (text: string) => toBase64(base64url.decode(text))

/** Set-Cookie headers holding the draft; none if the form names no valid owner, or it would not fit. */
export async function stashDraft(env: Env, formData: FormData, reason: DraftReason): Promise<string[]> {
  const owner = await ownerOf(env, formData)
  if (!owner) return []
  const values: Record<string, string> = {}
  for (const [key, value] of formData) {
    if (typeof value !== 'string' || key === DRAFT_OWNER_FIELD || !VALUE_KEY.test(key) || value.length > MAX_VALUE_LENGTH) continue
    if (Object.keys(values).length >= MAX_VALUES && !(key in values)) continue
    values[key] = value
  }
  const idempotencyKey = String(formData.get('idempotencyKey') ?? '')
  const header = { v: 1 as const, u: owner.userId, c: owner.clinicId, exp: nowSeconds() + MAX_AGE_SECONDS, r: reason }
  const sealed = await phiCipherFromEnv(env).encrypt(JSON.stringify({ values, idempotencyKey }), binding(header))
  const value = `${base64url.encode(JSON.stringify({ ...header, kid: sealed.kid, iv: toUrl(sealed.iv) } satisfies Header))}.${toUrl(sealed.ct)}`
  const chunks = value.match(new RegExp(`.{1,${CHUNK}}`, 'g')) ?? []
  if (chunks.length > MAX_CHUNKS) return []
  return chunks.map((chunk, i) => `${cookieName(env, i)}=${chunk}; ${attributes(env, MAX_AGE_SECONDS)}`)
}

/**
 * The draft kept in this browser, if it belongs to this user in this clinic and is still good;
 * `setCookies` always clears it (a draft is offered once, and someone else's is dropped).
 */
export async function takeDraft(env: Env, request: Request, owner: DraftOwner): Promise<{ draft: ReferralDraft | null; setCookies: string[] }> {
  const setCookies = clearDraft(env, request)
  if (!setCookies.length) return { draft: null, setCookies }
  return { draft: await openDraft(env, request, owner).catch(() => null), setCookies }
}

async function openDraft(env: Env, request: Request, owner: DraftOwner): Promise<ReferralDraft | null> {
  let value = ''
  for (let i = 0; i < MAX_CHUNKS; i++) {
    const part = readCookie(request, cookieName(env, i))
    if (!part) break
    value += part
  }
  const [encodedHeader, ct, ...rest] = value.split('.')
  if (!encodedHeader || !ct || rest.length) return null
  const header = JSON.parse(new TextDecoder().decode(base64url.decode(encodedHeader))) as Header
  if (header?.v !== 1 || header.u !== owner.userId || header.c !== owner.clinicId) return null
  if (typeof header.exp !== 'number' || header.exp <= nowSeconds()) return null
  if ((header.r !== 'signed-out' && header.r !== 'unavailable') || typeof header.kid !== 'string' || typeof header.iv !== 'string') return null
  // Fails closed: a draft altered, moved to another user or clinic, or under a retired key is dropped.
  const plain = await phiCipherFromEnv(env).decrypt({ v: 1, kid: header.kid, iv: fromUrl(header.iv), ct: fromUrl(ct) }, binding(header))
  const { values, idempotencyKey } = JSON.parse(plain) as { values: unknown; idempotencyKey: unknown }
  if (!values || typeof values !== 'object' || typeof idempotencyKey !== 'string') return null
  const kept: Record<string, string> = {}
  for (const [k, v] of Object.entries(values)) if (VALUE_KEY.test(k) && typeof v === 'string') kept[k] = v
  return { values: kept, idempotencyKey, reason: header.r }
}

/** Set-Cookie headers that remove every draft chunk this browser sent (sign-out, or once offered). */
export function clearDraft(env: Env, request: Request): string[] {
  const headers: string[] = []
  for (let i = 0; i < MAX_CHUNKS; i++) {
    if (readCookie(request, cookieName(env, i)) === undefined) break
    headers.push(`${cookieName(env, i)}=; ${attributes(env, 0)}`)
  }
  return headers
}

/**
 * For the request pipeline, when the database is unavailable before any route ran: a referral
 * form that was being sent is kept as a draft (its owner token says whose, no database needed),
 * so "nothing you entered has been lost" holds. Set-Cookie headers; none for any other request.
 */
export async function keepDraftWhileUnavailable(request: Request, env: Env): Promise<string[]> {
  const { pathname } = new URL(request.url)
  if (request.method !== 'POST' || (pathname !== '/referrals/new' && pathname !== '/referrals/new.data')) return []
  try {
    const formData = await readBoundedForm(request)
    return formData ? await stashDraft(env, formData, 'unavailable') : []
  } catch {
    return []
  }
}

/** The form body, or null when it is not a form or is larger than a form can be. */
async function readBoundedForm(request: Request): Promise<FormData | null> {
  const type = request.headers.get('Content-Type') ?? ''
  if (!/^(application\/x-www-form-urlencoded|multipart\/form-data)\b/i.test(type)) return null
  if (Number(request.headers.get('Content-Length') ?? 0) > MAX_BODY_BYTES || !request.body || request.bodyUsed) return null
  const reader = request.body.getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    size += value.byteLength
    if (size > MAX_BODY_BYTES) {
      await reader.cancel().catch(() => {})
      return null
    }
    chunks.push(value)
  }
  const body = new Uint8Array(size)
  let offset = 0
  for (const chunk of chunks) {
    body.set(chunk, offset)
    offset += chunk.byteLength
  }
  return new Response(body, { headers: { 'Content-Type': type } }).formData()
}
