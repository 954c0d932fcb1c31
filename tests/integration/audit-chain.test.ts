/**
 * The audit trail is append-only and tamper-evident: the runtime role
 * cannot change or remove a row; a changed field, a removed row and two swapped rows are each
 * found by audit_verify(); the chain stays in order under many concurrent writers.
 */
import { sql } from 'drizzle-orm'
import { inject, beforeAll, describe, expect, test, afterAll } from 'vitest'
import { connectDatabase } from '../../app/db/client.server'
import { auditLogs, clinics, referrals, users } from '../../app/db/schema'
import { recordAudit } from '../../app/audit/audit.server'
import { useTestDatabase, sqlState } from '../support/db'

const db = useTestDatabase()
const config = inject('database')
// Tampering needs what no application role has: the superuser, with triggers switched off.
const superuser = connectDatabase({ url: config.superuserUrl, wsProxy: config.wsProxy })
afterAll(() => superuser.end())

const request = { requestId: 'test', ip: '127.0.0.1', userAgent: 'vitest' }

/** A clinic of its own per test, so tampering with one chain leaves the others intact. */
async function clinicWithTrail(rows: number) {
  const slug = `audit-${crypto.randomUUID().slice(0, 8)}`
  const [clinic] = await db.owner
    .insert(clinics)
    .values({ slug, name: `Audit ${slug}` })
    .returning()
  const [staff] = await db.owner
    .insert(users)
    .values({ clinicId: clinic!.id, email: `staff@${slug}.test`, displayName: 'Auditor', role: 'staff', status: 'active' })
    .returning()
  const scope = { clinicId: clinic!.id, userId: staff!.id, role: 'staff' as const }
  for (let i = 0; i < rows; i++) {
    await db.as(scope).tenant((tx) => recordAudit(tx, scope, request, { action: 'referral.read', entityType: 'referral', entityId: `r-${i}` }))
  }
  return { clinicId: clinic!.id, scope }
}

async function verify(clinicId: string) {
  const result = await db.owner.execute<{ ok: boolean; checked: string; broken_seq: string | null; reason: string | null }>(
    sql`select * from audit_verify(${clinicId}::uuid)`,
  )
  return result.rows[0]!
}

async function tamper(statement: ReturnType<typeof sql>) {
  await superuser.db.transaction(async (tx) => {
    await tx.execute(sql`set local session_replication_role = replica`)
    await tx.execute(statement)
  })
}

describe('a clean chain', () => {
  test('verifies, numbered 1..n with each row linked to the one before', async () => {
    const { clinicId } = await clinicWithTrail(5)
    expect(await verify(clinicId)).toMatchObject({ ok: true, checked: '5' })
    const rows = await db.owner
      .select()
      .from(auditLogs)
      .where(sql`${auditLogs.clinicId} = ${clinicId}`)
      .orderBy(auditLogs.seq)
    expect(rows.map((r) => r.seq)).toEqual([1, 2, 3, 4, 5])
    expect(rows[0]!.prevHash).toBeNull()
    for (let i = 1; i < rows.length; i++) expect(rows[i]!.prevHash).toBe(rows[i - 1]!.hash)
  })
})

describe('tampering is detected', () => {
  test('a changed field', async () => {
    const { clinicId } = await clinicWithTrail(5)
    await tamper(sql`update audit_logs set entity_id = 'someone-else' where clinic_id = ${clinicId} and seq = 3`)
    expect(await verify(clinicId)).toMatchObject({ ok: false, broken_seq: '3', reason: 'content changed after it was written' })
  })

  test('a removed row', async () => {
    const { clinicId } = await clinicWithTrail(5)
    await tamper(sql`delete from audit_logs where clinic_id = ${clinicId} and seq = 2`)
    expect(await verify(clinicId)).toMatchObject({ ok: false, broken_seq: '3', reason: 'row 2 is missing (found 3 next)' })
  })

  test('two swapped rows', async () => {
    const { clinicId } = await clinicWithTrail(5)
    // Swap the positions of rows 2 and 3 (their numbers), as an attacker reordering events would.
    await tamper(sql`update audit_logs set seq = -2 where clinic_id = ${clinicId} and seq = 2`)
    await tamper(sql`update audit_logs set seq = 2 where clinic_id = ${clinicId} and seq = 3`)
    await tamper(sql`update audit_logs set seq = 3 where clinic_id = ${clinicId} and seq = -2`)
    const result = await verify(clinicId)
    expect(result.ok).toBe(false)
    expect(result.broken_seq).toBe('2')
  })
})

describe('append-only', () => {
  test('the runtime role can neither change nor remove a row', async () => {
    const { clinicId, scope } = await clinicWithTrail(1)
    const admin = { ...scope, role: 'admin' as const }
    expect(await sqlState(db.as(admin).tenant((tx) => tx.execute(sql`update audit_logs set action = 'x' where clinic_id = ${clinicId}`)))).toBe('42501')
    expect(await sqlState(db.as(admin).tenant((tx) => tx.execute(sql`delete from audit_logs where clinic_id = ${clinicId}`)))).toBe('42501')
    expect(await verify(clinicId)).toMatchObject({ ok: true, checked: '1' })
  })

  test('even the owner cannot change, remove or truncate without the retention switch', async () => {
    const { clinicId } = await clinicWithTrail(1)
    expect(await sqlState(db.owner.execute(sql`update audit_logs set action = 'x' where clinic_id = ${clinicId}`))).toBe('42501')
    expect(await sqlState(db.owner.execute(sql`delete from audit_logs where clinic_id = ${clinicId}`))).toBe('42501')
    expect(await sqlState(db.owner.execute(sql`truncate audit_logs`))).toBe('42501')
  })

  test('the runtime role cannot touch the chain heads', async () => {
    const { scope } = await clinicWithTrail(1)
    expect(await sqlState(db.as(scope).tenant((tx) => tx.execute(sql`update audit_chain_heads set seq = 0`)))).toBe('42501')
  })
})

describe('concurrency', () => {
  let clinicId: string
  beforeAll(async () => {
    ;({ clinicId } = await clinicWithTrail(0))
  })

  test('many writers at once: every row numbered once, in one unbroken chain', async () => {
    const [staff] = await db.owner
      .select()
      .from(users)
      .where(sql`${users.clinicId} = ${clinicId}`)
    const scope = { clinicId, userId: staff!.id, role: 'staff' as const }
    const writers = Array.from({ length: 40 }, (_, i) =>
      db.as(scope).tenant(async (tx) => {
        await tx.execute(sql`select pg_sleep(${(i % 5) / 200})`)
        await recordAudit(tx, scope, request, { action: 'referral.list', details: { writer: i } })
      }),
    )
    await Promise.all(writers)
    const rows = await db.owner
      .select({ seq: auditLogs.seq })
      .from(auditLogs)
      .where(sql`${auditLogs.clinicId} = ${clinicId}`)
      .orderBy(auditLogs.seq)
    expect(rows.map((r) => r.seq)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1))
    expect(await verify(clinicId)).toMatchObject({ ok: true, checked: '40' })
  })
})

describe('retention', () => {
  // What the owner's retention may remove, and the signed checkpoint it leaves: audit-anchoring.test.ts.
  test('the runtime role cannot remove rows even with the retention switch', async () => {
    const { clinicId, scope } = await clinicWithTrail(1)
    const attempt = db.as({ ...scope, role: 'admin' }).tenant(async (tx) => {
      await tx.execute(sql`set local intakepilot.retention = 'on'`)
      await tx.execute(sql`delete from audit_logs where clinic_id = ${clinicId}`)
    })
    expect(await sqlState(attempt)).toBe('42501')
    expect(await verify(clinicId)).toMatchObject({ ok: true, checked: '1' })
  })
})

describe('writes to PHI tables are recorded by the database', () => {
  test('a write that bypasses the application still leaves an audit row (ids only)', async () => {
    const [referral] = await db.owner.select().from(referrals).limit(1)
    // As the owner, outside any application code: a console session, say.
    await db.owner
      .update(referrals)
      .set({ updatedAt: new Date() })
      .where(sql`${referrals.id} = ${referral!.id}`)
    const rows = await db.owner
      .select()
      .from(auditLogs)
      .where(sql`${auditLogs.action} = 'record.write' and ${auditLogs.entityId} = ${referral!.id}`)
      .orderBy(sql`${auditLogs.seq} desc`)
      .limit(1)
    expect(rows[0]).toMatchObject({
      clinicId: referral!.clinicId,
      entityType: 'referrals',
      actorId: null,
      actorRole: 'db:intakepilot_owner',
      details: { op: 'update' },
    })
    expect(await verify(referral!.clinicId)).toMatchObject({ ok: true })
  })
})

describe('rows sent with the commit (db.tenant: no round trip of their own)', () => {
  test('values any client can choose (user agent) arrive verbatim, never as SQL', async () => {
    const { clinicId, scope } = await clinicWithTrail(0)
    const hostile = `Mozilla'); drop table audit_logs; -- \\' \\\\ $1 $$ E'x' é 💊\u0000 end`
    const details = { note: `O'Brien \\ "quoted" \u2028`, ids: ['a', 'b'] }
    await db.as(scope).tenant(async (tx) => {
      await recordAudit(tx, scope, { requestId: `req'--`, ip: `1.2.3.4'`, userAgent: hostile }, { action: 'referral.list', entityType: 'referral', details })
      await recordAudit(tx, scope, request, { action: 'referral.read', entityType: 'referral', entityId: 'second' })
    })
    const rows = await db.owner
      .select()
      .from(auditLogs)
      .where(sql`${auditLogs.clinicId} = ${clinicId}`)
      .orderBy(auditLogs.seq)
    expect(rows).toMatchObject([
      { seq: 1, userAgent: hostile.replace('\u0000', ''), requestId: `req'--`, ip: `1.2.3.4'`, details, actorId: scope.userId, actorRole: 'staff' },
      { seq: 2, entityId: 'second' },
    ])
    expect(await verify(clinicId)).toMatchObject({ ok: true, checked: '2' })
  })

  test('a transaction that fails after recording leaves no row: the record goes with the work', async () => {
    const { clinicId, scope } = await clinicWithTrail(0)
    await expect(
      db.as(scope).tenant(async (tx) => {
        await recordAudit(tx, scope, request, { action: 'referral.read', entityType: 'referral', entityId: 'lost' })
        throw new Error('the work failed')
      }),
    ).rejects.toThrow('the work failed')
    expect(
      await db.owner
        .select()
        .from(auditLogs)
        .where(sql`${auditLogs.clinicId} = ${clinicId}`),
    ).toEqual([])
    // The connection is clean for the next transaction, which records as usual.
    await db.as(scope).tenant((tx) => recordAudit(tx, scope, request, { action: 'referral.read', entityType: 'referral', entityId: 'kept' }))
    expect(
      await db.owner
        .select()
        .from(auditLogs)
        .where(sql`${auditLogs.clinicId} = ${clinicId}`),
    ).toMatchObject([{ entityId: 'kept', seq: 1 }])
  })
})
