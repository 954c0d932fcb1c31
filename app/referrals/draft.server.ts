/**
 * A referral form that arrives after the session has ended is not lost: its values are
 * sealed (JWE, server key) into short-lived cookies in the referrer's own browser, and put
 * back into the form after they sign in again. Works without JavaScript; nothing is stored
 * server-side for an unknown user. The cookie is split into chunks (4 KB per cookie).
 */
import { isProduction, type Env } from '~/server/env.server'
import { openJson, readCookie, sealJson } from '~/auth/session.server'

export type ReferralDraft = { values: Record<string, string>; idempotencyKey: string; savedAt: number }

const PURPOSE = 'referral-draft'
const CHUNK = 3800
const MAX_CHUNKS = 12
const MAX_AGE_SECONDS = 60 * 60

const cookieName = (env: Env, i: number) => `${isProduction(env) ? '__Host-' : ''}intakepilot_draft_${i}`
const attributes = (env: Env, maxAge: number) =>
  ['Path=/', 'HttpOnly', 'SameSite=Lax', `Max-Age=${maxAge}`, ...(isProduction(env) ? ['Secure'] : [])].join('; ')

/** Set-Cookie headers holding the draft; none if it would not fit. */
export async function stashDraft(env: Env, formData: FormData): Promise<string[]> {
  const values: Record<string, string> = {}
  for (const [key, value] of formData) if (typeof value === 'string' && !key.startsWith('__')) values[key] = value
  const draft: ReferralDraft = { values, idempotencyKey: String(formData.get('idempotencyKey') ?? ''), savedAt: Date.now() }
  const sealed = await sealJson(env, PURPOSE, draft)
  const chunks = sealed.match(new RegExp(`.{1,${CHUNK}}`, 'g')) ?? []
  if (chunks.length > MAX_CHUNKS) return []
  return chunks.map((chunk, i) => `${cookieName(env, i)}=${chunk}; ${attributes(env, MAX_AGE_SECONDS)}`)
}

export async function readDraft(env: Env, request: Request): Promise<ReferralDraft | null> {
  let sealed = ''
  for (let i = 0; i < MAX_CHUNKS; i++) {
    const part = readCookie(request, cookieName(env, i))
    if (!part) break
    sealed += part
  }
  return sealed ? openJson<ReferralDraft>(env, PURPOSE, sealed) : null
}

export function clearDraft(env: Env, request: Request): string[] {
  const headers: string[] = []
  for (let i = 0; i < MAX_CHUNKS; i++) {
    if (readCookie(request, cookieName(env, i)) === undefined) break
    headers.push(`${cookieName(env, i)}=; ${attributes(env, 0)}`)
  }
  return headers
}
