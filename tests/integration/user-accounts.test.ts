/**
 * drizzle/0015 for user rows: one account per email across clinics (a second clinic's
 * invitation is refused, as the users page says), and a staff member's own AI endpoint, which
 * only they set, only on their own row, and which request_start returns with the user.
 */
import { randomUUID } from 'node:crypto'
import { eq, sql } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { saveMyAiEndpoint } from '../../app/ai/endpoint.server'
import { connectDatabase } from '../../app/db/client.server'
import { clinics, users } from '../../app/db/schema'
import { requestStarter } from '../../app/tenancy/request-start.server'
import { startServerSession } from '../../app/auth/session.server'
import { sqlState, useTestDatabase } from '../support/db'

const { as, owner, config } = useTestDatabase()
const runtime = connectDatabase({ url: config.appUrl, wsProxy: config.wsProxy })
afterAll(() => runtime.end())

const tag = randomUUID().slice(0, 8)
const ids = { a: '', b: '', adminA: '', adminB: '' }

beforeAll(async () => {
  for (const key of ['a', 'b'] as const) {
    const [clinic] = await owner
      .insert(clinics)
      .values({ slug: `accounts-${key}-${tag}`, name: `Accounts ${key}` })
      .returning()
    ids[key] = clinic!.id
    const [admin] = await owner
      .insert(users)
      .values({ clinicId: clinic!.id, email: `admin-${key}-${tag}@accounts.test`, displayName: 'Admin', role: 'admin', status: 'active' })
      .returning()
    ids[key === 'a' ? 'adminA' : 'adminB'] = admin!.id
  }
})

const invite = (clinic: 'a' | 'b', email: string) =>
  as({ clinicId: ids[clinic], userId: clinic === 'a' ? ids.adminA : ids.adminB, role: 'admin' }).tenant((tx) =>
    tx.insert(users).values({ clinicId: ids[clinic], email, displayName: 'Invitee', role: 'referrer', status: 'invited' }),
  )

describe('one account per email', () => {
  test('a second clinic cannot invite an email another clinic has, whatever its case', async () => {
    const email = `shared-${tag}@accounts.test`
    await invite('a', email)
    const error = await invite('b', email.toUpperCase()).then(
      () => null,
      (e: unknown) => e as { cause?: { code?: string; constraint?: string } },
    )
    // The users page recognises exactly this refusal (code and constraint) to show its field error.
    expect(error?.cause).toMatchObject({ code: '23505', constraint: 'users_email_key' })
    const rows = await owner
      .select()
      .from(users)
      .where(sql`lower(${users.email}) = ${email}`)
    expect(rows.map((r) => r.clinicId)).toEqual([ids.a])
  })

  test('control: another email is invited in the second clinic', async () => {
    expect(await sqlState(invite('b', `other-${tag}@accounts.test`))).toBe('no error')
  })
})

describe('a staff member’s own AI endpoint', () => {
  test('is set on their own row only, and comes back with them from request_start', async () => {
    const [me] = await owner
      .insert(users)
      .values({ clinicId: ids.a, email: `me-${tag}@accounts.test`, displayName: 'Me', role: 'staff', status: 'active' })
      .returning()
    const mine = as({ clinicId: ids.a, userId: me!.id, role: 'staff' })
    expect(await mine.tenant((tx) => saveMyAiEndpoint(tx, 'http://10.0.0.5:1234/v1'))).toBe(true)
    const [row] = await owner.select({ aiEndpoint: users.aiEndpoint }).from(users).where(eq(users.id, me!.id))
    expect(row!.aiEndpoint).toBe('http://10.0.0.5:1234/v1')
    const [admin] = await owner.select({ aiEndpoint: users.aiEndpoint }).from(users).where(eq(users.id, ids.adminA))
    expect(admin!.aiEndpoint).toBeNull()

    const session = await mine.tenant((tx) => startServerSession(tx, me!.id))
    const started = await requestStarter(runtime.db, null)({ userId: me!.id, sessionId: session.sid, switchedClinic: null })
    expect(started.user?.aiEndpoint).toBe('http://10.0.0.5:1234/v1')

    // Cleared, the clinic's applies again.
    await mine.tenant((tx) => saveMyAiEndpoint(tx, null))
    const [cleared] = await owner.select({ aiEndpoint: users.aiEndpoint }).from(users).where(eq(users.id, me!.id))
    expect(cleared!.aiEndpoint).toBeNull()
  })

  test('staff cannot reach the column, or their role, through the users policies', async () => {
    const [me] = await owner
      .insert(users)
      .values({ clinicId: ids.a, email: `plain-${tag}@accounts.test`, displayName: 'Plain', role: 'staff', status: 'active' })
      .returning()
    const mine = as({ clinicId: ids.a, userId: me!.id, role: 'staff' })
    const updated = await mine.tenant((tx) =>
      tx.update(users).set({ aiEndpoint: 'http://evil.example', role: 'admin' }).where(eq(users.id, me!.id)).returning(),
    )
    expect(updated).toEqual([])
    const [row] = await owner.select().from(users).where(eq(users.id, me!.id))
    expect(row).toMatchObject({ aiEndpoint: null, role: 'staff' })
  })

  test('the column refuses anything but a bounded http(s) address', async () => {
    const [me] = await owner
      .insert(users)
      .values({ clinicId: ids.a, email: `shape-${tag}@accounts.test`, displayName: 'Shape', role: 'staff', status: 'active' })
      .returning()
    const mine = as({ clinicId: ids.a, userId: me!.id, role: 'staff' })
    for (const bad of ['javascript:alert(1)', 'http://a b', `http://${'a'.repeat(200)}.example`]) {
      expect(await sqlState(mine.tenant((tx) => saveMyAiEndpoint(tx, bad))), bad).toBe('23514')
    }
  })
})
