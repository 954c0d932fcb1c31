/**
 * Encrypted logical backups (docs/decisions/050-encrypted-backups.md).
 *
 * `backupDatabase` reads every table of the public schema in one read-only, repeatable-read
 * transaction (one consistent snapshot), row by row as JSON in primary-key order, and writes
 * them sealed: AES-256-GCM chunks of about 1 MB under a key derived from BACKUP_KEY, a key kept
 * apart from the PHI keys, each bound to the backup's id and its position (a chunk moved,
 * dropped or reordered does not open; the last one says it is last). The PHI inside is sealed
 * twice: its own field encryption stays as it was. Beside it, a manifest in plain JSON with no
 * PHI: time, schema version, row counts and a hash of each table's rows, each audit chain's
 * head, and the file's SHA-256.
 *
 * `restoreDatabase` checks the file against the manifest, puts the rows into an empty,
 * migrated database of the same schema version, with triggers off (the rows are history, not new
 * writes), brings every sequence past its rows, and then verifies: every table's count and hash,
 * and every audit chain, recomputed here and compared with the heads the manifest recorded.
 */
import { createHash, randomUUID } from 'node:crypto'
import { closeSync, openSync, readSync, statSync, writeSync } from 'node:fs'
import { sql } from 'drizzle-orm'
import type { Database } from '../../app/db/client.server'
import { fromBase64, toBase64 } from '../../app/crypto/phi.server'
import { verifyChain } from './audit-verify'

export const BACKUP_FORMAT = 'intakepilot-backup/1'
const MAGIC = new TextEncoder().encode('IPBK1\n')
const CHUNK_BYTES = 1024 * 1024
const ROWS_PER_READ = 1000
const ROWS_PER_INSERT = 500

export type BackupManifest = {
  format: typeof BACKUP_FORMAT
  id: string
  createdAt: string
  schema: { migrations: number; lastHash: string | null }
  tables: Record<string, { rows: number; sha256: string }>
  chains: { chain: string; seq: number; hash: string }[]
  file: { bytes: number; sha256: string; chunks: number }
  /** Which backup key sealed it (HMAC of a fixed text): a wrong key is named before anything is read. */
  keyFingerprint: string
}

const encoder = new TextEncoder()
const decoder = new TextDecoder()

async function backupKeys(backupKey: string) {
  const raw = fromBase64(backupKey)
  if (raw.byteLength !== 32) throw new Error('BACKUP_KEY must be a base64 key of 32 bytes')
  const ikm = await crypto.subtle.importKey('raw', raw, 'HKDF', false, ['deriveKey', 'deriveBits'])
  const info = (what: string) => ({ name: 'HKDF', hash: 'SHA-256', salt: encoder.encode('intakepilot/backup/v1'), info: encoder.encode(what) })
  const aes = await crypto.subtle.deriveKey(info('seal'), ikm, { name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt'])
  const fingerprint = toBase64(new Uint8Array(await crypto.subtle.deriveBits(info('fingerprint'), ikm, 128)))
  return { aes, fingerprint }
}

const chunkAad = (id: string, index: number, last: boolean) => encoder.encode(`intakepilot-backup|${id}|${index}|${last ? 'last' : 'more'}`)

type Table = { name: string; key: string[] }

/** The public schema's tables, each with its primary key (empty: none, read in one go). */
async function tablesOf(db: Pick<Database, 'execute'>): Promise<Table[]> {
  const rows = await db.execute<{ name: string; key: string[] | null }>(sql`
    select c.relname as name,
      (select array_agg(a.attname::text order by k.ord) from pg_index i
        cross join lateral unnest(i.indkey) with ordinality k(attnum, ord)
        join pg_attribute a on a.attrelid = c.oid and a.attnum = k.attnum
        where i.indrelid = c.oid and i.indisprimary) as key
    from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where n.nspname = 'public' and c.relkind in ('r', 'p') and not c.relispartition
    order by c.relname`)
  return rows.rows.map((r) => ({ name: r.name, key: r.key ?? [] }))
}

/** Every row of a table as JSON text, in key order, a page at a time. */
async function* rowsOf(db: Pick<Database, 'execute'>, table: Table): AsyncGenerator<string> {
  const t = sql.identifier(table.name)
  if (!table.key.length) {
    const all = await db.execute<{ r: string }>(sql`select row_to_json(x)::text as r from ${t} x order by 1`)
    for (const row of all.rows) yield row.r
    return
  }
  const key = sql.join(
    table.key.map((k) => sql`x.${sql.identifier(k)}`),
    sql`, `,
  )
  const lastKey = sql.join(
    table.key.map((k) => sql`l.${sql.identifier(k)}`),
    sql`, `,
  )
  let last: string | null = null
  for (;;) {
    const after: ReturnType<typeof sql> = last ? sql`where (${key}) > (select ${lastKey} from json_populate_record(null::${t}, ${last}::json) l)` : sql``
    const page = await db.execute<{ r: string }>(sql`select row_to_json(x)::text as r from ${t} x ${after} order by ${key} limit ${ROWS_PER_READ}`)
    for (const row of page.rows) yield row.r
    if (page.rows.length < ROWS_PER_READ) return
    last = page.rows.at(-1)!.r
  }
}

async function schemaVersion(db: Pick<Database, 'execute'>) {
  const rows = await db.execute<{ n: string; last: string | null }>(
    sql`select count(*) as n, (select hash from drizzle.__drizzle_migrations order by created_at desc, id desc limit 1) as last from drizzle.__drizzle_migrations`,
  )
  return { migrations: Number(rows.rows[0]!.n), lastHash: rows.rows[0]!.last }
}

async function chainHeadsOf(db: Pick<Database, 'execute'>) {
  const rows = await db.execute<{ chain: string; seq: string; hash: string }>(sql`select chain, seq::text, hash from audit_chain_heads order by chain`)
  return rows.rows.map((r) => ({ chain: r.chain, seq: Number(r.seq), hash: r.hash }))
}

/** `npm run db:backup`: the database into `path` (sealed) and its manifest (returned; the caller writes it beside). */
export async function backupDatabase(db: Database, options: { path: string; backupKey: string }): Promise<BackupManifest> {
  const { aes, fingerprint } = await backupKeys(options.backupKey)
  const id = randomUUID()
  const fd = openSync(options.path, 'wx', 0o600)
  const fileHash = createHash('sha256')
  let bytes = 0
  let chunks = 0
  const write = (data: Uint8Array) => {
    writeSync(fd, data)
    fileHash.update(data)
    bytes += data.byteLength
  }
  let pending: Uint8Array[] = []
  let pendingBytes = 0
  const seal = async (last: boolean) => {
    const plain = new Uint8Array(pendingBytes)
    let at = 0
    for (const part of pending) (plain.set(part, at), (at += part.byteLength))
    pending = []
    pendingBytes = 0
    const iv = crypto.getRandomValues(new Uint8Array(12))
    const ct = new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData: chunkAad(id, chunks, last) }, aes, plain))
    const length = new Uint8Array(4)
    new DataView(length.buffer).setUint32(0, iv.byteLength + ct.byteLength)
    write(length)
    write(iv)
    write(ct)
    chunks++
  }
  try {
    write(MAGIC)
    const manifest = await db.transaction(
      async (tx) => {
        const tables: BackupManifest['tables'] = {}
        for (const table of await tablesOf(tx)) {
          const hash = createHash('sha256')
          let rows = 0
          for await (const row of rowsOf(tx, table)) {
            const line = encoder.encode(`${JSON.stringify({ t: table.name, r: JSON.parse(row) as unknown })}\n`)
            hash.update(row).update('\n')
            rows++
            pending.push(line)
            pendingBytes += line.byteLength
            if (pendingBytes >= CHUNK_BYTES) await seal(false)
          }
          tables[table.name] = { rows, sha256: hash.digest('hex') }
        }
        return { schema: await schemaVersion(tx), chains: await chainHeadsOf(tx), tables }
      },
      { isolationLevel: 'repeatable read', accessMode: 'read only' },
    )
    await seal(true)
    return {
      format: BACKUP_FORMAT,
      id,
      createdAt: new Date().toISOString(),
      ...manifest,
      file: { bytes, sha256: fileHash.digest('hex'), chunks },
      keyFingerprint: fingerprint,
    }
  } finally {
    closeSync(fd)
  }
}

/** The backup's rows, chunk by chunk: only one chunk is in memory at a time. */
async function* openBackup(path: string, manifest: BackupManifest, aes: CryptoKey): AsyncGenerator<{ t: string; r: Record<string, unknown> }> {
  const fd = openSync(path, 'r')
  try {
    const head = new Uint8Array(MAGIC.byteLength)
    readSync(fd, head, 0, head.byteLength, 0)
    if (decoder.decode(head) !== decoder.decode(MAGIC)) throw new Error('this is not an IntakePilot backup file')
    let position = MAGIC.byteLength
    for (let index = 0; index < manifest.file.chunks; index++) {
      const length = new Uint8Array(4)
      if (readSync(fd, length, 0, 4, position) !== 4) throw new Error(`the backup ends before chunk ${index}`)
      const size = new DataView(length.buffer).getUint32(0)
      if (size > CHUNK_BYTES * 2 + 28) throw new Error(`chunk ${index} is larger than a backup writes`)
      const sealed = new Uint8Array(size)
      if (readSync(fd, sealed, 0, size, position + 4) !== size) throw new Error(`chunk ${index} is cut short`)
      position += 4 + size
      let plain: ArrayBuffer
      try {
        const last = index === manifest.file.chunks - 1
        plain = await crypto.subtle.decrypt(
          { name: 'AES-GCM', iv: sealed.subarray(0, 12), additionalData: chunkAad(manifest.id, index, last) },
          aes,
          sealed.subarray(12),
        )
      } catch {
        throw new Error(`chunk ${index} does not open: altered, moved, or sealed under another key`)
      }
      for (const line of decoder.decode(plain).split('\n')) if (line) yield JSON.parse(line) as { t: string; r: Record<string, unknown> }
    }
  } finally {
    closeSync(fd)
  }
}

export type RestoreReport = {
  tables: Record<string, { expected: number; restored: number; sameRows: boolean }>
  chains: { chain: string; ok: boolean; problem?: string }[]
  ok: boolean
}

/**
 * `npm run db:restore`: into `db`, an empty database already migrated to the backup's schema
 * version, connected as a role that may switch triggers off for its session (a superuser locally;
 * on Neon, neon_superuser). Refuses a file that does not match its manifest, a wrong key, another
 * schema version, or a database that holds any row.
 */
export async function restoreDatabase(db: Database, options: { path: string; manifest: BackupManifest; backupKey: string }): Promise<RestoreReport> {
  const { manifest } = options
  if (manifest.format !== BACKUP_FORMAT) throw new Error(`unknown backup format ${String(manifest.format)}`)
  const { aes, fingerprint } = await backupKeys(options.backupKey)
  if (fingerprint !== manifest.keyFingerprint) throw new Error('BACKUP_KEY is not the key this backup was sealed with')
  const stat = statSync(options.path)
  const fileHash = createHash('sha256')
  const fd = openSync(options.path, 'r')
  try {
    const buffer = Buffer.alloc(CHUNK_BYTES)
    for (let at = 0; at < stat.size;) {
      const n = readSync(fd, buffer, 0, buffer.byteLength, at)
      fileHash.update(buffer.subarray(0, n))
      at += n
    }
  } finally {
    closeSync(fd)
  }
  if (stat.size !== manifest.file.bytes || fileHash.digest('hex') !== manifest.file.sha256)
    throw new Error('the backup file does not match its manifest (size or SHA-256)')
  const version = await schemaVersion(db)
  if (version.migrations !== manifest.schema.migrations || version.lastHash !== manifest.schema.lastHash)
    throw new Error(
      `the database is at schema ${version.migrations} (${version.lastHash}), the backup at ${manifest.schema.migrations} (${manifest.schema.lastHash}): migrate it to the same version first`,
    )
  const tables = await tablesOf(db)
  for (const table of tables) {
    const any = await db.execute(sql`select 1 from ${sql.identifier(table.name)} limit 1`)
    if (any.rows.length) throw new Error(`the database is not empty: ${table.name} has rows. Restore only into an empty database.`)
  }
  const known = new Set(tables.map((t) => t.name))
  for (const name of Object.keys(manifest.tables)) if (!known.has(name)) throw new Error(`the database has no table ${name}`)

  await db.transaction(async (tx) => {
    // The rows are history: no trigger may renumber the audit chain, record them as new writes, or queue them for delivery.
    await tx.execute(sql`set local session_replication_role = replica`)
    let table = ''
    let batch: Record<string, unknown>[] = []
    const flush = async () => {
      if (!batch.length) return
      const t = sql.identifier(table)
      await tx.execute(sql`insert into ${t} overriding system value select * from json_populate_recordset(null::${t}, ${JSON.stringify(batch)}::json)`)
      batch = []
    }
    for await (const line of openBackup(options.path, manifest, aes)) {
      if (line.t !== table || batch.length >= ROWS_PER_INSERT) await flush()
      if (!known.has(line.t)) throw new Error(`the backup holds rows of ${line.t}, which the database does not have`)
      table = line.t
      batch.push(line.r)
    }
    await flush()
    // Sequences past the rows restored, so the next insert does not collide.
    const sequences = await tx.execute<{ table_name: string; column_name: string; seq: string }>(sql`
      select c.table_name, c.column_name, pg_get_serial_sequence(quote_ident(c.table_name), c.column_name) as seq
      from information_schema.columns c
      where c.table_schema = 'public' and pg_get_serial_sequence(quote_ident(c.table_name), c.column_name) is not null`)
    for (const s of sequences.rows) {
      await tx.execute(
        sql`select setval(${s.seq}::regclass, coalesce((select max(${sql.identifier(s.column_name)}) from ${sql.identifier(s.table_name)}), 0) + 1, false)`,
      )
    }
  })
  return verifyRestore(db, manifest, tables)
}

/** Every table's count and row hash against the manifest, and every audit chain recomputed here and compared with its recorded head. */
export async function verifyRestore(db: Database, manifest: BackupManifest, tables?: Table[]): Promise<RestoreReport> {
  const report: RestoreReport = { tables: {}, chains: [], ok: true }
  for (const table of tables ?? (await tablesOf(db))) {
    const expected = manifest.tables[table.name]
    if (!expected) continue
    const hash = createHash('sha256')
    let restored = 0
    for await (const row of rowsOf(db, table)) (hash.update(row).update('\n'), restored++)
    const sameRows = hash.digest('hex') === expected.sha256
    report.tables[table.name] = { expected: expected.rows, restored, sameRows }
    report.ok &&= restored === expected.rows && sameRows
  }
  for (const head of manifest.chains) {
    const verdict = await verifyChain(db, head.chain, [])
    const [row] = (
      await db.execute<{ seq: string; hash: string }>(
        // Ordered by the column, not by its text (an output name would win in order by).
        sql`select a.seq::text as seq, a.hash from audit_logs a where coalesce(a.clinic_id::text, '-') = ${head.chain} order by a.seq desc limit 1`,
      )
    ).rows
    const atHead = !!row && Number(row.seq) === head.seq && row.hash === head.hash
    const ok = verdict.ok && atHead
    report.chains.push({
      chain: head.chain,
      ok,
      problem: verdict.ok ? (atHead ? undefined : 'the chain does not end at the head the backup recorded') : (verdict.problem ?? undefined),
    })
    report.ok &&= ok
  }
  return report
}
