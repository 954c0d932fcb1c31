/**
 * The audit trail against its own database owner (docs/decisions/021). As intakepilot_owner,
 * each known way of rewriting the trail is carried out for real; the verifier (recomputing every
 * hash in TypeScript, comparing with the signed checkpoints in a real local R2 bucket) must say
 * BROKEN and name the first bad row or the missing range. The checkpoints are written as the
 * scheduled job writes them (checkpointAllChains).
 */
import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { sql } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { recordAudit } from '../../app/audit/audit.server'
import { readCheckpoints, writeCheckpoint } from '../../app/audit/checkpoints.server'
import { auditLogs, clinics, users } from '../../app/db/schema'
import { applyRetention, checkpointAllChains, verifyTrail } from '../../scripts/lib/audit-jobs'
import { openCheckpointStore, type CheckpointStore } from '../../scripts/lib/audit-store'
import type { Queryable } from '../../scripts/lib/audit-verify'
import { sqlState, useTestDatabase } from '../support/db'

const db = useTestDatabase()
const request = { requestId: 'anchoring', ip: null, userAgent: 'vitest' }
const dataDir = mkdtempSync(join(tmpdir(), 'intakepilot-anchoring-'))
const key = randomBytes(32).toString('base64')
let store: CheckpointStore
beforeAll(async () => {
  store = await openCheckpointStore({ dataDir, key })
}, 60_000)
afterAll(async () => {
  await store?.close()
  rmSync(dataDir, { recursive: true, force: true })
})

async function clinicWithTrail(rows: number) {
  const slug = `anchor-${crypto.randomUUID().slice(0, 8)}`
  const [clinic] = await db.owner
    .insert(clinics)
    .values({ slug, name: `Anchor ${slug}` })
    .returning()
  const [staff] = await db.owner
    .insert(users)
    .values({ clinicId: clinic!.id, email: `staff@${slug}.test`, displayName: 'Auditor', role: 'staff', status: 'active' })
    .returning()
  const scope = { clinicId: clinic!.id, userId: staff!.id, role: 'staff' as const }
  const append = async (n: number) => {
    for (let i = 0; i < n; i++)
      await db.as(scope).tenant((tx) => recordAudit(tx, scope, request, { action: 'referral.read', entityType: 'referral', entityId: `r-${i}` }))
  }
  await append(rows)
  return { clinicId: clinic!.id, scope, append }
}

/** The scheduled job's checkpoint, for every chain (as `npm run audit:checkpoint` does). */
const checkpoint = () => checkpointAllChains(db.owner, store)

async function verdict(clinicId: string, on: Queryable = db.owner) {
  const report = await verifyTrail(on, store, clinicId)
  return report.chains[0]!
}

/**
 * The owner's own tools: user triggers off (ALTER TABLE, as the table's owner may), the change,
 * and the chain re-hashed from `from` onward with the database's own audit_hash(), the head moved
 * to match: afterwards the rows are a self-consistent chain that audit_verify() accepts.
 */
async function rewrite(clinicId: string, change: ReturnType<typeof sql>, from: number, on: Queryable = db.owner) {
  await on.execute(sql`alter table audit_logs disable trigger user`)
  await on.execute(change)
  const last = await on.execute<{ seq: string }>(sql`select max(seq)::text as seq from audit_logs where clinic_id = ${clinicId}::uuid`)
  for (let seq = from; seq <= Number(last.rows[0]!.seq); seq++) {
    await on.execute(sql`update audit_logs a set prev_hash = (select p.hash from audit_logs p where p.clinic_id = a.clinic_id and p.seq = a.seq - 1)
      where clinic_id = ${clinicId}::uuid and seq = ${seq}`)
    await on.execute(sql`update audit_logs a set hash = audit_hash(a) where clinic_id = ${clinicId}::uuid and seq = ${seq}`)
  }
  await on.execute(sql`update audit_chain_heads h set seq = last.seq, hash = last.hash
    from (select seq, hash from audit_logs where clinic_id = ${clinicId}::uuid order by seq desc limit 1) last where h.chain = ${clinicId}`)
  await on.execute(sql`alter table audit_logs enable trigger user`)
}

const databaseSays = async (clinicId: string, on: Queryable = db.owner) =>
  (await on.execute<{ ok: boolean }>(sql`select ok from audit_verify(${clinicId}::uuid)`)).rows[0]!.ok

describe('a trail that nobody touched', () => {
  test('verifies against its signed checkpoints', async () => {
    const { clinicId, append } = await clinicWithTrail(3)
    await checkpoint()
    await append(2)
    expect(await verdict(clinicId)).toMatchObject({ ok: true, checked: 5, anchored: 1, unanchored: 2 })
    await checkpoint()
    expect(await verdict(clinicId)).toMatchObject({ ok: true, checked: 5, anchored: 2, unanchored: 0 })
  })

  test('a checkpoint is signed: one written without the key, or altered, is refused', async () => {
    const { clinicId } = await clinicWithTrail(2)
    const [head] = (await checkpoint()).filter((h) => h.chain === clinicId)
    // Someone with the bucket but not the key writes a checkpoint that says "seq 1 was the head".
    const forged = await writeCheckpoint(store.bucket, randomBytes(32).toString('base64'), {
      kind: 'head',
      chain: clinicId,
      seq: 1,
      hash: head!.hash,
      at: new Date().toISOString(),
      by: 'forger',
    })
    const listing = await readCheckpoints(store.bucket, store.key)
    expect(listing.badSignature).toContain(forged)
    expect(listing.valid.filter((c) => c.chain === clinicId).map((c) => c.seq)).toEqual([2])
    await store.bucket.delete(forged)
  })
})

describe('the owner rewrites the trail: the verifier says BROKEN and where', () => {
  test('(a) triggers off, a row edited and the chain re-hashed onward', async () => {
    const { clinicId, append } = await clinicWithTrail(2)
    await checkpoint() // seq 2
    await append(3)
    await checkpoint() // seq 5
    await rewrite(clinicId, sql`update audit_logs set entity_id = 'someone-else' where clinic_id = ${clinicId}::uuid and seq = 4`, 4)
    expect(await databaseSays(clinicId)).toBe(true)
    expect(await verdict(clinicId)).toMatchObject({
      ok: false,
      brokenSeq: 3,
      problem: expect.stringMatching(/^rows seq 3–5 rewritten: row seq 5 is not the row signed at .* \(schedule\); the signed row seq 2 still matches$/),
    })
    // The command itself, as an operator runs it.
    const { stdout, code } = await runVerify(clinicId)
    expect(code, stdout).toBe(1)
    expect(stdout).toMatch(new RegExp(`^BROKEN  clinic ${clinicId}: rows seq 3–5 rewritten`, 'm'))
    expect(stdout).toContain('The audit trail has been tampered with.')
  }, 60_000)

  test('(a) with a checkpoint after every row, the first rewritten row itself is named', async () => {
    const { clinicId, append } = await clinicWithTrail(0)
    for (let i = 0; i < 4; i++) await append(1).then(checkpoint)
    await rewrite(clinicId, sql`update audit_logs set outcome = 'denied' where clinic_id = ${clinicId}::uuid and seq = 3`, 3)
    const result = await verdict(clinicId)
    const [row3] = await db.owner
      .select({ id: auditLogs.id })
      .from(auditLogs)
      .where(sql`${auditLogs.clinicId} = ${clinicId} and ${auditLogs.seq} = 3`)
    expect(result).toMatchObject({
      ok: false,
      brokenSeq: 3,
      brokenId: row3!.id,
      problem: expect.stringMatching(new RegExp(`^row seq 3 \\(id ${row3!.id}\\) rewritten`)),
    })
  })

  test('(b) audit_verify() replaced with one that always says OK, and a row edited', async () => {
    const { clinicId } = await clinicWithTrail(4)
    await checkpoint()
    const [row2] = await db.owner
      .select({ id: auditLogs.id })
      .from(auditLogs)
      .where(sql`${auditLogs.clinicId} = ${clinicId} and ${auditLogs.seq} = 2`)
    // Rolled back at the end, seen by the verifier before that: the replaced function would
    // otherwise answer for every other test's trail too.
    await rollingBack(async (tx) => {
      await tx.execute(sql`create or replace function audit_verify(p_clinic uuid)
        returns table (ok boolean, checked bigint, broken_seq bigint, broken_id bigint, reason text)
        language sql stable as $$ select true, 0::bigint, null::bigint, null::bigint, null::text $$`)
      await tx.execute(sql`alter table audit_logs disable trigger user`)
      await tx.execute(sql`update audit_logs set actor_role = 'admin' where clinic_id = ${clinicId}::uuid and seq = 2`)
      expect(await databaseSays(clinicId, tx)).toBe(true)
      expect(await verdict(clinicId, tx)).toMatchObject({
        ok: false,
        brokenSeq: 2,
        brokenId: row2!.id,
        problem: `row seq 2 (id ${row2!.id}): content changed after it was written`,
      })
    })
  })

  test('(c) the retention switch no longer removes recent rows; removed anyway, the range is named', async () => {
    const { clinicId } = await clinicWithTrail(5)
    await checkpoint()
    const attempt = db.owner.transaction(async (tx) => {
      await tx.execute(sql`set local intakepilot.retention = 'on'`)
      await tx.execute(sql`delete from audit_logs where clinic_id = ${clinicId}::uuid and seq >= 4`)
    })
    expect(await sqlState(attempt)).toBe('42501')
    expect(await db.owner.$count(auditLogs, sql`${auditLogs.clinicId} = ${clinicId}`)).toBe(5)

    // The owner removes them anyway, triggers off: the newest, and one in the middle.
    await db.owner.transaction(async (tx) => {
      await tx.execute(sql`alter table audit_logs disable trigger user`)
      await tx.execute(sql`delete from audit_logs where clinic_id = ${clinicId}::uuid and seq >= 4`)
      await tx.execute(sql`alter table audit_logs enable trigger user`)
    })
    expect(await verdict(clinicId)).toMatchObject({
      ok: false,
      brokenSeq: 4,
      problem: expect.stringMatching(/^rows seq 4–5 are missing: the chain ends at seq 3, and a checkpoint signed at .* saw seq 5$/),
    })
    await db.owner.transaction(async (tx) => {
      await tx.execute(sql`alter table audit_logs disable trigger user`)
      await tx.execute(sql`delete from audit_logs where clinic_id = ${clinicId}::uuid and seq = 2`)
      await tx.execute(sql`alter table audit_logs enable trigger user`)
    })
    expect(await verdict(clinicId)).toMatchObject({ ok: false, brokenSeq: 2, problem: 'row seq 2 is missing' })
  })

  test('(d) the newest rows removed and the chain head moved back, then the chain grows again', async () => {
    const { clinicId, append } = await clinicWithTrail(5)
    await checkpoint() // seq 5
    await rewrite(clinicId, sql`delete from audit_logs where clinic_id = ${clinicId}::uuid and seq >= 4`, 4)
    expect(await databaseSays(clinicId)).toBe(true)
    // New rows take the numbers again, and the next scheduled checkpoint signs the new head.
    await append(1)
    await checkpoint()
    expect(await databaseSays(clinicId)).toBe(true)
    expect(await verdict(clinicId)).toMatchObject({
      ok: false,
      brokenSeq: 5,
      problem: expect.stringMatching(/^row seq 5 is missing: the chain ends at seq 4, and a checkpoint signed at .* saw seq 5$/),
    })
    await append(1) // seq 5 again, but not the row that was signed
    expect(await verdict(clinicId)).toMatchObject({ ok: false, brokenSeq: 5, problem: expect.stringMatching(/^row seq 5 \(id \d+\) rewritten/) })
    const { stdout } = await runVerify(clinicId)
    expect(stdout).toMatch(new RegExp(`^BROKEN  clinic ${clinicId}: row seq 5 \\(id \\d+\\) rewritten`, 'm'))
  }, 60_000)

  test('the start of the chain removed without a signed retention checkpoint', async () => {
    const { clinicId } = await clinicWithTrail(4)
    await checkpoint()
    await db.owner.transaction(async (tx) => {
      await tx.execute(sql`alter table audit_logs disable trigger user`)
      await tx.execute(sql`delete from audit_logs where clinic_id = ${clinicId}::uuid and seq <= 2`)
      // The in-database checkpoint says it was retention: the owner can write that table.
      await tx.execute(
        sql`insert into audit_checkpoints (chain, seq, hash, removed_rows) select ${clinicId}, 2, prev_hash, 2 from audit_logs where clinic_id = ${clinicId}::uuid and seq = 3`,
      )
      await tx.execute(sql`alter table audit_logs enable trigger user`)
    })
    expect(await databaseSays(clinicId)).toBe(true)
    expect(await verdict(clinicId)).toMatchObject({ ok: false, brokenSeq: 1, problem: 'rows seq 1–2 are missing (no signed retention checkpoint covers them)' })
  })
})

describe('retention', () => {
  /** Rows that are really old: written now, then dated back and re-hashed before any checkpoint. */
  async function trailWithOldRows(old: number, recent: number) {
    const trail = await clinicWithTrail(old + recent)
    const eightYearsAgo = new Date(Date.now() - 8 * 365 * 86_400_000)
    await rewrite(trail.clinicId, sql`update audit_logs set occurred_at = ${eightYearsAgo} where clinic_id = ${trail.clinicId}::uuid and seq <= ${old}`, 1)
    return trail
  }

  test('removes only rows past 7 years, leaves a signed checkpoint, and the rest verifies', async () => {
    const { clinicId } = await trailWithOldRows(3, 2)
    await checkpoint()
    const cutoff = yearsAgo(7)
    expect(await applyRetention(db.owner, { cutoff, apply: false })).toContainEqual({ chain: clinicId, removable: 3, throughSeq: 3 })
    await applyRetention(db.owner, { cutoff, apply: true, store })
    const left = await db.owner
      .select({ seq: auditLogs.seq })
      .from(auditLogs)
      .where(sql`${auditLogs.clinicId} = ${clinicId}`)
      .orderBy(auditLogs.seq)
    expect(left.map((r) => r.seq)).toEqual([4, 5])
    const signed = (await readCheckpoints(store.bucket, store.key)).valid.filter((c) => c.chain === clinicId)
    expect(signed).toContainEqual(expect.objectContaining({ kind: 'retention', seq: 3, by: 'retention', cutoff: cutoff.toISOString() }))
    expect(signed).toContainEqual(expect.objectContaining({ kind: 'head', seq: 5, by: 'retention' }))
    expect(await verdict(clinicId)).toMatchObject({ ok: true, checked: 2 })
  })

  test('the trigger refuses a recent row even to the retention switch, and the job a cutoff under 7 years', async () => {
    const { clinicId } = await trailWithOldRows(1, 1)
    const attempt = db.owner.transaction(async (tx) => {
      await tx.execute(sql`set local intakepilot.retention = 'on'`)
      await tx.execute(sql`delete from audit_logs where clinic_id = ${clinicId}::uuid`)
    })
    expect(await sqlState(attempt)).toBe('42501')
    expect(await db.owner.$count(auditLogs, sql`${auditLogs.clinicId} = ${clinicId}`)).toBe(2)
    await expect(applyRetention(db.owner, { cutoff: new Date(Date.now() - 86_400_000), apply: true, store })).rejects.toThrow(/retention keeps 7 years/)
  })

  test('a rewritten trail is not trimmed (that would sign the rewrite)', async () => {
    const { clinicId } = await trailWithOldRows(2, 2)
    await checkpoint()
    await rewrite(clinicId, sql`update audit_logs set entity_id = 'x' where clinic_id = ${clinicId}::uuid and seq = 3`, 3)
    const cutoff = yearsAgo(7)
    await expect(applyRetention(db.owner, { cutoff, apply: true, store })).rejects.toThrow(new RegExp(`retention refused: ${clinicId}: rows seq 1–4 rewritten`))
    expect(await db.owner.$count(auditLogs, sql`${auditLogs.clinicId} = ${clinicId}`)).toBe(4)
  })
})

describe("the database decides a row's time and id", () => {
  test('the runtime role cannot back-date a row or pick its id; the next row does not collide', async () => {
    const { clinicId, scope } = await clinicWithTrail(1)
    const [{ max }] = (await db.owner.execute<{ max: string }>(sql`select max(id)::text as max from audit_logs`)).rows as [{ max: string }]
    const aheadId = Number(max) + 5
    const before = Date.now()
    await db.as(scope).tenant((tx) =>
      tx.execute(sql`insert into audit_logs (id, clinic_id, actor_id, actor_role, action, occurred_at)
        values (${aheadId}, ${clinicId}::uuid, ${scope.userId}::uuid, 'staff', 'referral.read', '2020-01-01T00:00:00Z')`),
    )
    const [written] = await db.owner
      .select()
      .from(auditLogs)
      .where(sql`${auditLogs.clinicId} = ${clinicId} and ${auditLogs.seq} = 2`)
    expect(written!.occurredAt.getTime()).toBeGreaterThanOrEqual(before - 5_000)
    expect(written!.id).not.toBe(aheadId)
    // Rows after it draw ids from the sequence past the one the client asked for: no collision.
    for (let i = 0; i < 8; i++) await db.as(scope).tenant((tx) => recordAudit(tx, scope, request, { action: 'referral.read' }))
    expect(await db.owner.$count(auditLogs, sql`${auditLogs.clinicId} = ${clinicId}`)).toBe(10)
    expect(await verdict(clinicId)).toMatchObject({ problem: null, ok: true, checked: 10 })
  })

  test('the owner cannot either', async () => {
    const { clinicId, scope } = await clinicWithTrail(0)
    await db.owner.insert(auditLogs).values({ id: 1, clinicId, actorId: scope.userId, action: 'referral.read', occurredAt: new Date('2015-06-01T00:00:00Z') })
    const [row] = await db.owner
      .select()
      .from(auditLogs)
      .where(sql`${auditLogs.clinicId} = ${clinicId}`)
    expect(row!.id).not.toBe(1)
    expect(row!.occurredAt.getUTCFullYear()).toBe(new Date().getUTCFullYear())
  })
})

const ROLLBACK = Symbol('rollback')
async function rollingBack(fn: (tx: Queryable) => Promise<void>) {
  await db.owner
    .transaction(async (tx) => {
      await fn(tx)
      throw ROLLBACK
    })
    .catch((error: unknown) => {
      if (error !== ROLLBACK) throw error
    })
}

/** `npm run audit:verify -- --clinic <id>` against this test's database and bucket. */
async function runVerify(clinicId: string) {
  try {
    const { stdout } = await promisify(execFile)('npx', ['tsx', 'scripts/audit-verify.ts', '--clinic', clinicId], {
      env: { ...process.env, MIGRATION_DATABASE_URL: db.config.ownerUrl, DATABASE_WS_PROXY: db.config.wsProxy, DATA_DIR: dataDir, AUDIT_CHECKPOINT_KEY: key },
      timeout: 60_000,
    })
    return { stdout, code: 0 }
  } catch (error) {
    const e = error as { stdout?: string; code?: number }
    return { stdout: e.stdout ?? String(error), code: e.code ?? -1 }
  }
}

function yearsAgo(years: number) {
  const date = new Date()
  date.setUTCFullYear(date.getUTCFullYear() - years)
  return date
}
