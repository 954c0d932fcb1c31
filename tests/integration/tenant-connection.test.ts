/**
 * The tenant context must not outlive its transaction (decision 005): a pooled connection goes
 * from one request to the next, so whatever clinic it served last must not be there for the
 * next one. The transactions below go through a PgBouncer in transaction mode with ONE server
 * connection (tests/support/pool-of-one.ts; straight to PostgreSQL when pgbouncer is not
 * installed), from one client Pool with max: 1, so every one of them runs on the same PostgreSQL
 * backend, and pg_backend_pid() proves it.
 */
import { Pool } from '@neondatabase/serverless'
import { eq, sql } from 'drizzle-orm'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { drizzleFor, useLocalRelay, type Database } from '../../app/db/client.server'
import * as schema from '../../app/db/schema'
import { createTenantDatabase, NO_SCOPE, readAlongside, type TenantScope } from '../../app/tenancy/tenant.server'
import { sqlState, useTestDatabase } from '../support/db'
import { pgbouncerInstalled, startPoolOfOne, type PoolOfOne } from '../support/pool-of-one'

const db = useTestDatabase()
let one: PoolOfOne | undefined
let pool: Pool
let single: Database
beforeAll(async () => {
  one = pgbouncerInstalled ? await startPoolOfOne() : undefined
  useLocalRelay(one?.wsProxy ?? db.config.wsProxy)
  // The app's own pool (connectDatabase) also has max: 1; this one is built the same way but keeps
  // its client connection open between tests (idleTimeoutMillis: 0).
  pool = new Pool({ connectionString: one?.appUrl ?? db.config.directAppUrl, max: 1, idleTimeoutMillis: 0 })
  pool.on('error', () => {})
  single = drizzleFor(pool)
})
afterAll(async () => {
  await pool.end()
  await one?.stop()
})
const as = (scope: Partial<TenantScope>) => createTenantDatabase(single, { ...NO_SCOPE, ...scope })

let northside: TenantScope
let lakeview: TenantScope

beforeAll(async () => {
  northside = await db.staffScopeOf('northside')
  lakeview = await db.staffScopeOf('lakeview')
})

/** What a connection carries: its backend, the three settings, and how many referrals RLS lets through. */
const CONTEXT = sql`select pg_backend_pid() as pid,
  current_setting('app.clinic_id', true) as clinic_id,
  current_setting('app.user_id', true) as user_id,
  current_setting('app.role', true) as role,
  (select count(*)::int from referrals) as referrals,
  (select count(*)::int from referrals
     where clinic_id is distinct from nullif(current_setting('app.clinic_id', true), '')::uuid) as foreign_referrals`
type Context = { pid: number; clinic_id: string | null; user_id: string | null; role: string | null; referrals: number; foreign_referrals: number }
const inTenant = async (scope: Partial<TenantScope>) => (await as(scope).tenant((tx) => tx.execute(CONTEXT))).rows[0] as Context
/** Outside any transaction: what the next plain query on the connection would inherit. */
const bare = async () => (await single.execute(CONTEXT)).rows[0] as Context
/** Unset ('' once set_config has run on the connection, null before): nothing to inherit, no rows. */
function expectNoContext({ clinic_id, user_id, role, referrals }: Context) {
  expect({ clinic_id: clinic_id ?? '', user_id: user_id ?? '', role: role ?? '', referrals }).toEqual({
    clinic_id: '',
    user_id: '',
    role: '',
    referrals: 0,
  })
}

test('a clinic transaction leaves nothing behind on its pooled connection', async () => {
  const served = await inTenant(northside)
  // Control: inside the transaction the context is there and RLS lets the clinic's rows through.
  expect(served).toMatchObject({ clinic_id: northside.clinicId, user_id: northside.userId, role: 'staff' })
  expect(served.referrals).toBeGreaterThan(0)
  expect(served.foreign_referrals).toBe(0)

  // A plain query first: a NO_SCOPE transaction would overwrite a leaked value and hide it.
  const plain = await bare()
  expect(plain.pid).toBe(served.pid) // the very same connection
  expectNoContext(plain)

  const next = await inTenant(NO_SCOPE)
  expect(next.pid).toBe(served.pid)
  expectNoContext(next)
})

test('the next clinic on the same connection sees only its own rows', async () => {
  const first = await inTenant(northside)
  const second = await inTenant(lakeview)
  expect(second.pid).toBe(first.pid)
  expect(second.clinic_id).toBe(lakeview.clinicId)
  expect(second.referrals).toBeGreaterThan(0)
  expect(second.foreign_referrals).toBe(0)
})

test('a transaction that throws is rolled back: no settings and no rows survive it', async () => {
  const marker = `test.rollback-${crypto.randomUUID()}`
  let pidInside = 0
  const failing = as(northside).tenant(async (tx) => {
    const context = (await tx.execute(CONTEXT)).rows[0] as Context
    pidInside = context.pid
    await tx.insert(schema.auditLogs).values({ clinicId: northside.clinicId, actorId: northside.userId, action: marker })
    // Control: the row is really there inside the transaction.
    const seen = await tx.select().from(schema.auditLogs).where(eq(schema.auditLogs.action, marker))
    expect(seen).toHaveLength(1)
    throw new Error('request failed half-way')
  })
  await expect(failing).rejects.toThrow('request failed half-way')

  const after = await bare()
  expect(after.pid).toBe(pidInside)
  expectNoContext(after)
  expect(await db.owner.select().from(schema.auditLogs).where(eq(schema.auditLogs.action, marker))).toEqual([])
})

test('a statement error aborts the transaction; the connection comes back clean', async () => {
  const broken = as(northside).tenant((tx) => tx.execute(sql`select 1 / 0`))
  expect(await sqlState(broken)).toBe('22012') // division_by_zero
  expectNoContext(await bare())
  expectNoContext(await inTenant(NO_SCOPE))
})

test('scope values of any other shape never reach the server (begin and the settings are one simple-protocol statement)', async () => {
  const hostile = `'; drop table referrals; --`
  const refused = async (scope: Partial<TenantScope>) => {
    let ran = false
    const outcome = await as({ ...northside, ...scope })
      .tenant(async () => {
        ran = true
      })
      .then(
        () => 'ran',
        (error: Error) => error.message,
      )
    expect(ran).toBe(false)
    return outcome
  }
  expect(await refused({ clinicId: hostile })).toBe('tenant scope: clinicId is malformed')
  expect(await refused({ userId: `${northside.userId}'` })).toBe('tenant scope: userId is malformed')
  expect(await refused({ role: `staff' or '1'='1` as never })).toBe('tenant scope: role is malformed')
  // The settings a well-formed scope sends arrive verbatim, and the connection is still clean after the refusals.
  const stored = await as(northside).tenant(async (tx) => (await tx.execute(CONTEXT)).rows[0] as Context)
  expect(stored).toMatchObject({ clinic_id: northside.clinicId, user_id: northside.userId, role: northside.role, foreign_referrals: 0 })
  expectNoContext(await bare())

  const [table] = (await db.owner.execute(sql`select to_regclass('public.referrals')::text as t, (select count(*)::int from referrals) as n`)).rows
  expect(table).toMatchObject({ t: 'referrals' })
  expect((table as { n: number }).n).toBeGreaterThan(0)
})

test("the transaction's first statement rides with begin, its values written out as literals: they arrive verbatim, under the clinic's context", async () => {
  const hostile = `O'Brien'); drop table referrals; -- \\' \\\\ $1 $$ E'x' é 💊 end`
  const first = await as(northside).tenant(async (tx) => {
    const [row] = (
      await tx.execute(
        sql`select ${hostile}::text as text, ${42} + 0 as number, ${null}::text as nothing, current_setting('app.clinic_id', true) as clinic_id, (select count(*)::int from referrals) as referrals limit ${1}`,
      )
    ).rows as { text: string; number: number; nothing: null; clinic_id: string; referrals: number }[]
    return row
  })
  expect(first).toEqual({ text: hostile, number: 42, nothing: null, clinic_id: northside.clinicId, referrals: expect.any(Number) })
  expect(first!.referrals).toBeGreaterThan(0)
  // A value with no literal form of its own (bytes) is bound as before, after a begin of its own.
  const bound = await as(northside).tenant(async (tx) => {
    const bytes = Buffer.from([1, 2, 3])
    return (await tx.execute(sql`select length(${bytes}::bytea) as n, current_setting('app.clinic_id', true) as clinic_id`)).rows[0] as { n: number }
  })
  expect(bound).toEqual({ n: 3, clinic_id: northside.clinicId })
  expectNoContext(await bare())
})

test('readAlongside: a second read goes in the first statement’s message, under the same context; later, or failing, it behaves as a read of its own', async () => {
  const alongside = sql`select current_setting('app.clinic_id', true) as "clinicId", ${"it's"}::text as quoted`
  const [first, rows] = await as(northside).tenant((tx) =>
    readAlongside(tx, alongside, async () => (await tx.execute(sql`select count(*)::int as n from referrals`)).rows[0] as { n: number }),
  )
  expect(rows).toEqual([{ clinicId: northside.clinicId, quoted: "it's" }])
  expect(first.n).toBeGreaterThan(0)
  // The transaction is already open: the read is sent on its own, with the same result.
  const [, later] = await as(lakeview).tenant(async (tx) => {
    await tx.execute(sql`select 1`)
    return readAlongside(tx, alongside, async () => null)
  })
  expect(later).toEqual([{ clinicId: lakeview.clinicId, quoted: "it's" }])
  // `first` sends nothing: the read opens the transaction itself.
  const [, alone] = await as(northside).tenant((tx) => readAlongside(tx, alongside, async () => null))
  expect(alone).toEqual([{ clinicId: northside.clinicId, quoted: "it's" }])
  // The message fails: both fail, the transaction rolls back, the connection comes back clean.
  const failing = as(northside).tenant((tx) => readAlongside(tx, alongside, () => tx.execute(sql`select 1 / 0`)))
  expect(await sqlState(failing)).toBe('22012')
  expectNoContext(await bare())
})
