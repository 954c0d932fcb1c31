/**
 * The session cookie: encrypted (JWE, dir + A256GCM), not only signed, so the refresh token
 * inside it is unreadable. The first of SESSION_SECRETS encrypts; every one decrypts, so a
 * secret can be rotated without signing everyone out. It holds only what the server needs:
 * ids, the refresh token and the access-token expiry (Entra tokens are large; 4 KB limit).
 * The cookie alone signs nobody in: `sid` names a row in `sessions`, which request_start checks
 * on every request, and which sign-out, a disable and a role change end
 * (docs/decisions/020-server-side-sessions.md).
 */
import { sql } from 'drizzle-orm'
import { base64url, compactDecrypt, CompactEncrypt } from 'jose'
import { isProduction, type Env } from '~/utils/env.server'
import type { TenantTx } from '~/tenancy/tenant.server'

export type SessionData = {
  /** The server-side session (sessions.id): live until it ends or is ended. */
  sid: string
  /** IntakePilot user id. */
  uid: string
  /** The clinic a superadmin has switched to; others are always in their own. */
  cid: string | null
  /** Entra refresh token (rotated on each refresh). */
  rt: string
  /** When the access token expires (epoch seconds): refresh after this. */
  at: number
  /** When the session itself ends (epoch seconds), whatever the refreshes. */
  end: number
}

export const SESSION_MAX_AGE_SECONDS = 12 * 60 * 60
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
const encoder = new TextEncoder()

export function sessionCookieName(env: Pick<Env, 'APP_ENV'>) {
  // __Host- pins the cookie to this origin (Secure, Path=/, no Domain). Plain HTTP on
  // 127.0.0.1 in development cannot carry it.
  return isProduction(env) ? '__Host-intakepilot_session' : 'intakepilot_session'
}

type Key = { id: string; key: Uint8Array }

/**
 * The keys of each purpose, derived once per isolate (two SHA-256 digests per secret) and kept
 * while SESSION_SECRETS stays the same; a handful of purposes, so a handful of entries.
 */
const derived = new Map<string, Promise<Key[]>>()
function keysFrom(secrets: string | undefined, purpose = 'session'): Promise<Key[]> {
  const cacheKey = `${purpose}\0${secrets ?? ''}`
  let keys = derived.get(cacheKey)
  if (!keys) {
    if (derived.size >= 32) derived.clear()
    keys = deriveKeys(secrets, purpose)
    derived.set(cacheKey, keys)
    keys.catch(() => derived.delete(cacheKey))
  }
  return keys
}

async function deriveKeys(secrets: string | undefined, purpose: string): Promise<Key[]> {
  const list = (secrets ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
  if (!list.length) throw new Error('SESSION_SECRETS is not configured')
  return Promise.all(
    list.map(async (secret) => {
      const key = new Uint8Array(await crypto.subtle.digest('SHA-256', encoder.encode(`intakepilot/${purpose}/${secret}`)))
      const id = base64url.encode(new Uint8Array(await crypto.subtle.digest('SHA-256', key)).slice(0, 6))
      return { id, key }
    }),
  )
}

export async function sealSession(env: Env, data: SessionData) {
  return sealJson(env, 'session', data)
}

/**
 * Encrypts JSON for a cookie under SESSION_SECRETS; `purpose` separates the keys, so a value
 * sealed for one cookie cannot be replayed as another.
 */
export async function sealJson(env: Env, purpose: string, data: unknown) {
  const [current] = await keysFrom(env.SESSION_SECRETS, purpose)
  return new CompactEncrypt(encoder.encode(JSON.stringify(data))).setProtectedHeader({ alg: 'dir', enc: 'A256GCM', kid: current!.id }).encrypt(current!.key)
}

/** null for anything that is not a value we sealed for this purpose, unchanged. */
export async function openJson<T>(env: Env, purpose: string, token: string | undefined): Promise<T | null> {
  if (!token) return null
  try {
    const keys = await keysFrom(env.SESSION_SECRETS, purpose)
    const header = JSON.parse(new TextDecoder().decode(base64url.decode(token.split('.')[0] ?? ''))) as { kid?: unknown }
    const key = keys.find((k) => k.id === header.kid)
    if (!key) return null
    const { plaintext } = await compactDecrypt(token, key.key, { keyManagementAlgorithms: ['dir'], contentEncryptionAlgorithms: ['A256GCM'] })
    return JSON.parse(new TextDecoder().decode(plaintext)) as T
  } catch {
    return null
  }
}

/** null for anything that is not a session we made, unchanged and unexpired. */
export async function openSession(env: Env, token: string | undefined): Promise<SessionData | null> {
  try {
    const data = await openJson<SessionData>(env, 'session', token)
    if (!data) return null
    if (typeof data.sid !== 'string' || !UUID.test(data.sid)) return null
    if (typeof data.uid !== 'string' || !UUID.test(data.uid) || typeof data.rt !== 'string' || typeof data.end !== 'number') return null
    if (data.end <= Math.floor(Date.now() / 1000)) return null
    return data
  } catch {
    return null
  }
}

export function readCookie(request: Request, name: string) {
  const header = request.headers.get('Cookie') ?? ''
  for (const part of header.split(';')) {
    const [k, ...v] = part.trim().split('=')
    if (k === name) return v.join('=')
  }
  return undefined
}

export function sessionSetCookie(env: Env, value: string | null) {
  const attributes = ['Path=/', 'HttpOnly', 'SameSite=Lax']
  if (isProduction(env)) attributes.push('Secure')
  attributes.push(value === null ? 'Max-Age=0' : `Max-Age=${SESSION_MAX_AGE_SECONDS}`)
  return `${sessionCookieName(env)}=${value ?? ''}; ${attributes.join('; ')}`
}

/**
 * Sign-in: the server-side session for an active user (drizzle/0015 session_start), in the
 * transaction that records the sign-in. Its end (epoch seconds) is the cookie's `end`.
 */
export async function startServerSession(tx: TenantTx, userId: string): Promise<{ sid: string; end: number }> {
  const result = await tx.execute<{ session_id: string; ends_at: string | number }>(
    sql`select * from session_start(${userId}::uuid, ${SESSION_MAX_AGE_SECONDS})`,
  )
  const row = result.rows[0]
  if (!row) throw new Error('session_start returned no session')
  return { sid: row.session_id, end: Number(row.ends_at) }
}

/** Sign-out: ends this session for good; its cookie, replayed, signs nobody in. Runs as the signed-in user. */
export async function endServerSession(tx: TenantTx, sid: string) {
  await tx.execute(sql`select session_end(${sid}::uuid)`)
}
