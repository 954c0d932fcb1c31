/**
 * The clinic admin's use cases on users (app/users), on the real database through the runtime
 * role: invitations refused for an email this clinic or another has, and the last-admin lock,
 * including two admins demoting each other at the same moment.
 */
import { randomUUID } from 'node:crypto'
import { and, eq, inArray, sql } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { recordAudit } from '../../app/audit/audit.server'
import { auditLogs, clinics, users } from '../../app/db/schema'
import { connectDatabase } from '../../app/db/client.server'
import { createTenantDatabase, type TenantScope } from '../../app/tenancy/tenant.server'
import { changeRole, disableUser, enableUser, inviteUser, type UserDesk } from '../../app/users/clinic-users.server'
import { useTestDatabase } from '../support/db'

const { as, owner, config } = useTestDatabase()
// A second request's connection (a request has one): the race needs two at once.
const other = connectDatabase({ url: config.appUrl, wsProxy: config.wsProxy })
// The owner's own connection that holds rows locked while `owner` watches who waits.
const holder = connectDatabase({ url: config.ownerUrl, wsProxy: config.wsProxy })
afterAll(() => Promise.all([other.end(), holder.end()]))
const tag = randomUUID().slice(0, 8)
const request = { requestId: `clinic-users-${tag}`, ip: null, userAgent: null }

type Clinic = { id: string; admin: string; desk: UserDesk; otherDesk: UserDesk }
const clinic = { a: {} as Clinic, b: {} as Clinic }

async function newClinic(key: string): Promise<Clinic> {
  const [row] = await owner
    .insert(clinics)
    .values({ slug: `users-${key}-${tag}`, name: `Users ${key}` })
    .returning()
  const admin = await addUser(row!.id, `admin-${key}-${tag}@users.test`, 'admin')
  const scope: TenantScope = { clinicId: row!.id, userId: admin, role: 'admin' }
  const audit: UserDesk['audit'] = (tx, event) => recordAudit(tx, scope, request, event)
  return { id: row!.id, admin, desk: { db: as(scope), audit }, otherDesk: { db: createTenantDatabase(other.db, scope), audit } }
}

async function addUser(clinicId: string, email: string, role: 'admin' | 'staff', status: 'active' | 'invited' = 'active') {
  const [row] = await owner
    .insert(users)
    .values({
      clinicId,
      email,
      displayName: email,
      role,
      status,
      idpTenantId: status === 'active' ? tag : null,
      idpObjectId: status === 'active' ? randomUUID() : null,
    })
    .returning()
  return row!.id
}

/** How many sessions wait, directly or in the queue behind another waiter, on the given one. */
async function waitingBehind(pid: number) {
  const { rows } = await owner.execute<{ pid: number; blockers: number[] }>(
    sql`select pid, pg_blocking_pids(pid) as blockers from pg_stat_activity where cardinality(pg_blocking_pids(pid)) > 0`,
  )
  const behind = new Set([pid])
  for (let grew = true; grew;) {
    grew = false
    for (const row of rows) if (!behind.has(row.pid) && row.blockers.some((b) => behind.has(b))) grew = Boolean(behind.add(row.pid))
  }
  return behind.size - 1
}

const userRow = async (id: string) => (await owner.select().from(users).where(eq(users.id, id)))[0]!
const auditsOf = (entityId: string) =>
  owner
    .select()
    .from(auditLogs)
    .where(and(eq(auditLogs.entityId, entityId), eq(auditLogs.requestId, request.requestId)))

beforeAll(async () => {
  clinic.a = await newClinic('a')
  clinic.b = await newClinic('b')
})

describe('inviting a user', () => {
  test('an invitation is recorded; the same email again, or one another clinic has, is refused and writes nothing', async () => {
    const email = `invitee-${tag}@users.test`
    expect(await inviteUser(clinic.a.desk, clinic.a.id, { email, displayName: 'Invitee', role: 'staff' })).toBe('invited')
    const [invited] = await owner.select().from(users).where(eq(users.email, email))
    expect(invited).toMatchObject({ clinicId: clinic.a.id, status: 'invited', role: 'staff', idpObjectId: null })
    expect((await auditsOf(invited!.id)).map((r) => r.action)).toEqual(['user.invite'])

    expect(await inviteUser(clinic.a.desk, clinic.a.id, { email, displayName: 'Again', role: 'admin' })).toBe('exists')
    expect(await inviteUser(clinic.b.desk, clinic.b.id, { email, displayName: 'Elsewhere', role: 'staff' })).toBe('elsewhere')
    const rows = await owner
      .select()
      .from(users)
      .where(sql`lower(${users.email}) = ${email}`)
    expect(rows).toEqual([invited])
    expect(await auditsOf(invited!.id)).toHaveLength(1)
  })
})

describe('the last admin', () => {
  test('cannot be disabled or made staff; nothing changes', async () => {
    const { desk, id, admin } = await newClinic(`last-${randomUUID().slice(0, 4)}`)
    expect(await disableUser(desk, id, admin)).toBe('last-admin')
    expect(await changeRole(desk, id, admin, 'staff')).toBe('last-admin')
    expect(await userRow(admin)).toMatchObject({ role: 'admin', status: 'active' })
    expect(await auditsOf(admin)).toEqual([])
  })

  test('control: with a second active admin, one of them can be made staff', async () => {
    const { desk, id } = await newClinic(`two-${randomUUID().slice(0, 4)}`)
    const second = await addUser(id, `second-${randomUUID()}@users.test`, 'admin')
    expect(await changeRole(desk, id, second, 'staff')).toBe('done')
    expect(await userRow(second)).toMatchObject({ role: 'staff' })
    expect((await auditsOf(second))[0]?.details).toEqual({ from: 'admin', to: 'staff' })
  })

  test('two admins demoting each other at the same moment: one wins, the clinic keeps an admin', async () => {
    const { desk, otherDesk, id, admin: first } = await newClinic(`race-${randomUUID().slice(0, 4)}`)
    const second = await addUser(id, `race-${randomUUID()}@users.test`, 'admin')
    // Both changes start while another transaction holds the two admins' rows, so both have
    // read the clinic before either can write: without the lock each would see two admins.
    const [racing] = await holder.db.transaction(async (blocker) => {
      await blocker.execute(sql`select id from users where id in (${first}, ${second}) for update`)
      const [{ pid }] = (await blocker.execute<{ pid: number }>(sql`select pg_backend_pid() as pid`)).rows as [{ pid: number }]
      const both = Promise.all([changeRole(desk, id, first, 'staff'), changeRole(otherDesk, id, second, 'staff')])
      await expect.poll(() => waitingBehind(pid), { timeout: 10_000 }).toBe(2)
      // Wrapped: returning the promise itself would hold the commit until both changes finish.
      return [both]
    })
    const outcomes = await racing
    expect(outcomes.sort()).toEqual(['done', 'last-admin'])
    const admins = await owner
      .select()
      .from(users)
      .where(and(inArray(users.id, [first, second]), eq(users.role, 'admin'), eq(users.status, 'active')))
    expect(admins).toHaveLength(1)
  })
})

describe('disabling and enabling', () => {
  test('enabling someone who never signed in makes them invited again, not active', async () => {
    const invitee = await addUser(clinic.a.id, `never-${tag}@users.test`, 'staff', 'invited')
    expect(await disableUser(clinic.a.desk, clinic.a.id, invitee)).toBe('done')
    expect(await userRow(invitee)).toMatchObject({ status: 'disabled' })
    expect(await enableUser(clinic.a.desk, clinic.a.id, invitee)).toBe('done')
    expect(await userRow(invitee)).toMatchObject({ status: 'invited' })
    expect((await auditsOf(invitee)).map((r) => r.action).sort()).toEqual(['user.disable', 'user.enable'])
  })

  test('another clinic’s user is not there to change', async () => {
    const theirs = await addUser(clinic.b.id, `theirs-${tag}@users.test`, 'staff')
    expect(await disableUser(clinic.a.desk, clinic.a.id, theirs)).toBe('not-in-clinic')
    expect(await changeRole(clinic.a.desk, clinic.a.id, theirs, 'admin')).toBe('not-in-clinic')
    expect(await userRow(theirs)).toMatchObject({ status: 'active', role: 'staff' })
  })
})
