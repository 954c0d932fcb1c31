/**
 * The referral draft (app/referrals/draft.server.ts): kept only for the user and clinic the form
 * was given to, encrypted under the PHI key ring, dropped on any mismatch or tampering, and kept
 * by the pipeline's unavailable path only for a bounded referral form.
 */
import { randomUUID } from 'node:crypto'
import { base64url } from 'jose'
import { describe, expect, inject, it } from 'vitest'
import { DRAFT_OWNER_FIELD, draftOwnerToken, keepDraftWhileUnavailable, stashDraft, takeDraft, type DraftOwner } from '../../app/referrals/draft.server'
import type { Env } from '../../app/utils/env.server'

const secrets = inject('secrets')
const env = {
  APP_ENV: 'development',
  SESSION_SECRETS: secrets.sessionSecrets,
  PHI_KEYRING: secrets.phiKeyRing,
  PHI_BLIND_INDEX_KEY: secrets.phiBlindIndexKey,
} as Env
const owner = (): DraftOwner => ({ userId: randomUUID(), clinicId: randomUUID() })
const PATIENT = { patient_last_name: 'Okonkwo-Draftson', health_card_number: '9876-543-210-XY', reason: 'Knee pain, 3 weeks' }

async function form(of: DraftOwner | null, values: Record<string, string> = PATIENT) {
  const data = new FormData()
  data.set('idempotencyKey', randomUUID())
  data.set('formVersion', '1')
  for (const [k, v] of Object.entries(values)) data.set(k, v)
  if (of) data.set(DRAFT_OWNER_FIELD, await draftOwnerToken(env, of))
  return data
}
/** The browser's next request, carrying the cookies the Set-Cookie headers made. */
const browserWith = (setCookies: string[]) =>
  new Request('http://127.0.0.1/referrals/new', { headers: { Cookie: setCookies.map((c) => c.split(';')[0]).join('; ') } })

describe('referral draft', () => {
  it('comes back to its own user in their clinic, once; the cookie clears', async () => {
    const me = owner()
    const data = await form(me)
    const cookies = await stashDraft(env, data, 'signed-out')
    expect(cookies.length).toBeGreaterThan(0)
    const { draft, setCookies } = await takeDraft(env, browserWith(cookies), me)
    expect(draft).toMatchObject({ values: PATIENT, idempotencyKey: data.get('idempotencyKey'), reason: 'signed-out' })
    expect(draft!.values).not.toHaveProperty(DRAFT_OWNER_FIELD)
    expect(setCookies).toHaveLength(cookies.length)
    for (const c of setCookies) expect(c).toMatch(/Max-Age=0/)
  })

  it('is dropped (and cleared) for another user, or the same user in another clinic', async () => {
    const me = owner()
    const cookies = await stashDraft(env, await form(me), 'signed-out')
    for (const other of [{ ...owner(), clinicId: me.clinicId }, { ...me, clinicId: randomUUID() }, owner()]) {
      const { draft, setCookies } = await takeDraft(env, browserWith(cookies), other)
      expect(draft).toBeNull()
      expect(setCookies.length).toBe(cookies.length)
    }
  })

  it('is encrypted under the PHI key ring: no value, id or patient detail readable in the cookie', async () => {
    const me = owner()
    const cookies = await stashDraft(env, await form(me), 'unavailable')
    const raw = cookies.map((c) => c.split(';')[0]!.split('=')[1]).join('')
    const [header, ct] = raw.split('.')
    const decodedCt = Buffer.from(base64url.decode(ct!)).toString('latin1')
    for (const value of Object.values(PATIENT)) {
      expect(raw).not.toContain(value)
      expect(decodedCt).not.toContain(value)
    }
    expect(JSON.parse(Buffer.from(base64url.decode(header!)).toString())).toMatchObject({ v: 1, u: me.userId, c: me.clinicId, r: 'unavailable', kid: 'k1' })
    // Another PHI key ring (say, another deployment) cannot open it.
    const otherRing = { ...env, PHI_KEYRING: JSON.stringify({ current: 'k1', keys: { k1: Buffer.alloc(32, 7).toString('base64') } }) }
    expect((await takeDraft(otherRing, browserWith(cookies), me)).draft).toBeNull()
  })

  it('moved to another user by editing its header, it does not decrypt', async () => {
    const [me, them] = [owner(), owner()]
    const cookies = await stashDraft(env, await form(me), 'signed-out')
    const raw = cookies.map((c) => c.split(';')[0]!.split('=')[1]).join('')
    const [header, ct] = raw.split('.')
    const edited = { ...JSON.parse(Buffer.from(base64url.decode(header!)).toString()), u: them.userId, c: them.clinicId }
    const forged = [`intakepilot_draft_0=${base64url.encode(JSON.stringify(edited))}.${ct}`]
    expect((await takeDraft(env, browserWith(forged), them)).draft).toBeNull()
    // Control: the untouched draft opens for its owner.
    expect((await takeDraft(env, browserWith(cookies), me)).draft).not.toBeNull()
  })

  it('is not kept without a valid owner token: none, forged, or sealed for another purpose', async () => {
    expect(await stashDraft(env, await form(null), 'signed-out')).toEqual([])
    const forged = await form(null)
    forged.set(DRAFT_OWNER_FIELD, 'eyJhbGciOiJkaXIifQ..x.y.z')
    expect(await stashDraft(env, forged, 'signed-out')).toEqual([])
    const { sealSession } = await import('../../app/auth/session.server')
    const wrongPurpose = await form(null)
    wrongPurpose.set(DRAFT_OWNER_FIELD, await sealSession(env, { sid: randomUUID(), uid: randomUUID(), cid: null, rt: 'x', at: 0, end: 9e9 }))
    expect(await stashDraft(env, wrongPurpose, 'signed-out')).toEqual([])
  })

  it('garbage draft cookies open as nothing, never an error', async () => {
    for (const value of ['', '.', 'a.b', 'x.y.z', `${base64url.encode('null')}.AAAA`, `${base64url.encode('{"v":1}')}.AAAA`]) {
      const request = new Request('http://127.0.0.1/referrals/new', { headers: { Cookie: `intakepilot_draft_0=${value}` } })
      await expect(takeDraft(env, request, owner()).then((r) => r.draft)).resolves.toBeNull()
    }
  })
})

describe('keepDraftWhileUnavailable (the pipeline, database down)', () => {
  const post = async (path: string, body: BodyInit, type?: string) =>
    new Request(`http://127.0.0.1${path}`, { method: 'POST', body, headers: type ? { 'Content-Type': type } : {} })

  it('keeps a referral form sent to the page or as single-fetch data', async () => {
    const me = owner()
    for (const path of ['/referrals/new', '/referrals/new.data']) {
      const body = new URLSearchParams([...(await form(me)).entries()] as [string, string][])
      const cookies = await keepDraftWhileUnavailable(await post(path, body), env)
      expect(cookies.length, path).toBeGreaterThan(0)
      expect((await takeDraft(env, browserWith(cookies), me)).draft).toMatchObject({ values: PATIENT, reason: 'unavailable' })
    }
  })

  it('keeps nothing for other pages, other content types, or a body over 64 KB', async () => {
    const me = owner()
    const body = () => form(me).then((f) => new URLSearchParams([...f.entries()] as [string, string][]))
    expect(await keepDraftWhileUnavailable(await post('/queue', await body()), env)).toEqual([])
    expect(await keepDraftWhileUnavailable(await post('/referrals/new', JSON.stringify(PATIENT), 'application/json'), env)).toEqual([])
    const big = await body()
    big.set('reason', 'x'.repeat(70 * 1024))
    expect(await keepDraftWhileUnavailable(await post('/referrals/new', big), env)).toEqual([])
    expect(await keepDraftWhileUnavailable(new Request('http://127.0.0.1/referrals/new'), env)).toEqual([])
  })
})
