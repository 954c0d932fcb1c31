/**
 * The app under transaction pooling, as on Neon's pooled endpoint (docs/decisions/018-pooled-connections.md):
 * requests reach PostgreSQL through a real PgBouncer in transaction mode, the runtime role's time
 * limits hold there, and two requests taking turns on ONE server connection never see each
 * other's tenant context.
 */
import { Pool } from '@neondatabase/serverless'
import { sql } from 'drizzle-orm'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { drizzleFor, useLocalRelay } from '../../app/db/client.server'
import { createTenantDatabase, NO_SCOPE, type TenantScope } from '../../app/tenancy/tenant.server'
import { connectPg } from '../../scripts/bench/pg'
import { LOCAL_SUPERUSER } from '../../scripts/lib/postgres'
import { useTestDatabase } from '../support/db'
import { pgbouncerInstalled, startPoolOfOne, type PoolOfOne } from '../support/pool-of-one'

const db = useTestDatabase()

let northside: TenantScope
let lakeview: TenantScope
beforeAll(async () => {
  northside = await db.staffScopeOf('northside')
  lakeview = await db.staffScopeOf('lakeview')
})

const CONTEXT = sql`select pg_backend_pid() as pid, current_setting('app.clinic_id', true) as clinic_id,
  (select count(*)::int from referrals) as referrals,
  (select count(*)::int from referrals
     where clinic_id is distinct from nullif(current_setting('app.clinic_id', true), '')::uuid) as foreign_referrals`
type Context = { pid: number; clinic_id: string | null; referrals: number; foreign_referrals: number }

/**
 * What would outlive a transaction on a pooled server connection, and so reach the next request:
 * session settings, named prepared statements, session advisory locks, LISTEN, temp tables,
 * held cursors. Transaction-local forms (SET LOCAL, set_config(..., true), pg_advisory_xact_lock)
 * are fine.
 */
const SESSION_STATE: [string, RegExp][] = [
  ['a named prepared statement (Drizzle .prepare)', /\.prepare\(\s*['"`]/],
  ['a named prepared statement (SQL PREPARE)', /\bPREPARE\s+\w+\s*(\(|AS\b)/i],
  ['a session setting (SET without LOCAL)', /(^|[;`'"(]|\bBEGIN\b)\s*SET\s+(SESSION\s+)?(?!LOCAL\b)[a-z_]+(\.[a-z_]+)?\s*(=|\bTO\b)/im],
  ['a session setting (set_config with is_local false)', /set_config\([^)]*,\s*false\s*\)/i],
  ['a session advisory lock', /pg_(try_)?advisory_lock(_shared)?\s*\(/i],
  ['LISTEN', /\bLISTEN\s+["\w]/],
  ['a temporary table', /CREATE\s+(GLOBAL\s+|LOCAL\s+)?TEMP(ORARY)?\s+TABLE/i],
  ['a cursor held past its transaction', /CURSOR\s+WITH\s+HOLD/i],
]
const sessionStateIn = (text: string) => SESSION_STATE.filter(([, pattern]) => pattern.test(text)).map(([what]) => what)

function filesUnder(dir: string, ext: RegExp): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) return filesUnder(path, ext)
    return ext.test(entry.name) && !/\.test\.tsx?$/.test(entry.name) ? [path] : []
  })
}

test('no request code and no database function keeps session state (named statements, SET, advisory locks, LISTEN, temp tables)', () => {
  // Control: each pattern finds what it is for, and leaves the transaction-local forms alone.
  expect(sessionStateIn("db.select().from(t).prepare('q1')")).toEqual(['a named prepared statement (Drizzle .prepare)'])
  expect(sessionStateIn('PREPARE q1 AS select 1')).toEqual(['a named prepared statement (SQL PREPARE)'])
  expect(sessionStateIn("sql`SET app.clinic_id = 'x'`")).toEqual(['a session setting (SET without LOCAL)'])
  expect(sessionStateIn('BEGIN\n  SET statement_timeout TO 0;')).toEqual(['a session setting (SET without LOCAL)'])
  expect(sessionStateIn("select set_config('app.role', 'staff', false)")).toEqual(['a session setting (set_config with is_local false)'])
  expect(sessionStateIn('PERFORM pg_advisory_lock(42)')).toEqual(['a session advisory lock'])
  expect(sessionStateIn('LISTEN queue_events')).toEqual(['LISTEN'])
  expect(sessionStateIn('CREATE TEMP TABLE x (id int)')).toEqual(['a temporary table'])
  expect(sessionStateIn('DECLARE c CURSOR WITH HOLD FOR select 1')).toEqual(['a cursor held past its transaction'])
  expect(
    sessionStateIn("SET LOCAL app.clinic_id = 'x'; select set_config('app.role', 'staff', true); select pg_advisory_xact_lock(1); UPDATE t SET a = 1"),
  ).toEqual([])

  const root = join(import.meta.dirname, '..', '..')
  const files = [...filesUnder(join(root, 'app'), /\.tsx?$/), ...filesUnder(join(root, 'drizzle'), /\.sql$/)]
  expect(files.length).toBeGreaterThan(50)
  const found = files.flatMap((file) => sessionStateIn(readFileSync(file, 'utf8')).map((what) => `${file.slice(root.length + 1)}: ${what}`))
  expect(found).toEqual([])
})

test("the runtime role's time limits are in force on the app's connections (PgBouncer's server connections when installed)", async () => {
  const limits = await db.as(northside).tenant(
    async (tx) =>
      (
        await tx.execute(sql`select current_setting('statement_timeout') as statement,
    current_setting('idle_in_transaction_session_timeout') as idle`)
      ).rows[0],
  )
  expect(limits).toEqual({ statement: '15s', idle: '10s' })
  // Control: they are the role's, not the server's defaults (the owner runs migrations without them).
  const owner = (await db.owner.execute(sql`select current_setting('statement_timeout') as statement`)).rows[0]
  expect(owner).toEqual({ statement: '0' })
})

describe.skipIf(!pgbouncerInstalled)('through PgBouncer', () => {
  test("the app's database URL is served by PgBouncer in transaction mode", async () => {
    const port = db.config.pgbouncerPort
    expect(port).not.toBeNull()
    expect(new URL(db.config.appUrl).port).toBe(String(port))
    const admin = await connectPg(`postgres://${LOCAL_SUPERUSER.user}:${LOCAL_SUPERUSER.password}@127.0.0.1:${port}/pgbouncer`)
    try {
      // While a request's transaction runs, its backend is one of PgBouncer's server connections.
      await db.as(northside).tenant(async (tx) => {
        const { pid } = (await tx.execute(sql`select pg_backend_pid() as pid`)).rows[0] as { pid: number }
        const pools = (await admin.query<{ database: string; user: string; pool_mode: string }>('SHOW POOLS')).rows
        expect(pools.find((p) => p.database === 'intakepilot' && p.user === 'intakepilot_app')).toMatchObject({ pool_mode: 'transaction' })
        const servers = (await admin.query<{ user: string; state: string; remote_pid: string }>('SHOW SERVERS')).rows
        expect(servers.find((s) => Number(s.remote_pid) === pid)).toMatchObject({ user: 'intakepilot_app', state: 'active' })
      })
    } finally {
      await admin.end()
    }
  })

  describe('two requests on one server connection', () => {
    let one: PoolOfOne
    const clients: Pool[] = []
    beforeAll(async () => {
      one = await startPoolOfOne()
      useLocalRelay(one.wsProxy)
    })
    afterAll(async () => {
      await Promise.all(clients.map((c) => c.end()))
      await one?.stop()
    })
    /** A request's view: its own client connection (as each Worker request has), one transaction per call. */
    function request() {
      const pool = new Pool({ connectionString: one.appUrl, max: 1, idleTimeoutMillis: 0 })
      pool.on('error', () => {})
      clients.push(pool)
      const single = drizzleFor(pool)
      return {
        pool,
        in: async (scope: Partial<TenantScope>, during?: () => Promise<void>) =>
          createTenantDatabase(single, { ...NO_SCOPE, ...scope }).tenant(async (tx) => {
            const first = (await tx.execute(CONTEXT)).rows[0] as Context
            await during?.()
            const again = (await tx.execute(CONTEXT)).rows[0] as Context
            expect(again).toEqual(first)
            return first
          }),
        /** Outside any transaction: what a statement would inherit from whoever had the connection before. */
        bare: async () => (await single.execute(CONTEXT)).rows[0] as Context,
      }
    }

    test('taking turns, each sees only its own clinic, and nothing is left for the other', async () => {
      const a = request()
      const b = request()
      const first = await a.in(northside)
      expect(first).toMatchObject({ clinic_id: northside.clinicId, foreign_referrals: 0 })
      expect(first.referrals).toBeGreaterThan(0)
      const second = await b.in(lakeview)
      expect(second.pid).toBe(first.pid) // the very same PostgreSQL backend
      expect(second).toMatchObject({ clinic_id: lakeview.clinicId, foreign_referrals: 0 })
      for (const next of [await a.bare(), await b.bare(), await a.in(NO_SCOPE)]) {
        expect(next.pid).toBe(first.pid)
        expect({ clinic_id: next.clinic_id ?? '', referrals: next.referrals }).toEqual({ clinic_id: '', referrals: 0 })
      }
      expect(await one.show('SERVERS')).toHaveLength(1)
    })

    test('a request that arrives mid-transaction waits for the commit, then sees its own clinic only', async () => {
      const a = request()
      const b = request()
      const order: string[] = []
      let bStarted!: Promise<Context>
      const aDone = a
        .in(northside, async () => {
          // B asks for the one server connection while A's transaction holds it.
          bStarted = b.in(lakeview).then((context) => (order.push('b done'), context))
          await new Promise((r) => setTimeout(r, 200))
          order.push('a still inside')
        })
        .then((context) => (order.push('a committed'), context))
      const aContext = await aDone
      const bContext = await bStarted
      expect(order).toEqual(['a still inside', 'a committed', 'b done'])
      expect(bContext.pid).toBe(aContext.pid)
      expect(aContext).toMatchObject({ clinic_id: northside.clinicId, foreign_referrals: 0 })
      expect(bContext).toMatchObject({ clinic_id: lakeview.clinicId, foreign_referrals: 0 })
    })

    test('many requests interleaved: every transaction sees exactly its own clinic', async () => {
      const requests = Array.from({ length: 4 }, () => request())
      const scopes = [northside, lakeview, NO_SCOPE]
      // Each request works one step after another, the requests all at once: between one's commit
      // and its next statement, the others' transactions take the server connection.
      const perRequest = await Promise.all(
        requests.map(async (r, n) => {
          const seen = []
          for (let k = 0; k < 6; k++) {
            const scope = scopes[(n + k) % scopes.length]!
            const context = await r.in(scope)
            seen.push({ scope, context, after: await r.bare() })
          }
          return seen
        }),
      )
      const results = perRequest.flat()
      expect(new Set(results.map((r) => r.context.pid)).size).toBe(1)
      for (const { scope, context, after } of results) {
        expect(context.clinic_id ?? '').toBe(scope.clinicId ?? '')
        expect(context.foreign_referrals).toBe(0)
        if (!scope.clinicId) expect(context.referrals).toBe(0)
        expect({ clinic_id: after.clinic_id ?? '', referrals: after.referrals, pid: after.pid }).toEqual({ clinic_id: '', referrals: 0, pid: context.pid })
      }
    })

    test('control: session state WOULD leak on this connection (what transaction-local settings prevent)', async () => {
      const a = request()
      const b = request()
      await a.bare()
      // A session-level setting (is_local false), as a `SET` outside a transaction would make.
      const pool = a.pool
      await pool.query(`select set_config('app.clinic_id', '${northside.clinicId}', false), set_config('app.user_id', '${northside.userId}', false),
        set_config('app.role', 'staff', false)`)
      try {
        const leaked = await b.bare()
        expect(leaked).toMatchObject({ clinic_id: northside.clinicId })
        expect(leaked.referrals).toBeGreaterThan(0)
      } finally {
        await pool.query('reset app.clinic_id; reset app.user_id; reset app.role')
      }
      expect((await b.bare()).referrals).toBe(0)
    })
  })
})
