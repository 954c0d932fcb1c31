/**
 * The session cookie: an encrypted JWE (dir + A256GCM) that opens only unchanged, unexpired and
 * under one of SESSION_SECRETS, small enough for a realistic Entra refresh token, and carrying
 * the __Host- attributes in production.
 */
import { randomBytes, randomUUID } from 'node:crypto'
import { base64url } from 'jose'
import { describe, expect, it } from 'vitest'
import {
  openSession,
  SESSION_MAX_AGE_SECONDS,
  sealJson,
  sealSession,
  sessionCookieName,
  sessionSetCookie,
  type SessionData,
} from '../../app/auth/session.server'
import type { Env } from '../../app/utils/env.server'

const production = (secrets: string) => ({ APP_ENV: 'production', SESSION_SECRETS: secrets }) as Env
const env = production('a,b')
const now = () => Math.floor(Date.now() / 1000)
/** base64url alphabet; 2048 random characters, the size of a large Entra refresh token. */
const refreshToken = (length = 2048) =>
  randomBytes(length * 2)
    .toString('base64url')
    .slice(0, length)

function session(overrides: Partial<SessionData> = {}): SessionData {
  return { sid: randomUUID(), uid: randomUUID(), cid: randomUUID(), rt: refreshToken(), at: now() + 3600, end: now() + SESSION_MAX_AGE_SECONDS, ...overrides }
}

/** Replaces the character at `index` with a different one of the base64url alphabet. */
function flip(part: string, index: number) {
  const c = part[index]!
  return part.slice(0, index) + (c === 'A' ? 'B' : 'A') + part.slice(index + 1)
}

describe('session cookie sealing', () => {
  it('round-trips seal/open', async () => {
    const data = session()
    const sealed = await sealSession(env, data)
    await expect(openSession(env, sealed)).resolves.toEqual(data)
  })

  it('is a compact JWE (dir, A256GCM, kid) whose value does not reveal the refresh token', async () => {
    const data = session()
    const sealed = await sealSession(env, data)
    const parts = sealed.split('.')
    expect(parts).toHaveLength(5)
    const header = JSON.parse(new TextDecoder().decode(base64url.decode(parts[0]!)))
    expect(header).toEqual({ alg: 'dir', enc: 'A256GCM', kid: expect.any(String) })
    expect(parts[1]).toBe('') // dir: no encrypted key

    const cookie = sessionSetCookie(env, sealed)
    const needles = [
      data.rt,
      data.rt.slice(0, 32),
      data.rt.slice(-32),
      Buffer.from(data.rt).toString('base64'),
      Buffer.from(data.rt).toString('base64url'),
      Buffer.from(JSON.stringify(data)).toString('base64url').slice(0, 40),
      data.uid,
    ]
    for (const needle of needles) expect(cookie).not.toContain(needle)
    // Nor in the decoded bytes of any part (a signed-only JWT would show it in its payload).
    for (const part of parts) expect(Buffer.from(base64url.decode(part)).toString('latin1')).not.toContain(data.rt.slice(0, 32))
  })

  it('refuses to seal without SESSION_SECRETS', async () => {
    await expect(sealSession(production(' , '), session())).rejects.toThrow('SESSION_SECRETS')
    await expect(openSession(production(''), await sealSession(env, session()))).resolves.toBeNull()
  })

  it.each([0, 1, 2, 3, 4])('a cookie with JWE part %i tampered opens as null', async (index) => {
    const sealed = await sealSession(env, session())
    await expect(openSession(env, sealed)).resolves.not.toBeNull() // control: untampered opens
    const parts = sealed.split('.')
    const part = parts[index]!
    // Part 1 (encrypted key) is empty under dir: tamper by adding one instead. Elsewhere flip a
    // middle character (all six bits significant there, so the decoded bytes really change).
    parts[index] = part === '' ? 'AAAAAAAAAAAAAAAAAAAAAA' : flip(part, Math.floor(part.length / 2))
    const tampered = parts.join('.')
    expect(tampered).not.toBe(sealed)
    await expect(openSession(env, tampered)).resolves.toBeNull()
  })

  it('a header re-encoded with the same kid (ciphertext intact) opens as null: the header is authenticated', async () => {
    const sealed = await sealSession(env, session())
    const [header, ...rest] = sealed.split('.')
    const decoded = JSON.parse(new TextDecoder().decode(base64url.decode(header!)))
    const reencoded = base64url.encode(JSON.stringify({ ...decoded, x: 1 }))
    await expect(openSession(env, [reencoded, ...rest].join('.'))).resolves.toBeNull()
  })

  it('a cookie without a server-side session id (sealed before sessions had rows) opens as null', async () => {
    const { sid: _sid, ...before } = session()
    await expect(openSession(env, await sealJson(env, 'session', before))).resolves.toBeNull()
    await expect(openSession(env, await sealJson(env, 'session', { ...before, sid: 'not-a-uuid' }))).resolves.toBeNull()
    await expect(openSession(env, await sealJson(env, 'session', { ...before, sid: randomUUID() }))).resolves.not.toBeNull()
  })

  it.each([undefined, '', 'garbage', 'a.b.c.d.e', '....'])('opens %j as null', async (value) => {
    await expect(openSession(env, value)).resolves.toBeNull()
  })

  it("rotation: sealed under 'old' opens with 'new,old', not with 'new'", async () => {
    const data = session()
    const sealed = await sealSession(production('old'), data)
    await expect(openSession(production('new,old'), sealed)).resolves.toEqual(data)
    await expect(openSession(production('new'), sealed)).resolves.toBeNull()
    // After rotation the first secret seals, and the retired one no longer opens it.
    const resealed = await sealSession(production('new,old'), data)
    await expect(openSession(production('new'), resealed)).resolves.toEqual(data)
    await expect(openSession(production('old'), resealed)).resolves.toBeNull()
  })

  it('an expired session (end in the past) opens as null', async () => {
    const past = await sealSession(env, session({ end: now() - 1 }))
    await expect(openSession(env, past)).resolves.toBeNull()
    const endsNow = await sealSession(env, session({ end: now() }))
    await expect(openSession(env, endsNow)).resolves.toBeNull()
    // An expired access token alone does not end the session (it is refreshed instead).
    const staleAccess = await sealSession(env, session({ at: now() - 600 }))
    await expect(openSession(env, staleAccess)).resolves.not.toBeNull()
  })
})

describe('session Set-Cookie header', () => {
  it('fits a 2 KB refresh token in well under the 4096-byte cookie limit', async () => {
    const data = session({ rt: refreshToken(2048) })
    expect(data.rt).toMatch(/^[A-Za-z0-9_-]{2048}$/)
    const header = sessionSetCookie(env, await sealSession(env, data))
    const bytes = new TextEncoder().encode(header).length
    const valueBytes = header.split(';')[0]!.length
    console.log(`session Set-Cookie with a 2048-char refresh token: ${bytes} bytes (name=value ${valueBytes} bytes)`)
    expect(bytes).toBeLessThan(4096)
  })

  it('production: __Host- name, Secure, HttpOnly, SameSite=Lax, Path=/, no Domain; clearing sets Max-Age=0', async () => {
    const header = sessionSetCookie(env, await sealSession(env, session()))
    const [nameValue, ...attributes] = header.split(';').map((s) => s.trim())
    const name = nameValue!.slice(0, nameValue!.indexOf('='))
    expect(name).toBe(sessionCookieName(env))
    expect(name.startsWith('__Host-')).toBe(true)
    const lower = attributes.map((a) => a.toLowerCase())
    expect(lower).toEqual(expect.arrayContaining(['secure', 'httponly', 'samesite=lax', 'path=/', `max-age=${SESSION_MAX_AGE_SECONDS}`]))
    expect(lower.some((a) => a.startsWith('domain'))).toBe(false)
    expect(lower.some((a) => a.startsWith('expires'))).toBe(false)

    const cleared = sessionSetCookie(env, null)
    expect(cleared.startsWith(`${name}=;`)).toBe(true)
    const clearedAttributes = cleared
      .split(';')
      .slice(1)
      .map((s) => s.trim().toLowerCase())
    expect(clearedAttributes).toEqual(expect.arrayContaining(['max-age=0', 'secure', 'path=/', 'httponly', 'samesite=lax']))
    expect(clearedAttributes.some((a) => a.startsWith('domain'))).toBe(false)
  })

  it('an unset APP_ENV is treated as production; development drops __Host- and Secure', () => {
    expect(sessionSetCookie({ SESSION_SECRETS: 'a' } as Env, 'v')).toMatch(/^__Host-.*; Secure; /)
    const dev = sessionSetCookie({ APP_ENV: 'development', SESSION_SECRETS: 'a' } as Env, 'v')
    expect(dev.startsWith('intakepilot_session=v;')).toBe(true)
    expect(dev).not.toMatch(/Secure/i)
  })
})
