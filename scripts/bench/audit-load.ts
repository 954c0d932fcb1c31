/**
 * `npm run bench:audit`'s big trail: N audit rows bulk-loaded into the clinics' hash chains,
 * continuing each chain from its current head (the rows the app wrote while the near-empty
 * trail was measured), so that one chain runs app rows -> loaded rows -> app rows and
 * audit_verify() checks the joins as well as the loaded rows.
 *
 * Loaded as the bench seed loads (seed.ts): the chain computed in Node (audit-chain.ts, the same
 * canonical text and sha256 as audit_hash()), multi-row INSERTs from JSON over two superuser
 * connections with `session_replication_role = replica` (the chain trigger off, since the rows
 * carry their seq and hash), the indexes that back no constraint dropped for the load and built
 * again afterwards, the chain heads and the id sequence set, then VACUUM ANALYZE and a checkpoint.
 * Rows are written in time order over the past year, each to a random clinic (ids and heap order
 * interleave clinics as a live trail does), with the bench seed's mix of actions (auditRow).
 */
import { createRandom } from '../../tests/factories/random'
import { isoMicros, type AuditSeedRow } from './audit-chain'
import { connectPg } from './pg'
import { auditRow, createLoader, dropPlainIndexes, recreateIndexes } from './seed'

export type AuditClinic = { id: string; staff: string[]; referrers: string[] }
export type AuditLoadResult = { rows: number; chains: number; timingsMs: Record<string, number>; nodeWaitedMs: number }

const DAY_MS = 86_400_000
/** Distinct referral ids per clinic that the loaded rows point at (audit_logs has no foreign keys). */
const ENTITIES_PER_CLINIC = 5_000

export async function loadAuditTrail(options: {
  superuserUrl: string
  clinics: AuditClinic[]
  rows: number
  log: (line: string) => void
}): Promise<AuditLoadResult> {
  const { clinics, rows, log } = options
  const timingsMs: Record<string, number> = {}
  const timed = async <T>(name: string, fn: () => Promise<T>) => {
    const t = performance.now()
    const result = await fn()
    timingsMs[name] = Math.round(performance.now() - t)
    return result
  }
  const random = createRandom(20261125)
  const admin = await connectPg(options.superuserUrl)
  // Checkpoints during the load only cost time; the setting is reset before anything is measured.
  await admin.query(`alter system set max_wal_size = '16GB'`)
  await admin.query('select pg_reload_conf()')
  const loader = await createLoader(options.superuserUrl, 2)
  try {
    const heads = new Map((await admin.query<{ chain: string; seq: string; hash: string }>('select chain, seq, hash from audit_chain_heads')).rows.map((h) => [h.chain, h]))
    const chains = clinics.map((c) => {
      const head = heads.get(c.id)
      return { ...c, seq: Number(head?.seq ?? 0), prev: head?.hash || null, entities: Array.from({ length: ENTITIES_PER_CLINIC }, () => crypto.randomUUID()) }
    })
    // Past every id the app has drawn (rolled-back inserts draw ids too).
    const sequence = (await admin.query<{ last_value: string; is_called: boolean }>('select last_value, is_called from audit_logs_id_seq')).rows[0]!
    let nextId = Number(sequence.last_value) + (sequence.is_called ? 1 : 0)
    const dropped = await timed('drop_indexes', () => dropPlainIndexes(admin, ['audit_logs']))

    await timed('insert', async () => {
      const BATCH = 5000
      const end = (Date.now() - 60_000) * 1000
      const step = Math.max(1, Math.floor((365 * DAY_MS * 1000) / rows))
      const start = end - step * rows
      let batch: AuditSeedRow[] = []
      let reported = performance.now()
      for (let i = 0; i < rows; i++) {
        const chain = chains[random.int(0, chains.length - 1)]!
        const row = auditRow(random, {
          id: nextId++, clinicId: chain.id, seq: ++chain.seq, prevHash: chain.prev,
          occurredMicros: start + i * step + random.int(0, step - 1),
          referralIds: chain.entities, staff: chain.staff, referrers: chain.referrers,
        })
        chain.prev = row.hash
        batch.push(row)
        if (batch.length >= BATCH) {
          await loader.submit('audit_logs', batch)
          batch = []
          if (performance.now() - reported > 30_000) {
            reported = performance.now()
            log(`  ${(i + 1).toLocaleString('en')} of ${rows.toLocaleString('en')} audit rows sent`)
          }
        }
      }
      if (batch.length) await loader.submit('audit_logs', batch)
      await loader.drain()
    })
    await admin.query(
      `insert into audit_chain_heads (chain, seq, hash) select chain, seq, hash from json_populate_recordset(null::audit_chain_heads, $1::json)
       on conflict (chain) do update set seq = excluded.seq, hash = excluded.hash`,
      [JSON.stringify(chains.filter((c) => c.prev).map((c) => ({ chain: c.id, seq: c.seq, hash: c.prev })))],
    )
    await admin.query(`select setval('audit_logs_id_seq', $1)`, [nextId - 1])
    log(`audit rows loaded: ${rows.toLocaleString('en')} in ${chains.length} chains (${(timingsMs.insert! / 1000).toFixed(1)} s; Node waited ${(loader.waitMs / 1000).toFixed(1)} s for PostgreSQL)`)

    await timed('create_indexes', () => recreateIndexes(loader.clients, dropped))
    log(`${dropped.length} indexes built again (${(timingsMs.create_indexes! / 1000).toFixed(1)} s)`)
    await timed('vacuum_analyze', async () => {
      await admin.query('vacuum (analyze) audit_logs, audit_chain_heads')
      await admin.query('alter system reset max_wal_size')
      await admin.query('select pg_reload_conf()')
      await admin.query('checkpoint')
    })
    log(`VACUUM ANALYZE and checkpoint (${(timingsMs.vacuum_analyze! / 1000).toFixed(1)} s)`)
    return { rows, chains: chains.length, timingsMs, nodeWaitedMs: Math.round(loader.waitMs) }
  } finally {
    await loader.end()
    await admin.end()
  }
}
