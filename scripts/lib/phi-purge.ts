/**
 * Retention that purges PHI (docs/decisions/049-retention-purge.md): an owner-role job, run by
 * `npm run phi:purge` and on a schedule. A referral that ended (closed, declined, cancelled,
 * forwarded) more than the clinic's `phiRetentionDays` ago loses its PHI: its form data, blind
 * indexes, note and message bodies, AI summaries, and its documents (rows and R2 chunks). Its
 * skeleton stays (ids, reference, status, timestamps), and so does the audit trail, which has
 * its own 7-year retention and is never touched here.
 *
 * Chunks are deleted before the rows that point at them, so a run that stops part-way leaves
 * rows whose chunks are gone: the next run finds those referrals still due and finishes them.
 */
import { sql, type SQL } from 'drizzle-orm'
import type { Database } from '../../app/db/client.server'
import { chunkKey } from '../../app/documents/upload.server'

export const TERMINAL_STATUSES = ['closed', 'declined', 'cancelled', 'forwarded'] as const

export type PurgeJob = {
  db: Database
  /** The DOCUMENTS bucket; required to apply (documents' chunks must go too). */
  bucket: Pick<R2Bucket, 'delete'> | null
  now?: Date
  batchSize?: number
  afterBatch?: () => Promise<void>
}
export type ClinicPurge = {
  clinicId: string
  slug: string
  retentionDays: number | null
  /** Referrals due, and what they hold (a dry run counts; an applied run removed it). */
  referrals: number
  eventBodies: number
  summaries: number
  documents: number
  chunks: number
}

const ids = (list: string[]) =>
  sql.join(
    list.map((id) => sql`${id}::uuid`),
    sql`, `,
  )

/** The referrals of a clinic due for purging: ended before the cutoff, and not purged since they last ended. */
const due = (clinicId: string, cutoff: Date, limit?: number): SQL => sql`
  select r.id, r.closed_at,
    (select count(*) from referral_events e where e.clinic_id = r.clinic_id and e.referral_id = r.id and e.body is not null) as event_bodies,
    (select count(*) from processing_results p where p.clinic_id = r.clinic_id and p.referral_id = r.id and p.summaries <> '{}'::jsonb) as summaries,
    coalesce((select json_agg(json_build_object('id', d.id, 'chunkCount', d.chunk_count)) from referral_documents d
      where d.clinic_id = r.clinic_id and d.referral_id = r.id), '[]'::json) as documents
  from referrals r
  where r.clinic_id = ${clinicId}::uuid and r.closed_at is not null and r.closed_at < ${cutoff.toISOString()}::timestamptz
    and r.status in ('closed', 'declined', 'cancelled', 'forwarded')
    and (r.purged_at is null or r.closed_at > r.purged_at
      or exists (select 1 from referral_events e where e.clinic_id = r.clinic_id and e.referral_id = r.id and e.body is not null))
  order by r.closed_at, r.id
  ${limit ? sql`limit ${limit}` : sql``}`

type Due = { id: string; closed_at: string; event_bodies: string; summaries: string; documents: { id: string; chunkCount: number }[] }

export async function purgeExpiredPhi(job: PurgeJob, options: { apply: boolean; clinicId?: string }): Promise<ClinicPurge[]> {
  const { db } = job
  if (options.apply && !job.bucket) throw new Error('purging needs the DOCUMENTS bucket: documents go with the rest of the PHI')
  const now = job.now ?? new Date()
  const clinics = await db.execute<{ id: string; slug: string; days: number | null }>(sql`
    select id, slug, (settings->>'phiRetentionDays')::int as days from clinics
    where ${options.clinicId ? sql`id = ${options.clinicId}::uuid` : sql`true`} order by slug`)
  const reports: ClinicPurge[] = []
  for (const clinic of clinics.rows) {
    const report: ClinicPurge = {
      clinicId: clinic.id,
      slug: clinic.slug,
      retentionDays: clinic.days,
      referrals: 0,
      eventBodies: 0,
      summaries: 0,
      documents: 0,
      chunks: 0,
    }
    reports.push(report)
    if (!clinic.days || clinic.days < 1) continue
    const cutoff = new Date(now.getTime() - clinic.days * 86_400_000)
    if (!options.apply) {
      const [counted] = (
        await db.execute<{ referrals: string; event_bodies: string | null; summaries: string | null; documents: string | null; chunks: string | null }>(sql`
          select count(*) as referrals, sum(d.event_bodies) as event_bodies, sum(d.summaries) as summaries,
            sum(json_array_length(d.documents)) as documents,
            sum((select coalesce(sum((x->>'chunkCount')::int), 0) from json_array_elements(d.documents) x)) as chunks
          from (${due(clinic.id, cutoff)}) d`)
      ).rows
      Object.assign(report, {
        referrals: Number(counted?.referrals ?? 0),
        eventBodies: Number(counted?.event_bodies ?? 0),
        summaries: Number(counted?.summaries ?? 0),
        documents: Number(counted?.documents ?? 0),
        chunks: Number(counted?.chunks ?? 0),
      })
      continue
    }
    const done = new Set<string>()
    for (;;) {
      const batch = (await db.execute<Due>(due(clinic.id, cutoff, job.batchSize ?? 100))).rows
      if (!batch.length) break
      // A referral purged in this run and due again was written to meanwhile: the next run takes it.
      if (batch.every((r) => done.has(r.id))) break
      for (const r of batch) done.add(r.id)
      for (const r of batch) {
        report.referrals++
        report.eventBodies += Number(r.event_bodies)
        report.summaries += Number(r.summaries)
        report.documents += r.documents.length
        report.chunks += r.documents.reduce((n, d) => n + d.chunkCount, 0)
      }
      await purgeBatch(job, clinic.id, clinic.days, batch)
      await job.afterBatch?.()
    }
    if (options.apply && report.referrals) {
      await db.execute(sql`insert into audit_logs (clinic_id, actor_role, action, entity_type, entity_id, details)
        values (${clinic.id}::uuid, 'system', 'phi.purge', 'clinic', ${clinic.id}, ${JSON.stringify({ ...countsOf(report), retentionDays: clinic.days, via: 'npm run phi:purge' })}::jsonb)`)
    }
  }
  return reports
}

const countsOf = (r: ClinicPurge) => ({ referrals: r.referrals, eventBodies: r.eventBodies, summaries: r.summaries, documents: r.documents, chunks: r.chunks })

async function purgeBatch(job: PurgeJob, clinicId: string, retentionDays: number, batch: Due[]) {
  const keys = batch.flatMap((r) => r.documents.flatMap((d) => Array.from({ length: d.chunkCount }, (_, i) => chunkKey(clinicId, r.id, d.id, i))))
  // R2 deletes at most 1000 keys a call.
  for (let i = 0; i < keys.length; i += 1000) await job.bucket!.delete(keys.slice(i, i + 1000))
  const referralIds = ids(batch.map((r) => r.id))
  await job.db.transaction(async (tx) => {
    await tx.execute(sql`select set_config('app.role', 'system', true)`)
    await tx.execute(sql`update referrals set form_data = '{}'::jsonb, health_card_index = null, name_dob_index = null, purged_at = now()
      where clinic_id = ${clinicId}::uuid and id in (${referralIds})`)
    await tx.execute(sql`update referral_events set body = null where clinic_id = ${clinicId}::uuid and referral_id in (${referralIds}) and body is not null`)
    await tx.execute(sql`update processing_results set summaries = '{}'::jsonb, updated_at = now()
      where clinic_id = ${clinicId}::uuid and referral_id in (${referralIds}) and summaries <> '{}'::jsonb`)
    await tx.execute(sql`delete from referral_documents where clinic_id = ${clinicId}::uuid and referral_id in (${referralIds})`)
    // One row per referral, in its clinic's trail: the referral's "Who accessed this" shows the purge.
    await tx.execute(
      sql`insert into audit_logs (clinic_id, actor_role, action, entity_type, entity_id, details) values ${sql.join(
        batch.map(
          (r) =>
            sql`(${clinicId}::uuid, 'system', 'referral.purge', 'referral', ${r.id}, ${JSON.stringify({
              eventBodies: Number(r.event_bodies),
              summaries: Number(r.summaries),
              documents: r.documents.length,
              endedAt: new Date(r.closed_at).toISOString(),
              retentionDays,
            })}::jsonb)`,
        ),
        sql`, `,
      )}`,
    )
  })
}
