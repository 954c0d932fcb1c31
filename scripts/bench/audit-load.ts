/**
 * `npm run bench:audit`'s big trail: N audit rows bulk-loaded into the clinics' hash chains,
 * continuing each chain from its current head (the rows the app wrote while the near-empty
 * trail was measured), so that one chain runs app rows -> loaded rows -> app rows and
 * audit_verify() checks the joins as well as the loaded rows.
 *
 * Loaded as the bench seed loads (seed.ts): the chain computed in Node (audit-chain.ts, the same
 * canonical text and sha256 as audit_hash()), multi-row INSERTs from JSON as the superuser with
 * `session_replication_role = replica` (the chain trigger off: the rows carry their seq and
 * hash), the indexes that back no constraint dropped for the load and built again afterwards,
 * the chain heads and the id sequence set, then VACUUM ANALYZE and a checkpoint.
 *
 * Rows are laid out in time order over the past year, each slot going to a random clinic (ids
 * and heap order interleave clinics as a live trail does), with the bench seed's mix of actions
 * (auditRow). Computing 10 million rows is the slow part, so it runs in worker threads, each
 * owning every W-th clinic's chain and its own connection: all draw the same slot sequence, and
 * each writes only its own clinics' rows (id = the slot's number, so ids stay in time order).
 */
import { cpus } from 'node:os'
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads'
import { createRandom } from '../../tests/factories/random'
import { type AuditSeedRow } from './audit-chain'
import { onCleanup } from './cleanup'
import { connectPg } from './pg'
import { auditRow, createLoader, dropPlainIndexes, recreateIndexes } from './seed'

export type AuditClinic = { id: string; staff: string[]; referrers: string[] }
export type AuditLoadResult = { rows: number; chains: number; workers: number; timingsMs: Record<string, number>; nodeWaitedMs: number }

type Chain = AuditClinic & { seq: number; prev: string | null; entities: string[] }
type Job = { superuserUrl: string; rows: number; firstId: number; startMicros: number; stepMicros: number; chains: Chain[]; workers: number; worker: number }
type FromWorker = { sent: number } | { done: true; heads: { chain: string; seq: number; hash: string }[]; waitMs: number }

const DAY_MS = 86_400_000
const SLOT_SEED = 20261125
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
  const admin = await connectPg(options.superuserUrl)
  try {
    // Checkpoints during the load only cost time; the setting is reset before anything is measured.
    await admin.query(`alter system set max_wal_size = '16GB'`)
    await admin.query('select pg_reload_conf()')
    const heads = new Map(
      (await admin.query<{ chain: string; seq: string; hash: string }>('select chain, seq, hash from audit_chain_heads')).rows.map((h) => [h.chain, h]),
    )
    const chains: Chain[] = clinics.map((c) => {
      const head = heads.get(c.id)
      return { ...c, seq: Number(head?.seq ?? 0), prev: head?.hash || null, entities: Array.from({ length: ENTITIES_PER_CLINIC }, () => crypto.randomUUID()) }
    })
    // Past every id the app has drawn (rolled-back inserts draw ids too).
    const sequence = (await admin.query<{ last_value: string; is_called: boolean }>('select last_value, is_called from audit_logs_id_seq')).rows[0]!
    const firstId = Number(sequence.last_value) + (sequence.is_called ? 1 : 0)
    const dropped = await timed('drop_indexes', () => dropPlainIndexes(admin, ['audit_logs']))

    const workers = Math.max(1, Math.min(cpus().length, chains.length))
    let nodeWaitedMs = 0
    const endMicros = (Date.now() - 60_000) * 1000
    const stepMicros = Math.max(1, Math.floor((365 * DAY_MS * 1000) / rows))
    const job = { superuserUrl: options.superuserUrl, rows, firstId, startMicros: endMicros - stepMicros * rows, stepMicros, chains, workers }
    const finalHeads = await timed('insert', async () => {
      const sent = new Array<number>(workers).fill(0)
      const progress = setInterval(
        () => log(`  ${sent.reduce((a, b) => a + b, 0).toLocaleString('en')} of ${rows.toLocaleString('en')} audit rows sent`),
        30_000,
      )
      try {
        const results = await Promise.all(Array.from({ length: workers }, (_, worker) => runWorker({ ...job, worker }, (n) => (sent[worker] = n))))
        nodeWaitedMs = results.reduce((n, r) => n + r.waitMs, 0)
        return results.flatMap((r) => r.heads)
      } finally {
        clearInterval(progress)
      }
    })
    await admin.query(
      `insert into audit_chain_heads (chain, seq, hash) select chain, seq, hash from json_populate_recordset(null::audit_chain_heads, $1::json)
       on conflict (chain) do update set seq = excluded.seq, hash = excluded.hash`,
      [JSON.stringify(finalHeads)],
    )
    await admin.query(`select setval('audit_logs_id_seq', $1)`, [firstId + rows - 1])
    log(
      `audit rows loaded: ${rows.toLocaleString('en')} in ${chains.length} chains by ${workers} workers (${(timingsMs.insert! / 1000).toFixed(1)} s; they waited ${(nodeWaitedMs / 1000).toFixed(1)} s for PostgreSQL)`,
    )

    const builders = await Promise.all([connectPg(options.superuserUrl), connectPg(options.superuserUrl)])
    try {
      await timed('create_indexes', () => recreateIndexes(builders, dropped, '1GB'))
    } finally {
      await Promise.all(builders.map((c) => c.end()))
    }
    log(`${dropped.length} indexes built again (${(timingsMs.create_indexes! / 1000).toFixed(1)} s)`)
    await timed('vacuum_analyze', async () => {
      await admin.query('vacuum (analyze) audit_logs, audit_chain_heads')
      await admin.query('alter system reset max_wal_size')
      await admin.query('select pg_reload_conf()')
      await admin.query('checkpoint')
    })
    log(`VACUUM ANALYZE and checkpoint (${(timingsMs.vacuum_analyze! / 1000).toFixed(1)} s)`)
    return { rows, chains: chains.length, workers, timingsMs, nodeWaitedMs: Math.round(nodeWaitedMs) }
  } finally {
    await admin.end()
  }
}

/** A worker thread running this same file (through tsx, which a worker does not inherit). */
function runWorker(job: Job, onProgress: (sent: number) => void) {
  const code = `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((tsx) => { tsx.register(); return import(${JSON.stringify(import.meta.url)}) })`
  const worker = new Worker(code, { eval: true, workerData: job })
  const cancel = onCleanup(`audit load worker ${job.worker}`, () => worker.terminate())
  let result: Extract<FromWorker, { done: true }> | null = null
  return new Promise<Extract<FromWorker, { done: true }>>((resolve, reject) => {
    worker.on('message', (m: FromWorker) => {
      if ('sent' in m) onProgress(m.sent)
      else result = m
    })
    worker.once('error', reject)
    // Done once it has closed its connection and exited.
    worker.once('exit', (code) =>
      result && code === 0 ? resolve(result) : reject(new Error(`audit load worker ${job.worker} exited (${code}) before it finished`)),
    )
  }).finally(cancel)
}

/** The worker: its clinics' rows, computed and inserted batch by batch (one batch in flight while the next is computed). */
async function loadShare(job: Job) {
  const slots = createRandom(SLOT_SEED)
  const random = createRandom(SLOT_SEED + 1 + job.worker)
  const loader = await createLoader(job.superuserUrl, 1)
  try {
    const BATCH = 5000
    let batch: AuditSeedRow[] = []
    let sent = 0
    for (let i = 0; i < job.rows; i++) {
      const c = slots.int(0, job.chains.length - 1)
      if (c % job.workers !== job.worker) continue
      const chain = job.chains[c]!
      const row = auditRow(random, {
        id: job.firstId + i,
        clinicId: chain.id,
        seq: ++chain.seq,
        prevHash: chain.prev,
        occurredMicros: job.startMicros + i * job.stepMicros + random.int(0, job.stepMicros - 1),
        referralIds: chain.entities,
        staff: chain.staff,
        referrers: chain.referrers,
      })
      chain.prev = row.hash
      batch.push(row)
      if (batch.length >= BATCH) {
        await loader.submit('audit_logs', batch)
        sent += batch.length
        batch = []
        if (sent % (20 * BATCH) === 0) parentPort!.postMessage({ sent } satisfies FromWorker)
      }
    }
    if (batch.length) await loader.submit('audit_logs', batch)
    await loader.drain()
    const heads = job.chains
      .filter((_, c) => c % job.workers === job.worker && job.chains[c]!.prev)
      .map((ch) => ({ chain: ch.id, seq: ch.seq, hash: ch.prev! }))
    parentPort!.postMessage({ done: true, heads, waitMs: loader.waitMs } satisfies FromWorker)
  } finally {
    await loader.end()
  }
}

if (!isMainThread && (workerData as Job | undefined)?.superuserUrl) await loadShare(workerData as Job)
