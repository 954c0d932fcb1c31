/**
 * Verifying the audit trail without trusting the database (docs/decisions/021): every row's hash
 * is recomputed here, in TypeScript, exactly as drizzle/0004_audit_chain.sql defines it, and
 * every chain is compared with the signed checkpoints kept outside the database. Nothing here
 * calls audit_verify() or reads audit_checkpoints: the database owner can replace or rewrite both.
 */
import { createHash } from 'node:crypto'
import { sql } from 'drizzle-orm'
import type { Database } from '../../app/db/client.server'
import type { CheckpointListing, SignedCheckpoint } from '../../app/audit/checkpoints.server'

/** A row as PostgreSQL prints it: the same text audit_canonical() joins. */
export type ChainRow = {
  id: string
  clinic_id: string | null
  seq: string
  actor_id: string | null
  actor_role: string | null
  action: string
  entity_type: string | null
  entity_id: string | null
  details: string | null
  request_id: string | null
  ip: string | null
  user_agent: string | null
  outcome: string
  occurred_at: string | null
  prev_hash: string | null
  hash: string | null
}

/**
 * audit_canonical(): concat_ws('|', ...) over the row, each optional column coalesced to ''
 * (the clinic to '-'), the time in UTC with microseconds. concat_ws skips a NULL argument, and
 * only the time can still be NULL here (to_char of an infinite timestamp).
 */
export function canonicalRow(r: ChainRow): string {
  return [
    r.id,
    r.clinic_id ?? '-',
    r.seq,
    r.actor_id ?? '',
    r.actor_role ?? '',
    r.action,
    r.entity_type ?? '',
    r.entity_id ?? '',
    r.details ?? '',
    r.request_id ?? '',
    r.ip ?? '',
    r.user_agent ?? '',
    r.outcome,
    r.occurred_at,
    r.prev_hash ?? '',
  ]
    .filter((part) => part !== null)
    .join('|')
}

export const rowHash = (r: ChainRow) => createHash('sha256').update(canonicalRow(r), 'utf8').digest('hex')

export type ChainVerdict = {
  chain: string
  ok: boolean
  checked: number
  /** The first problem, in words that name the row or the range. */
  problem: string | null
  brokenSeq: number | null
  brokenId: number | null
  /** Signed head checkpoints compared with the rows. */
  anchored: number
  /** Rows after the newest signed checkpoint: not yet anchored outside the database. */
  unanchored: number
}

const BATCH = 5000

/** The database, or a transaction in it (a test's tampering, seen before it commits). */
export type Queryable = Pick<Database, 'execute'>

const rows = (from: number, to: number) => (from === to ? `row seq ${from} is` : `rows seq ${from}–${to} are`)

/**
 * Walks one chain in seq order, recomputing each hash, and checks it against the chain's signed
 * checkpoints. Stops at the first problem.
 */
export async function verifyChain(db: Queryable, chain: string, checkpoints: SignedCheckpoint[]): Promise<ChainVerdict> {
  const mine = checkpoints.filter((c) => c.chain === chain)
  const retention = mine.filter((c) => c.kind === 'retention').sort((a, b) => b.seq - a.seq)[0]
  const removedThrough = retention?.seq ?? 0
  // Checkpoints of rows that retention has removed on purpose cannot be compared any more.
  const heads = mine.filter((c) => c.kind === 'head' && c.seq > removedThrough).sort((a, b) => a.seq - b.seq)
  const verdict: ChainVerdict = { chain, ok: true, checked: 0, problem: null, brokenSeq: null, brokenId: null, anchored: 0, unanchored: 0 }
  const fail = (problem: string, seq: number | null = null, id: number | null = null) =>
    Object.assign(verdict, { ok: false, problem, brokenSeq: seq, brokenId: id })
  const clinicIs = chain === '-' ? sql`clinic_id is null` : sql`clinic_id = ${chain}::uuid`

  // A row the owner slipped in without a position is outside the chain: count it as a break.
  const unnumbered = await db.execute<{ id: string }>(sql`select id::text from audit_logs where ${clinicIs} and seq is null order by id limit 1`)
  if (unnumbered.rows[0]) return fail(`row id ${unnumbered.rows[0].id} has no place in the chain (no seq)`, null, Number(unnumbered.rows[0].id))

  let expectedSeq: number | null = null
  let expectedPrev: string | null = null
  let lastMatched = removedThrough
  let headIndex = 0
  let after = 0
  for (;;) {
    const batch = await db.execute<ChainRow>(sql`
      select id::text, clinic_id::text, seq::text, actor_id::text, actor_role, action, entity_type, entity_id,
        details::text, request_id, ip, user_agent, outcome,
        to_char(occurred_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as occurred_at, prev_hash, hash
      from audit_logs where ${clinicIs} and seq > ${after} order by audit_logs.seq limit ${BATCH}`)
    for (const row of batch.rows) {
      const seq = Number(row.seq)
      const id = Number(row.id)
      if (expectedSeq === null) {
        // The start: seq 1, or the row after a signed retention checkpoint.
        if (seq === 1) expectedPrev = null
        else if (retention && seq === retention.seq + 1) expectedPrev = retention.hash
        else if (retention && seq <= retention.seq)
          expectedPrev = row.prev_hash // removal under way: checked at retention.seq
        else return fail(`${rows(removedThrough + 1, seq - 1)} missing (no signed retention checkpoint covers them)`, removedThrough + 1)
        expectedSeq = seq
      }
      if (seq !== expectedSeq) {
        return seq > expectedSeq ? fail(`${rows(expectedSeq, seq - 1)} missing`, expectedSeq) : fail(`row seq ${seq} (id ${id}) is out of order`, seq, id)
      }
      if (row.prev_hash !== expectedPrev) return fail(`row seq ${seq} (id ${id}) does not follow the row before it (replaced or reordered)`, seq, id)
      if (row.hash !== rowHash(row)) return fail(`row seq ${seq} (id ${id}): content changed after it was written`, seq, id)
      if (retention && seq === retention.seq && row.hash !== retention.hash) {
        return fail(`row seq ${seq} (id ${id}) is not the row the retention checkpoint of ${retention.at} signed`, seq, id)
      }
      for (; headIndex < heads.length && heads[headIndex]!.seq === seq; headIndex++) {
        const signed = heads[headIndex]!
        verdict.anchored++
        if (signed.hash !== row.hash) {
          const range = lastMatched + 1 === seq ? `row seq ${seq} (id ${id})` : `rows seq ${lastMatched + 1}–${seq}`
          return fail(
            `${range} rewritten: row seq ${seq} is not the row signed at ${signed.at} (${signed.by})` +
              (lastMatched ? `; the signed row seq ${lastMatched} still matches` : ''),
            lastMatched + 1,
            lastMatched + 1 === seq ? id : null,
          )
        }
        lastMatched = seq
      }
      verdict.checked++
      expectedSeq = seq + 1
      expectedPrev = row.hash
      after = seq
    }
    if (batch.rows.length < BATCH) break
  }

  const lastSeq = expectedSeq === null ? removedThrough : expectedSeq - 1
  const beyond = heads.filter((h) => h.seq > lastSeq)
  if (beyond.length) {
    const newest = beyond.at(-1)!
    return fail(
      `${rows(lastSeq + 1, newest.seq)} missing: the chain ends at seq ${lastSeq}, and a checkpoint signed at ${newest.at} (${newest.by}) saw seq ${newest.seq}`,
      lastSeq + 1,
    )
  }
  verdict.unanchored = lastSeq - Math.max(lastMatched, removedThrough)
  return verdict
}

/**
 * Every chain the database or the checkpoints know of: a clinic whose rows and chain head were
 * all removed is still found by its checkpoints.
 */
export async function chainsToVerify(db: Queryable, listing: CheckpointListing): Promise<string[]> {
  const known = await db.execute<{ chain: string }>(sql`
    select chain from audit_chain_heads
    union select id::text from clinics
    union select coalesce(clinic_id::text, '-') from (
      with recursive c(id) as (
        (select clinic_id from audit_logs where clinic_id is not null order by clinic_id limit 1)
        union all
        select (select clinic_id from audit_logs where clinic_id > c.id order by clinic_id limit 1) from c where c.id is not null
      ) select id as clinic_id from c where id is not null
    ) rows_of_clinics`)
  return [...new Set([...known.rows.map((r) => r.chain), ...listing.valid.map((c) => c.chain)])].sort()
}
