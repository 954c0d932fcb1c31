/**
 * Owner-role jobs on the audit trail (docs/decisions/021): verify every chain against the signed
 * checkpoints; checkpoint every chain's head; remove rows past retention, leaving a checkpoint.
 */
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { sql } from 'drizzle-orm'
import type { Database } from '../../app/db/client.server'
import { readCheckpoints, writeCheckpoint, type CheckpointBucket } from '../../app/audit/checkpoints.server'
import { chainsToVerify, verifyChain, type ChainVerdict, type Queryable } from './audit-verify'

export type CheckpointAccess = { bucket: CheckpointBucket; key: string }

export type TrailReport = { chains: ChainVerdict[]; badCheckpoints: string[]; ok: boolean }

/** Recomputes every chain (or one) and compares it with every signed checkpoint. Records nothing. */
export async function verifyTrail(db: Queryable, store: CheckpointAccess, only?: string): Promise<TrailReport> {
  const listing = await readCheckpoints(store.bucket, store.key)
  const chains: ChainVerdict[] = []
  const all = await chainsToVerify(db, listing)
  for (const chain of only ? [only] : all) chains.push(await verifyChain(db, chain, listing.valid))
  return { chains, badCheckpoints: listing.badSignature, ok: listing.badSignature.length === 0 && chains.every((c) => c.ok) }
}

/** `npm run audit:verify`: verify, then record the verification in each clinic's own trail. */
export async function verifyAllChains(db: Database, store: CheckpointAccess, only?: string): Promise<TrailReport> {
  const report = await verifyTrail(db, store, only)
  for (const chain of report.chains) {
    if (chain.chain === '-') continue
    // A clinic whose rows were all removed may be gone too: nothing to record it in.
    const exists = await db.execute(sql`select 1 from clinics where id = ${chain.chain}::uuid`)
    if (!exists.rows.length) continue
    await db.execute(sql`insert into audit_logs (clinic_id, actor_role, action, entity_type, outcome, details)
      values (${chain.chain}::uuid, 'system', 'audit.verify', 'audit_log', ${chain.ok ? 'success' : 'error'},
        ${JSON.stringify({ checked: chain.checked, brokenSeq: chain.brokenSeq, anchored: chain.anchored, via: 'npm run audit:verify' })}::jsonb)`)
  }
  return report
}

export type ChainHead = { chain: string; seq: number; hash: string }

/** Each chain's last row as the rows say (not as audit_chain_heads says). */
export async function chainHeads(db: Database): Promise<ChainHead[]> {
  // Two arms, so that each reads the (clinic_id, seq) index backwards: one row per chain.
  const result = await db.execute<{ chain: string; seq: string; hash: string }>(sql`
    select h.chain, last.seq::text, last.hash from audit_chain_heads h
    cross join lateral (
      select a.seq, a.hash from audit_logs a where a.clinic_id = nullif(h.chain, '-')::uuid order by a.seq desc limit 1
    ) last
    where h.chain <> '-' and last.hash is not null
    union all
    select '-', last.seq::text, last.hash from (
      select a.seq, a.hash from audit_logs a where a.clinic_id is null order by a.seq desc limit 1
    ) last
    where last.hash is not null
    order by 1`)
  return result.rows.map((r) => ({ chain: r.chain, seq: Number(r.seq), hash: r.hash }))
}

/** `npm run audit:checkpoint`: a signed checkpoint of every chain's head. Same head, same object. */
export async function checkpointAllChains(db: Database, store: CheckpointAccess, by = 'schedule'): Promise<ChainHead[]> {
  const heads = await chainHeads(db)
  const at = new Date().toISOString()
  for (const head of heads) await writeCheckpoint(store.bucket, store.key, { kind: 'head', ...head, at, by })
  return heads
}

/** The trigger's own period (drizzle/0016): retention may not ask for less. */
export const RETENTION_YEARS = 7

export type RetentionPlan = { chain: string; removable: number; throughSeq: number | null }

/**
 * Rows older than the cutoff form a prefix of each chain (seq order); that prefix is removed.
 * Before anything is removed, the chains are verified (a rewritten trail is not trimmed: that
 * would sign the rewrite) and a signed retention checkpoint names the last removed row, so the
 * verifier knows the start of the chain went on purpose. The in-database checkpoint is kept
 * too, for audit_verify() (the admin's quick check in the app).
 */
export async function applyRetention(db: Database, options: { cutoff: Date; apply: boolean; store?: CheckpointAccess }): Promise<RetentionPlan[]> {
  const latest = new Date()
  latest.setUTCFullYear(latest.getUTCFullYear() - RETENTION_YEARS)
  if (options.cutoff > latest) throw new Error(`retention keeps ${RETENTION_YEARS} years: the cutoff must be on or before ${latest.toISOString()}`)
  const plans = await db.execute<{ chain: string; removable: string; through_seq: string | null; hash: string | null }>(sql`
    select h.chain,
      (select count(*) from audit_logs a where coalesce(a.clinic_id::text, '-') = h.chain and a.seq <= p.through) as removable,
      p.through as through_seq,
      (select a.hash from audit_logs a where coalesce(a.clinic_id::text, '-') = h.chain and a.seq = p.through) as hash
    from audit_chain_heads h
    cross join lateral (
      select coalesce(
        (select min(a.seq) - 1 from audit_logs a where coalesce(a.clinic_id::text, '-') = h.chain and a.occurred_at >= ${options.cutoff}),
        (select max(a.seq) from audit_logs a where coalesce(a.clinic_id::text, '-') = h.chain and a.occurred_at < ${options.cutoff})
      ) as through
    ) p
    order by h.chain`)
  const result = plans.rows.map((p) => ({
    chain: p.chain,
    removable: Number(p.removable),
    throughSeq: p.through_seq ? Number(p.through_seq) : null,
    hash: p.hash,
  }))
  const work = result.filter((p) => p.throughSeq && p.removable > 0 && p.hash)
  if (!options.apply || !work.length) return result.map(({ hash: _, ...plan }) => plan)
  if (!options.store) throw new Error('retention needs the checkpoint bucket and key: it leaves a signed checkpoint')
  const store = options.store

  const check = await verifyTrail(db, store)
  const broken = check.chains.filter((c) => !c.ok && work.some((p) => p.chain === c.chain))
  if (broken.length) throw new Error(`retention refused: ${broken.map((c) => `${c.chain}: ${c.problem}`).join('; ')}`)

  const at = new Date().toISOString()
  for (const plan of work) {
    await writeCheckpoint(store.bucket, store.key, {
      kind: 'retention',
      chain: plan.chain,
      seq: plan.throughSeq!,
      hash: plan.hash!,
      at,
      by: 'retention',
      cutoff: options.cutoff.toISOString(),
    })
  }
  await db.transaction(async (tx) => {
    // The one exception to append-only, for this transaction and the owner only; the trigger
    // still refuses any row younger than the retention period.
    await tx.execute(sql`set local intakepilot.retention = 'on'`)
    for (const plan of work) {
      const match = sql`coalesce(clinic_id::text, '-') = ${plan.chain}`
      await tx.execute(sql`insert into audit_checkpoints (chain, seq, hash, removed_rows)
        values (${plan.chain}, ${plan.throughSeq}, ${plan.hash}, ${plan.removable})
        on conflict (chain) do update set seq = excluded.seq, hash = excluded.hash,
          removed_rows = audit_checkpoints.removed_rows + excluded.removed_rows, created_at = now()`)
      await tx.execute(sql`delete from audit_logs where ${match} and seq <= ${plan.throughSeq}`)
    }
  })
  // And the heads as they stand after the removal.
  await checkpointAllChains(db, store, 'retention')
  return result.map(({ hash: _, ...plan }) => plan)
}

/**
 * `npm start`'s checkpoint schedule: `npm run audit:checkpoint -- --every <seconds>` as a child
 * process, so that a failing checkpoint never takes the stack down. Production runs the same
 * command from a cron (README, "Audit trail"). Returns the function that stops it.
 */
export function startCheckpointSchedule(options: { dataDir: string; everySeconds?: number }) {
  const child = spawn('npx', ['tsx', fileURLToPath(new URL('../audit-checkpoint.ts', import.meta.url)), '--every', String(options.everySeconds ?? 300)], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, DATA_DIR: options.dataDir },
    detached: true,
  })
  return () => {
    try {
      if (child.pid && child.exitCode === null) process.kill(-child.pid, 'SIGTERM')
    } catch {}
  }
}
