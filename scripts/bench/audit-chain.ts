/**
 * The audit hash chain (drizzle/0005_audit_chain_triggers.sql) computed in Node for the bulk load:
 * the same canonical text as audit_canonical() and the same sha256 as audit_hash(). The loaded
 * rows are then checked by the database's own audit_verify(), so a mismatch cannot go unnoticed.
 */
import { createHash } from 'node:crypto'
import type { PgClient } from './pg'

export type AuditSeedRow = {
  id: number
  clinic_id: string
  seq: number
  actor_id: string | null
  actor_role: string | null
  action: string
  entity_type: string | null
  entity_id: string | null
  /** Sent as JSON; `detailsText` is PostgreSQL's jsonb::text of it. */
  details: Record<string, unknown> | null
  request_id: string | null
  ip: string | null
  user_agent: string | null
  outcome: string
  /** ISO 8601 with microseconds, UTC. */
  occurred_at: string
  prev_hash: string | null
  hash: string
}

/** epoch microseconds -> 2026-01-02T03:04:05.123456Z (what to_char(... 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') prints). */
export function isoMicros(epochMicros: number) {
  const ms = Math.floor(epochMicros / 1000)
  const micros = epochMicros - ms * 1000
  const iso = new Date(ms).toISOString() // 2026-01-02T03:04:05.123Z
  return `${iso.slice(0, 19)}.${String(ms % 1000).padStart(3, '0')}${String(micros).padStart(3, '0')}Z`
}

/**
 * jsonb::text for the shapes the seed writes: objects (keys ordered as jsonb orders them: shorter
 * first, then bytewise), arrays, strings without characters that need escaping, numbers, booleans.
 */
export function jsonbText(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return `[${value.map(jsonbText).join(', ')}]`
  if (typeof value === 'object') {
    const keys = Object.keys(value as object).sort((a, b) => Buffer.byteLength(a) - Buffer.byteLength(b) || Buffer.compare(Buffer.from(a), Buffer.from(b)))
    return `{${keys.map((k) => `${JSON.stringify(k)}: ${jsonbText((value as Record<string, unknown>)[k])}`).join(', ')}}`
  }
  if (typeof value === 'string') {
    if (!/^[\x20-\x7e]*$/.test(value) || /["\\]/.test(value)) throw new Error('jsonbText: keep seeded strings plain ASCII')
    return JSON.stringify(value)
  }
  return String(value)
}

export function auditHash(row: Omit<AuditSeedRow, 'hash'>) {
  const canonical = [
    String(row.id),
    row.clinic_id ?? '-',
    String(row.seq),
    row.actor_id ?? '',
    row.actor_role ?? '',
    row.action,
    row.entity_type ?? '',
    row.entity_id ?? '',
    row.details === null ? '' : jsonbText(row.details),
    row.request_id ?? '',
    row.ip ?? '',
    row.user_agent ?? '',
    row.outcome,
    row.occurred_at,
    row.prev_hash ?? '',
  ].join('|')
  return createHash('sha256').update(canonical, 'utf8').digest('hex')
}

/** The database's own check of one clinic's chain, timed. */
export async function auditVerify(client: PgClient, clinicId: string) {
  const t = performance.now()
  const v = (await client.query<{ ok: boolean; checked: string; reason: string | null }>('select ok, checked, reason from audit_verify($1::uuid)', [clinicId]))
    .rows[0]!
  return { ok: v.ok, rows: Number(v.checked), reason: v.reason, ms: Math.round(performance.now() - t) }
}
