/**
 * Server-side sessions (drizzle/0015, docs/decisions/020-server-side-sessions.md): a page
 * request is signed in only while its session row is live, checked by request_start in the
 * request's first statement. Sign-out, a disable and a role change end the row, whoever makes
 * the change; a re-enable does not bring an old session back. The runtime role reaches the
 * table only through the functions.
 */
import { randomUUID } from 'node:crypto'
import { and, eq, sql } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { endServerSession, SESSION_MAX_AGE_SECONDS, startServerSession } from '../../app/auth/session.server'
import { connectDatabase } from '../../app/db/client.server'
import { clinics, users } from '../../app/db/schema'
import { requestStarter } from '../../app/tenancy/request-start.server'
import { sqlState, useTestDatabase } from '../support/db'

const { as, owner, config } = useTestDatabase()
// request_start runs outside any transaction, as the runtime role (as the pipeline does).
const runtime = connectDatabase({ url: config.appUrl, wsProxy: config.wsProxy })
afterAll(() => runtime.end())
const start = requestStarter(runtime.db, null)

let clinicId = ''
let adminId = ''
const slug = `sessions-${randomUUID().slice(0, 8)}`

async function newUser(role: 'staff' | 'referrer' | 'admin' = 'staff', status: 'active' | 'invited' = 'active') {
  const [row] = await owner
    .insert(users)
    .values({ clinicId, email: `${role}-${randomUUID().slice(0, 8)}@${slug}.test`, displayName: `${role} of ${slug}`, role, status })
    .returning()
  return row!
}
const open = (userId: string, clinic = clinicId, role = 'staff') =>
  as({ clinicId: clinic, userId, role: role as never }).tenant((tx) => startServerSession(tx, userId))
const page = (userId: string, sessionId: string) => start({ userId, sessionId, switchedClinic: null })
const sessionRow = async (id: string) =>
  (await owner.execute<{ ended_at: string | null; ended_because: string | null }>(sql`select ended_at, ended_because from sessions where id = ${id}`)).rows[0]
/** As the clinic's admin, under RLS: what the users page does. */
const asAdmin = () => as({ clinicId, userId: adminId, role: 'admin' })

beforeAll(async () => {
  const [clinic] = await owner
    .insert(clinics)
    .values({ slug, name: `Sessions ${slug}` })
    .returning()
  clinicId = clinic!.id
  adminId = (await newUser('admin')).id
})

describe('session_start', () => {
  test('opens a live session that ends with the cookie, 12 hours from now', async () => {
    const user = await newUser()
    const before = Math.floor(Date.now() / 1000)
    const session = await open(user.id)
    expect(session.sid).toMatch(/^[0-9a-f-]{36}$/)
    expect(session.end).toBeGreaterThanOrEqual(before + SESSION_MAX_AGE_SECONDS - 1)
    expect(session.end).toBeLessThanOrEqual(Math.floor(Date.now() / 1000) + SESSION_MAX_AGE_SECONDS + 1)
    const started = await page(user.id, session.sid)
    expect(started).toMatchObject({ user: { id: user.id, status: 'active' }, sessionLive: true, clinic: { id: clinicId } })
    expect(started.rateLimit).not.toBeNull()
  })

  test('refuses a user who is not active, and a length beyond 12 hours', async () => {
    const invited = await newUser('staff', 'invited')
    expect(await sqlState(open(invited.id))).toBe('22023')
    const user = await newUser()
    const tooLong = as({ clinicId, userId: user.id, role: 'staff' }).tenant((tx) =>
      tx.execute(sql`select * from session_start(${user.id}::uuid, ${SESSION_MAX_AGE_SECONDS + 1})`),
    )
    expect(await sqlState(tooLong)).toBe('22023')
  })
})

describe('request_start checks the session', () => {
  test('an unknown session id, or another user’s, signs nobody in: no clinic, nothing counted', async () => {
    const [a, b] = [await newUser(), await newUser()]
    const sessionOfA = await open(a.id)
    for (const started of [await page(a.id, randomUUID()), await page(b.id, sessionOfA.sid)]) {
      expect(started.sessionLive).toBe(false)
      expect(started.clinic).toBeNull()
      expect(started.rateLimit).toBeNull()
    }
    // Control: the same user with their own session is signed in.
    expect((await page(a.id, sessionOfA.sid)).sessionLive).toBe(true)
  })

  test('a session past its end is not live', async () => {
    const user = await newUser()
    const session = await open(user.id)
    await owner.execute(sql`update sessions set expires_at = now() - interval '1 second' where id = ${session.sid}`)
    expect((await page(user.id, session.sid)).sessionLive).toBe(false)
  })

  test('a bearer-token caller needs no session', async () => {
    const [staff] = await owner.select().from(users).where(eq(users.email, 'staff@northside.test'))
    const started = await start({ tid: staff!.idpTenantId!, oid: staff!.idpObjectId! })
    expect(started).toMatchObject({ user: { id: staff!.id }, sessionLive: true })
  })
})

describe('what ends a session', () => {
  test('sign-out ends it for good; ending someone else’s session id changes nothing', async () => {
    const [a, b] = [await newUser(), await newUser()]
    const [sessionA, sessionB] = [await open(a.id), await open(b.id)]
    // b tries to end a's session: nothing happens.
    await as({ clinicId, userId: b.id, role: 'staff' }).tenant((tx) => endServerSession(tx, sessionA.sid))
    expect((await page(a.id, sessionA.sid)).sessionLive).toBe(true)
    await as({ clinicId, userId: a.id, role: 'staff' }).tenant((tx) => endServerSession(tx, sessionA.sid))
    expect((await page(a.id, sessionA.sid)).sessionLive).toBe(false)
    expect(await sessionRow(sessionA.sid)).toMatchObject({ ended_at: expect.anything(), ended_because: 'sign-out' })
    // b's own session is untouched, and a new sign-in of a gets a new, live session.
    expect((await page(b.id, sessionB.sid)).sessionLive).toBe(true)
    expect((await page(a.id, (await open(a.id)).sid)).sessionLive).toBe(true)
  })

  test('a disable ends every session of that user, and the re-enable does not revive them', async () => {
    const user = await newUser()
    const sessions = [await open(user.id), await open(user.id)]
    await asAdmin().tenant((tx) => tx.update(users).set({ status: 'disabled' }).where(eq(users.id, user.id)))
    await asAdmin().tenant((tx) => tx.update(users).set({ status: 'active' }).where(eq(users.id, user.id)))
    for (const s of sessions) {
      const started = await page(user.id, s.sid)
      expect(started.user?.status).toBe('active')
      expect(started.sessionLive).toBe(false)
      expect(await sessionRow(s.sid)).toMatchObject({ ended_because: 'disabled' })
    }
  })

  test('a role change ends the sessions; an update of anything else does not', async () => {
    const user = await newUser('referrer')
    const session = await open(user.id, clinicId, 'referrer')
    await asAdmin().tenant((tx) => tx.update(users).set({ displayName: 'Renamed', updatedAt: new Date() }).where(eq(users.id, user.id)))
    expect((await page(user.id, session.sid)).sessionLive).toBe(true)
    await asAdmin().tenant((tx) =>
      tx
        .update(users)
        .set({ role: 'staff' })
        .where(and(eq(users.id, user.id), eq(users.clinicId, clinicId))),
    )
    expect((await page(user.id, session.sid)).sessionLive).toBe(false)
    expect(await sessionRow(session.sid)).toMatchObject({ ended_because: 'role' })
  })

  test('the owner changing a role by hand ends the sessions too (the trigger, not the page, does it)', async () => {
    const user = await newUser()
    const session = await open(user.id)
    await owner.update(users).set({ role: 'admin' }).where(eq(users.id, user.id))
    expect((await page(user.id, session.sid)).sessionLive).toBe(false)
  })
})

describe('the runtime role and the sessions table', () => {
  test('cannot read, write or revive sessions directly', async () => {
    const user = await newUser()
    const session = await open(user.id)
    const scoped = as({ clinicId, userId: user.id, role: 'staff' })
    expect(await sqlState(scoped.tenant((tx) => tx.execute(sql`select * from sessions`)))).toBe('42501')
    expect(await sqlState(scoped.tenant((tx) => tx.execute(sql`update sessions set ended_at = null where id = ${session.sid}`)))).toBe('42501')
    expect(
      await sqlState(scoped.tenant((tx) => tx.execute(sql`insert into sessions (user_id, expires_at) values (${user.id}, now() + interval '1 day')`))),
    ).toBe('42501')
  })
})
