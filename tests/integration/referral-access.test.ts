/**
 * "Who accessed this" (decision 013): a referral's access history holds the rows about it and the
 * list views whose shown ids include it, marked as lists; never another clinic's, never for a
 * role that may not read the trail; paged in chain order without losing or repeating a row.
 */
import { sql } from 'drizzle-orm'
import { describe, expect, test } from 'vitest'
import { referralAccessPage } from '../../app/audit/audit-log.server'
import { recordAudit, type AuditEvent } from '../../app/audit/audit.server'
import { clinics, users } from '../../app/db/schema'
import { useTestDatabase } from '../support/db'

const db = useTestDatabase()
const request = { requestId: 'vitest', ip: '127.0.0.1', userAgent: 'vitest' }

async function clinicWith(...roles: ('staff' | 'referrer')[]) {
  const slug = `access-${crypto.randomUUID().slice(0, 8)}`
  const [clinic] = await db.owner
    .insert(clinics)
    .values({ slug, name: `Access ${slug}` })
    .returning()
  const scopes: { clinicId: string; userId: string; role: 'staff' | 'referrer' }[] = []
  for (const role of roles) {
    const [user] = await db.owner
      .insert(users)
      .values({ clinicId: clinic!.id, email: `${role}-${scopes.length}@${slug}.test`, displayName: `${role} ${slug}`, role, status: 'active' })
      .returning()
    scopes.push({ clinicId: clinic!.id, userId: user!.id, role })
  }
  return scopes
}

type Scope = Awaited<ReturnType<typeof clinicWith>>[number]
const record = (scope: Scope, event: AuditEvent) => db.as(scope).tenant((tx) => recordAudit(tx, scope, request, event))
const list = (scope: Scope, ids: string[], flags: Record<string, boolean> = {}) =>
  record(scope, { action: 'referral.list', entityType: 'referral', details: { ids, ...flags } })
const history = (scope: Scope, referral: string, cursor?: number) => db.as(scope).tenant((tx) => referralAccessPage(tx, scope.clinicId, referral, cursor))
const listViews = async (scope: Scope, referral: string) =>
  db
    .as(scope)
    .tenant(async (tx) => (await tx.execute<{ id: string }>(sql`select audit_list_views(${referral}::uuid, null, 100) as id`)).rows.map((r) => Number(r.id)))

describe("a referral's access history", () => {
  test('holds the rows about it and the lists that showed it, marked by kind; not the lists that did not', async () => {
    const [staff] = await clinicWith('staff')
    const [one, two, three] = [crypto.randomUUID(), crypto.randomUUID(), crypto.randomUUID()]
    await list(staff!, [one, two])
    await list(staff!, [two], { search: true })
    await record(staff!, { action: 'referral.read', entityType: 'referral', entityId: one })
    await list(staff!, [three, one], { api: true })
    await list(staff!, [three])

    const ofOne = (await history(staff!, one)).rows
    expect(ofOne.map((r) => [r.action, r.list])).toEqual([
      ['referral.list', 'api'],
      ['referral.read', null],
      ['referral.list', 'list'],
    ])
    expect((await history(staff!, two)).rows.map((r) => r.list)).toEqual(['search', 'list'])
    expect((await history(staff!, crypto.randomUUID())).rows).toEqual([])
  })

  test("another clinic's list views, and the trail for a referrer, are out of reach", async () => {
    const [staff, referrer] = await clinicWith('staff', 'referrer')
    const [stranger] = await clinicWith('staff')
    const referral = crypto.randomUUID()
    await list(staff!, [referral])
    await list(stranger!, [referral])
    // Control: each clinic's staff finds exactly its own one.
    expect(await listViews(staff!, referral)).toHaveLength(1)
    expect(await listViews(stranger!, referral)).toHaveLength(1)
    expect(await listViews(staff!, referral)).not.toEqual(await listViews(stranger!, referral))
    expect((await history(staff!, referral)).rows).toHaveLength(1)
    // A referrer reads no trail: not through the policy, not through the function.
    expect(await listViews(referrer!, referral)).toEqual([])
    expect((await history(referrer!, referral)).rows).toEqual([])
  })

  test('pages newest first in chain order, every row once, lists and reads mixed', async () => {
    const [staff] = await clinicWith('staff')
    const referral = crypto.randomUUID()
    for (let i = 0; i < 63; i++) {
      if (i % 3 === 0) await record(staff!, { action: 'referral.read', entityType: 'referral', entityId: referral })
      else await list(staff!, [crypto.randomUUID(), referral])
    }
    await list(staff!, [crypto.randomUUID()]) // newest, and not about it
    const first = await history(staff!, referral)
    expect(first.rows).toHaveLength(50)
    expect(first.next).toEqual(first.rows.at(-1)!.seq)
    const second = await history(staff!, referral, first.next!)
    expect(second.rows).toHaveLength(13)
    expect(second.next).toBeNull()
    const seqs = [...first.rows, ...second.rows].map((r) => r.seq!)
    expect(seqs).toEqual([...seqs].sort((a, b) => b - a))
    expect(new Set(seqs).size).toBe(63)
    expect([...first.rows, ...second.rows].filter((r) => r.list === 'list')).toHaveLength(42)
  })

  test('a run of list views that would cross the page boundary starts the next page, whole', async () => {
    const [staff] = await clinicWith('staff')
    const referral = crypto.randomUUID()
    const read = () => record(staff!, { action: 'referral.read', entityType: 'referral', entityId: referral })
    // Oldest first: 5 reads, a run of 10 queue pages that showed it, then 45 reads.
    for (let i = 0; i < 5; i++) await read()
    for (let i = 0; i < 10; i++) await list(staff!, [referral])
    for (let i = 0; i < 45; i++) await read()
    const first = await history(staff!, referral)
    // Rows 46 to 55 are the run: the first page ends before it, not in its middle.
    expect(first.rows).toHaveLength(45)
    expect(first.rows.every((r) => r.action === 'referral.read')).toBe(true)
    const second = await history(staff!, referral, first.next!)
    expect(second.rows.slice(0, 10).every((r) => r.list === 'list')).toBe(true)
    expect(second.rows).toHaveLength(15)
    expect(second.next).toBeNull()
  })
})

test('the list index is partial, on the ids alone, without a pending list, and the lookup can use it', async () => {
  const [index] = (await db.owner.execute<{ def: string }>(sql`select indexdef as def from pg_indexes where indexname = 'audit_logs_list_ids_idx'`)).rows
  // Cheap to write (drizzle/0013): list rows only, one hashed entry per id, no pending list.
  expect(index!.def).toBe(
    "CREATE INDEX audit_logs_list_ids_idx ON public.audit_logs USING gin (((details -> 'ids'::text)) jsonb_path_ops) WITH (fastupdate=off) WHERE (action = 'referral.list'::text)",
  )
  const plan = await db.owner.transaction(async (tx) => {
    await tx.execute(sql`set local enable_seqscan = off`)
    const result = await tx.execute<{ 'QUERY PLAN': string }>(
      sql`explain select id from audit_logs where action = 'referral.list' and details -> 'ids' @> ${JSON.stringify([crypto.randomUUID()])}::jsonb`,
    )
    return result.rows.map((r) => r['QUERY PLAN']).join('\n')
  })
  expect(plan).toContain('audit_logs_list_ids_idx')
})
