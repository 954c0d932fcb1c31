/**
 * Recomputing every blind index under a new PHI_BLIND_INDEX_KEY (docs/decisions/048-key-rotation.md).
 * An index does not say which key made it, so each referral's patient fields are opened and its
 * indexes computed under the new key (and the previous one, for the report). Rows that already
 * match are left alone: the job is idempotent, and a run that stops is resumed by running it again.
 * While it runs the app matches lookups under both keys (PHI_BLIND_INDEX_KEY_PREVIOUS).
 */
import { sql } from 'drizzle-orm'
import type { Database } from '../../app/db/client.server'
import { isEncryptedValue, PhiDecryptError, type PhiCipher } from '../../app/crypto/phi.server'
import { patientIndexes, type FormValues } from '../../app/referrals/form-data.server'

export type BlindIndexJob = {
  db: Database
  /** Built with the new key as blindIndexKey and the old one as previousBlindIndexKey. */
  cipher: PhiCipher
  batchSize?: number
  afterBatch?: () => Promise<void>
  /** Only count; write nothing (`--verify`). */
  verifyOnly?: boolean
}
export type ClinicIndexes = {
  clinicId: string
  slug: string
  recomputed: number
  /** Rows whose stored index is still the previous key's. */
  underPrevious: number
  /** Rows whose stored index is neither key's (an index from a third key, or stale). */
  mismatched: number
  failed: string[]
}

/** The fields patientIndexes reads, as the form stored them. */
const PATIENT_FIELDS = ['health_card_number', 'patient_last_name', 'patient_dob'] as const
const FIRST_ID = '00000000-0000-0000-0000-000000000000'

async function patientValues(cipher: PhiCipher, clinicId: string, id: string, data: Record<string, unknown>): Promise<FormValues> {
  const values: FormValues = {}
  for (const field of PATIENT_FIELDS) {
    const value = data[field]
    if (value === undefined || value === null) continue
    values[field] = isEncryptedValue(value) ? await cipher.decrypt(value, { clinicId, recordId: id, field }) : (value as string)
  }
  return values
}

export async function rotateBlindIndexes(job: BlindIndexJob, options: { clinicId?: string } = {}): Promise<ClinicIndexes[]> {
  const { db, cipher } = job
  const previous = cipher.previousBlindIndex
  const clinics = await db.execute<{ id: string; slug: string }>(
    options.clinicId ? sql`select id, slug from clinics where id = ${options.clinicId}::uuid` : sql`select id, slug from clinics order by slug`,
  )
  const reports: ClinicIndexes[] = []
  for (const clinic of clinics.rows) {
    const report: ClinicIndexes = { clinicId: clinic.id, slug: clinic.slug, recomputed: 0, underPrevious: 0, mismatched: 0, failed: [] }
    let after = FIRST_ID
    for (;;) {
      const batch = (
        await db.execute<{ id: string; form_data: Record<string, unknown>; health_card_index: string | null; name_dob_index: string | null }>(sql`
          select id, form_data, health_card_index, name_dob_index from referrals
          where clinic_id = ${clinic.id}::uuid and id > ${after}::uuid and (health_card_index is not null or name_dob_index is not null)
          order by id limit ${job.batchSize ?? 200}`)
      ).rows
      if (!batch.length) break
      after = batch.at(-1)!.id
      const writes: { id: string; card: string | null; name: string | null; was: { card: string | null; name: string | null } }[] = []
      for (const row of batch) {
        let values: FormValues
        try {
          values = await patientValues(cipher, clinic.id, row.id, row.form_data)
        } catch (error) {
          if (!(error instanceof PhiDecryptError)) throw error
          report.failed.push(row.id)
          continue
        }
        const now = await patientIndexes(cipher, clinic.id, values)
        if (now.healthCardIndex === row.health_card_index && now.nameDobIndex === row.name_dob_index) continue
        if (job.verifyOnly) {
          const before = previous ? await patientIndexes({ blindIndex: previous }, clinic.id, values) : null
          if (before && before.healthCardIndex === row.health_card_index && before.nameDobIndex === row.name_dob_index) report.underPrevious++
          else report.mismatched++
          continue
        }
        writes.push({ id: row.id, card: now.healthCardIndex, name: now.nameDobIndex, was: { card: row.health_card_index, name: row.name_dob_index } })
      }
      if (writes.length) {
        await db.transaction(async (tx) => {
          await tx.execute(sql`select set_config('app.role', 'system', true)`)
          for (const w of writes) {
            // Only if the row still holds what was read: a referral the app changed meanwhile has its new key's indexes already.
            const done = await tx.execute(sql`update referrals set health_card_index = ${w.card}, name_dob_index = ${w.name}
              where clinic_id = ${clinic.id}::uuid and id = ${w.id}::uuid
                and health_card_index is not distinct from ${w.was.card} and name_dob_index is not distinct from ${w.was.name}
              returning id`)
            if (done.rows.length) report.recomputed++
          }
        })
      }
      await job.afterBatch?.()
    }
    if (!job.verifyOnly) {
      await db.execute(sql`insert into audit_logs (clinic_id, actor_role, action, entity_type, outcome, details)
        values (${clinic.id}::uuid, 'system', 'phi.rotate_blind_index', 'clinic', ${report.failed.length ? 'error' : 'success'},
          ${JSON.stringify({ recomputed: report.recomputed, failed: report.failed.length, via: 'npm run keys:rotate -- --blind-index' })}::jsonb)`)
    }
    reports.push(report)
  }
  return reports
}
