/** Owner-role jobs on the audit trail: verify every chain; remove rows past retention. */
import { sql } from 'drizzle-orm'
import type { Database } from '../../app/db/client.server'

export type ChainReport = { chain: string; ok: boolean; checked: number; brokenSeq: number | null; brokenId: number | null; reason: string | null }

export async function verifyAllChains(db: Database): Promise<ChainReport[]> {
  const chains = await db.execute<{ chain: string }>(sql`select chain from audit_chain_heads order by chain`)
  const reports: ChainReport[] = []
  for (const { chain } of chains.rows) {
    const clinic = chain === '-' ? null : chain
    const result = await db.execute<{ ok: boolean; checked: string; broken_seq: string | null; broken_id: string | null; reason: string | null }>(
      sql`select * from audit_verify(${clinic}::uuid)`,
    )
    const r = result.rows[0]!
    reports.push({ chain, ok: r.ok, checked: Number(r.checked), brokenSeq: r.broken_seq ? Number(r.broken_seq) : null, brokenId: r.broken_id ? Number(r.broken_id) : null, reason: r.reason })
  }
  // The verification is itself recorded, in each clinic's own trail.
  for (const report of reports) {
    if (report.chain === '-') continue
    await db.execute(sql`insert into audit_logs (clinic_id, actor_role, action, entity_type, outcome, details)
      values (${report.chain}::uuid, 'system', 'audit.verify', 'audit_log', ${report.ok ? 'success' : 'error'},
        ${JSON.stringify({ checked: report.checked, brokenSeq: report.brokenSeq, via: 'npm run audit:verify' })}::jsonb)`)
  }
  return reports
}

export type RetentionPlan = { chain: string; removable: number; throughSeq: number | null }

/**
 * Rows older than the cutoff form a prefix of each chain (seq order); that prefix is removed
 * and a checkpoint keeps the last removed hash, so what remains still verifies.
 */
export async function applyRetention(db: Database, options: { cutoff: Date; apply: boolean }): Promise<RetentionPlan[]> {
  return db.transaction(async (tx) => {
    const plans = await tx.execute<{ chain: string; removable: string; through_seq: string | null }>(sql`
      select h.chain,
        (select count(*) from audit_logs a where coalesce(a.clinic_id::text, '-') = h.chain and a.seq <= p.through) as removable,
        p.through as through_seq
      from audit_chain_heads h
      cross join lateral (
        select coalesce(
          (select min(a.seq) - 1 from audit_logs a where coalesce(a.clinic_id::text, '-') = h.chain and a.occurred_at >= ${options.cutoff}),
          (select max(a.seq) from audit_logs a where coalesce(a.clinic_id::text, '-') = h.chain and a.occurred_at < ${options.cutoff})
        ) as through
      ) p
      order by h.chain`)
    const result = plans.rows.map((p) => ({ chain: p.chain, removable: Number(p.removable), throughSeq: p.through_seq ? Number(p.through_seq) : null }))
    if (!options.apply) return result
    // The one exception to append-only, for this transaction and the owner only.
    await tx.execute(sql`set local intakepilot.retention = 'on'`)
    for (const plan of result) {
      if (!plan.throughSeq || plan.removable === 0) continue
      const match = sql`coalesce(clinic_id::text, '-') = ${plan.chain}`
      await tx.execute(sql`insert into audit_checkpoints (chain, seq, hash, removed_rows)
        select ${plan.chain}, seq, hash, ${plan.removable} from audit_logs where ${match} and seq = ${plan.throughSeq}
        on conflict (chain) do update set seq = excluded.seq, hash = excluded.hash,
          removed_rows = audit_checkpoints.removed_rows + excluded.removed_rows, created_at = now()`)
      await tx.execute(sql`delete from audit_logs where ${match} and seq <= ${plan.throughSeq}`)
    }
    return result
  })
}
