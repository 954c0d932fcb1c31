/**
 * Re-sealing PHI under the key ring's current kid (docs/decisions/048-key-rotation.md): an
 * owner-role job, run by `npm run keys:rotate` and on a schedule, while the app keeps serving.
 *
 * - Every sealed thing a clinic holds: referral fields, event bodies (notes, messages), AI
 *   summaries, document names and removal reasons, drafts, and every document chunk in R2.
 * - In batches, in id order, and only what is not under the current kid yet: a run that stops
 *   part-way is resumed by running it again, and a second run changes nothing.
 * - Online: a row is written back only if it is still what was read (compare-and-set). A row the
 *   app changed meanwhile was sealed by the app under the current kid already, or is read again.
 * - Each clinic's trail gets `phi.rotate` rows (started, then complete with counts and what is
 *   left under which kid); the database's own write trigger records every row it changed.
 */
import { sql, type SQL } from 'drizzle-orm'
import type { Database } from '../../app/db/client.server'
import { isEncryptedValue, PhiDecryptError, sealedChunkKid, type DocumentCipher, type PhiCipher } from '../../app/crypto/phi.server'
import { chunkKey } from '../../app/documents/upload.server'

export type RotationBucket = Pick<R2Bucket, 'get' | 'put' | 'delete'>
export type RotationJob = {
  db: Database
  cipher: PhiCipher
  documents: DocumentCipher
  /** The DOCUMENTS bucket; without it, documents' chunks are neither rotated nor counted. */
  bucket: RotationBucket | null
  batchSize?: number
  /** Called after each batch is written (a test stops the job here, as a crash would). */
  afterBatch?: (what: SealedKind) => Promise<void>
  /** Called between reading a batch and writing it back (a test writes as the app would, there). */
  afterRead?: (what: SealedKind, ids: string[]) => Promise<void>
}
export type SealedKind = 'referral fields' | 'event bodies' | 'summaries' | 'document names' | 'drafts' | 'document chunks'
export const SEALED_KINDS: SealedKind[] = ['referral fields', 'event bodies', 'summaries', 'document names', 'drafts', 'document chunks']

export type Counts = Record<SealedKind, number>
/** kid -> what is still sealed under it. */
export type KidCounts = Record<string, Partial<Counts>>
export type ClinicRotation = {
  clinicId: string
  slug: string
  rotated: Counts
  /** Values that did not open (a kid the ring lacks, or altered): left as they are, by row id. */
  failed: { kind: SealedKind; id: string }[]
  /** Everything the clinic holds, by kid: after a complete run, only the current kid. */
  byKid: KidCounts
  current: string
}

const zero = (): Counts => Object.fromEntries(SEALED_KINDS.map((k) => [k, 0])) as Counts
const json = (value: unknown) => sql`${JSON.stringify(value)}::jsonb`

/** One kind of sealed value: which rows still need it, how to re-seal one, how to write it back. */
type Sealed = {
  kind: SealedKind
  /** Rows of the clinic after `after`, in id order, holding something under another kid. */
  pending: (clinicId: string, kid: string, after: string, limit: number) => SQL
  reseal: (cipher: PhiCipher, clinicId: string, row: Row) => Promise<{ set: SQL; unchanged: SQL; count: number } | null>
  table: SQL
}
type Row = Record<string, unknown> & { id: string }

const referralFields: Sealed = {
  kind: 'referral fields',
  table: sql`referrals`,
  pending: (clinicId, kid, after, limit) => sql`select id, form_data from referrals
    where clinic_id = ${clinicId}::uuid and id > ${after}::uuid
      and exists (select 1 from jsonb_each(form_data) e where jsonb_typeof(e.value) = 'object' and e.value ? 'kid' and e.value->>'kid' <> ${kid})
    order by id limit ${limit}`,
  async reseal(cipher, clinicId, row) {
    const data = row.form_data as Record<string, unknown>
    const next: Record<string, unknown> = { ...data }
    let count = 0
    for (const [field, value] of Object.entries(data)) {
      if (!isEncryptedValue(value)) continue
      const sealed = await cipher.reseal(value, { clinicId, recordId: row.id, field })
      if (sealed) ((next[field] = sealed), count++)
    }
    return count ? { set: sql`form_data = ${json(next)}`, unchanged: sql`form_data = ${json(data)}`, count } : null
  },
}

const eventBodies: Sealed = {
  kind: 'event bodies',
  table: sql`referral_events`,
  pending: (clinicId, kid, after, limit) => sql`select id, body from referral_events
    where clinic_id = ${clinicId}::uuid and id > ${after}::uuid and body->>'kid' <> ${kid}
    order by id limit ${limit}`,
  async reseal(cipher, clinicId, row) {
    const sealed = await cipher.reseal(row.body, { clinicId, recordId: row.id, field: 'body' })
    return sealed ? { set: sql`body = ${json(sealed)}`, unchanged: sql`body = ${json(row.body)}`, count: 1 } : null
  },
}

type SummaryEntry = { id: string; kind: string; text: unknown }
const entriesOf = sql`(case jsonb_typeof(summaries->'entries') when 'array' then summaries->'entries' else '[]'::jsonb end)`
const summaries: Sealed = {
  kind: 'summaries',
  table: sql`processing_results`,
  pending: (clinicId, kid, after, limit) => sql`select id, summaries from processing_results
    where clinic_id = ${clinicId}::uuid and id > ${after}::uuid
      and exists (select 1 from jsonb_array_elements(${entriesOf}) e where e->'text'->>'kid' <> ${kid})
    order by id limit ${limit}`,
  async reseal(cipher, clinicId, row) {
    const stored = row.summaries as { entries?: SummaryEntry[] }
    let count = 0
    const entries = await Promise.all(
      (stored.entries ?? []).map(async (e) => {
        const sealed = await cipher.reseal(e.text, { clinicId, recordId: e.id, field: `summary:${e.kind}` })
        if (!sealed) return e
        count++
        return { ...e, text: sealed }
      }),
    )
    return count ? { set: sql`summaries = ${json({ ...stored, entries })}`, unchanged: sql`summaries = ${json(stored)}`, count } : null
  },
}

const documentNames: Sealed = {
  kind: 'document names',
  table: sql`referral_documents`,
  pending: (clinicId, kid, after, limit) => sql`select id, name, removal_reason from referral_documents
    where clinic_id = ${clinicId}::uuid and id > ${after}::uuid and (name->>'kid' <> ${kid} or removal_reason->>'kid' <> ${kid})
    order by id limit ${limit}`,
  async reseal(cipher, clinicId, row) {
    const name = await cipher.reseal(row.name, { clinicId, recordId: row.id, field: 'name' })
    const reason = row.removal_reason ? await cipher.reseal(row.removal_reason, { clinicId, recordId: row.id, field: 'removal_reason' }) : null
    if (!name && !reason) return null
    return {
      set: sql`name = ${json(name ?? row.name)}, removal_reason = ${row.removal_reason ? json(reason ?? row.removal_reason) : sql`null`}`,
      unchanged: sql`name = ${json(row.name)} and removal_reason is not distinct from ${row.removal_reason ? json(row.removal_reason) : sql`null::jsonb`}`,
      count: (name ? 1 : 0) + (reason ? 1 : 0),
    }
  },
}

const drafts: Sealed = {
  kind: 'drafts',
  table: sql`referral_drafts`,
  pending: (clinicId, kid, after, limit) => sql`select id, user_id, content from referral_drafts
    where clinic_id = ${clinicId}::uuid and id > ${after}::uuid and content->>'kid' <> ${kid}
    order by id limit ${limit}`,
  async reseal(cipher, clinicId, row) {
    // The binding app/intake/referral-drafts.server.ts seals a draft with.
    const sealed = await cipher.reseal(row.content, { clinicId, recordId: row.id, field: `referral-draft|${String(row.user_id)}` })
    return sealed ? { set: sql`content = ${json(sealed)}`, unchanged: sql`content = ${json(row.content)}`, count: 1 } : null
  },
}

const SEALED_COLUMNS = [referralFields, eventBodies, summaries, documentNames, drafts]
const FIRST_ID = '00000000-0000-0000-0000-000000000000'

/** Each clinic, or the one asked for. */
async function clinicsToRotate(db: Database, only?: string) {
  const rows = await db.execute<{ id: string; slug: string }>(
    only ? sql`select id, slug from clinics where id = ${only}::uuid` : sql`select id, slug from clinics order by slug`,
  )
  if (only && !rows.rows.length) throw new Error(`no clinic ${only}`)
  return rows.rows
}

async function recordRotation(db: Database, clinicId: string, outcome: 'success' | 'error', details: Record<string, unknown>) {
  await db.execute(sql`insert into audit_logs (clinic_id, actor_role, action, entity_type, outcome, details)
    values (${clinicId}::uuid, 'system', 'phi.rotate', 'clinic', ${outcome}, ${JSON.stringify(details)}::jsonb)`)
}

/**
 * One kind of sealed column, batch by batch, in passes: a pass that changed something is followed
 * by another, so a row the app changed meanwhile (a conflict), or one an isolate still on the old
 * ring wrote behind the cursor, is read again. The last pass found nothing to do.
 */
async function rotateColumn(job: RotationJob, sealed: Sealed, clinicId: string, result: ClinicRotation) {
  const limit = job.batchSize ?? 200
  for (let pass = 0; pass < 10; pass++) {
    let after = FIRST_ID
    let changed = 0
    for (;;) {
      const batch = (await job.db.execute<Row>(sealed.pending(clinicId, job.cipher.currentKid, after, limit))).rows
      if (!batch.length) break
      after = batch.at(-1)!.id
      const writes: { id: string; set: SQL; unchanged: SQL; count: number }[] = []
      for (const row of batch) {
        try {
          const change = await sealed.reseal(job.cipher, clinicId, row)
          if (change) writes.push({ id: row.id, ...change })
        } catch (error) {
          if (!(error instanceof PhiDecryptError)) throw error
          if (!result.failed.some((f) => f.kind === sealed.kind && f.id === row.id)) result.failed.push({ kind: sealed.kind, id: row.id })
        }
      }
      await job.afterRead?.(
        sealed.kind,
        batch.map((r) => r.id),
      )
      await job.db.transaction(async (tx) => {
        await tx.execute(sql`select set_config('app.role', 'system', true)`)
        for (const w of writes) {
          const done = await tx.execute(
            sql`update ${sealed.table} set ${w.set} where clinic_id = ${clinicId}::uuid and id = ${w.id}::uuid and ${w.unchanged} returning id`,
          )
          if (done.rows.length) result.rotated[sealed.kind] += w.count
          changed++
        }
      })
      await job.afterBatch?.(sealed.kind)
    }
    if (!changed) return
  }
}

/** Every chunk of every document of the clinic: the header names its kid, so only old chunks are read whole. */
async function rotateChunks(job: RotationJob, clinicId: string, result: ClinicRotation) {
  const bucket = job.bucket
  if (!bucket) return
  const limit = job.batchSize ?? 200
  let after = FIRST_ID
  for (;;) {
    const docs = (
      await job.db.execute<{ id: string; referral_id: string; chunk_count: number }>(sql`select id, referral_id, chunk_count from referral_documents
        where clinic_id = ${clinicId}::uuid and id > ${after}::uuid order by id limit ${limit}`)
    ).rows
    if (!docs.length) return
    after = docs.at(-1)!.id
    for (const doc of docs) {
      let rewrote = false
      for (let index = 0; index < doc.chunk_count; index++) {
        const key = chunkKey(clinicId, doc.referral_id, doc.id, index)
        const kid = await chunkHeaderKid(bucket, key)
        if (kid === null || kid === job.documents.currentKid) continue
        const object = await bucket.get(key)
        if (!object) continue
        const binding = { clinicId, referralId: doc.referral_id, documentId: doc.id, index, last: index === doc.chunk_count - 1 }
        try {
          const plain = await job.documents.openChunk(new Uint8Array(await object.arrayBuffer()), binding)
          await bucket.put(key, await job.documents.sealChunk(plain as Uint8Array<ArrayBuffer>, binding))
          result.rotated['document chunks']++
          rewrote = true
        } catch (error) {
          if (!(error instanceof PhiDecryptError)) throw error
          result.failed.push({ kind: 'document chunks', id: `${doc.id}/${index}` })
        }
      }
      // Purged while it was being re-sealed: the chunks put back go again (scripts/lib/phi-purge.ts).
      if (rewrote) {
        const still = await job.db.execute(sql`select 1 from referral_documents where id = ${doc.id}::uuid`)
        if (!still.rows.length) await bucket.delete(Array.from({ length: doc.chunk_count }, (_, i) => chunkKey(clinicId, doc.referral_id, doc.id, i)))
      }
    }
    await job.afterBatch?.('document chunks')
  }
}

/** The kid in a chunk's header, read with a ranged get (the header is at most 2 + 255 bytes); null when absent. */
async function chunkHeaderKid(bucket: Pick<R2Bucket, 'get'>, key: string) {
  const head = await bucket.get(key, { range: { offset: 0, length: 257 } })
  if (!head) return null
  return sealedChunkKid(new Uint8Array(await head.arrayBuffer())) ?? '(unreadable)'
}

/** What the clinic holds, by kid and kind: the "nothing left under kid X" report. Reads every chunk header when given the bucket. */
export async function sealedByKid(db: Database, clinicId: string, bucket: Pick<R2Bucket, 'get'> | null): Promise<KidCounts> {
  const rows = await db.execute<{ kind: SealedKind; kid: string; n: string }>(sql`
    select 'referral fields' as kind, e.value->>'kid' as kid, count(*) as n from referrals r, jsonb_each(r.form_data) e
      where r.clinic_id = ${clinicId}::uuid and jsonb_typeof(e.value) = 'object' and e.value ? 'kid' group by 2
    union all select 'event bodies', body->>'kid', count(*) from referral_events where clinic_id = ${clinicId}::uuid and body is not null group by 2
    union all select 'summaries', e->'text'->>'kid', count(*) from processing_results, jsonb_array_elements(${entriesOf}) e
      where clinic_id = ${clinicId}::uuid group by 2
    union all select 'document names', name->>'kid', count(*) from referral_documents where clinic_id = ${clinicId}::uuid group by 2
    union all select 'document names', removal_reason->>'kid', count(*) from referral_documents where clinic_id = ${clinicId}::uuid and removal_reason is not null group by 2
    union all select 'drafts', content->>'kid', count(*) from referral_drafts where clinic_id = ${clinicId}::uuid group by 2`)
  const byKid: KidCounts = {}
  const add = (kid: string, kind: SealedKind, n: number) => {
    const entry = (byKid[kid] ??= {})
    entry[kind] = (entry[kind] ?? 0) + n
  }
  for (const r of rows.rows) add(r.kid ?? '(none)', r.kind, Number(r.n))
  if (bucket) {
    let after = FIRST_ID
    for (;;) {
      const docs = (
        await db.execute<{ id: string; referral_id: string; chunk_count: number }>(sql`select id, referral_id, chunk_count from referral_documents
          where clinic_id = ${clinicId}::uuid and id > ${after}::uuid order by id limit 500`)
      ).rows
      if (!docs.length) break
      after = docs.at(-1)!.id
      for (const doc of docs)
        for (let i = 0; i < doc.chunk_count; i++)
          add((await chunkHeaderKid(bucket, chunkKey(clinicId, doc.referral_id, doc.id, i))) ?? '(missing)', 'document chunks', 1)
    }
  }
  return byKid
}

/** Kids other than the current one that still hold something. */
export const leftUnderOldKids = (report: Pick<ClinicRotation, 'byKid' | 'current'>) => Object.keys(report.byKid).filter((kid) => kid !== report.current)

/** `npm run keys:rotate`: every clinic (or one), every kind, then the report. */
export async function rotateKeys(job: RotationJob, options: { clinicId?: string } = {}): Promise<ClinicRotation[]> {
  const reports: ClinicRotation[] = []
  for (const clinic of await clinicsToRotate(job.db, options.clinicId)) {
    const result: ClinicRotation = { clinicId: clinic.id, slug: clinic.slug, rotated: zero(), failed: [], byKid: {}, current: job.cipher.currentKid }
    await recordRotation(job.db, clinic.id, 'success', { stage: 'started', kid: result.current, via: 'npm run keys:rotate' })
    for (const sealed of SEALED_COLUMNS) await rotateColumn(job, sealed, clinic.id, result)
    await rotateChunks(job, clinic.id, result)
    result.byKid = await sealedByKid(job.db, clinic.id, job.bucket)
    const left = leftUnderOldKids(result)
    await recordRotation(job.db, clinic.id, left.length || result.failed.length ? 'error' : 'success', {
      stage: 'complete',
      kid: result.current,
      rotated: result.rotated,
      failed: result.failed.length,
      left: Object.fromEntries(left.map((kid) => [kid, result.byKid[kid]])),
      chunksCounted: job.bucket !== null,
      via: 'npm run keys:rotate',
    })
    reports.push(result)
  }
  return reports
}

/** `npm run keys:rotate -- --verify`: the report alone, written to nothing. */
export async function verifyKeys(db: Database, current: string, bucket: Pick<R2Bucket, 'get'> | null, clinicId?: string): Promise<ClinicRotation[]> {
  const reports: ClinicRotation[] = []
  for (const clinic of await clinicsToRotate(db, clinicId))
    reports.push({ clinicId: clinic.id, slug: clinic.slug, current, rotated: zero(), failed: [], byKid: await sealedByKid(db, clinic.id, bucket) })
  return reports
}
