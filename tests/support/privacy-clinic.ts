/**
 * A clinic of its own for the PHI-lifecycle tests (key rotation, purge, accounting, backups):
 * they change keys and remove PHI, which the shared demo clinics must not see. Every kind of
 * sealed thing a clinic holds is made: referral fields, notes and messages, AI summaries, a
 * draft, and documents whose chunks are in a real (Miniflare) R2 bucket.
 */
import { createHash, randomUUID } from 'node:crypto'
import { sql } from 'drizzle-orm'
import type { Database } from '../../app/db/client.server'
import { createDocumentCipher, createPhiCipher, type KeyRing, type PhiCipher } from '../../app/crypto/phi.server'
import * as s from '../../app/db/schema'
import { chunkKey } from '../../app/documents/upload.server'
import { defaultIntakeForm } from '../../app/intake/default-form'
import { patientIndexes, sealFormData, type FormValues } from '../../app/referrals/form-data.server'
import { fakePatient, fakeReferralValues, type FakePatient } from '../factories/patients'
import { createRandom } from '../factories/random'

export type PrivacyClinic = {
  id: string
  slug: string
  staff: string
  admin: string
  referrer: string
  definition: s.IntakeFormDefinition
  referrals: { id: string; values: FormValues; patient: FakePatient }[]
  documents: { id: string; referralId: string; chunkCount: number; bytes: Uint8Array }[]
}

const CHUNK = 1024

export async function makePrivacyClinic(
  owner: Database,
  keys: { keyRing: KeyRing; blindIndexKey: string },
  bucket: Pick<R2Bucket, 'put'>,
  options: { referrals: number; marker?: string; patients?: FakePatient[]; seed?: number },
): Promise<PrivacyClinic> {
  const random = createRandom(options.seed ?? Date.now() >>> 0)
  const cipher = createPhiCipher(keys)
  const documents = createDocumentCipher(keys)
  const tag = randomUUID().slice(0, 8)
  const slug = `test-${tag}`
  const [clinic] = await owner
    .insert(s.clinics)
    .values({ slug, name: `Test clinic ${tag}` })
    .returning()
  const user = async (role: 'admin' | 'staff' | 'referrer') => {
    const [row] = await owner
      .insert(s.users)
      .values({ clinicId: clinic!.id, email: `${role}-${tag}@privacy.test`, displayName: `${role} ${tag}`, role, status: 'active' })
      .returning()
    return row!.id
  }
  const [admin, staff, referrer] = [await user('admin'), await user('staff'), await user('referrer')]
  const definition = defaultIntakeForm(['Physiotherapy assessment'])
  await owner.insert(s.intakeForms).values({ clinicId: clinic!.id, version: 1, definition, publishedAt: new Date(), createdBy: admin })

  const made: PrivacyClinic = { id: clinic!.id, slug, staff, admin, referrer, definition, referrals: [], documents: [] }
  for (let i = 0; i < options.referrals; i++) {
    const id = randomUUID()
    const patient = options.patients?.[i % options.patients.length] ?? fakePatient(random)
    const values: FormValues = {
      ...fakeReferralValues(random, {
        clinicSlug: slug,
        services: ['Physiotherapy assessment'],
        clinician: { name: 'Dr. Test', practice: 'Test practice' },
        patient,
      }),
      ...(options.marker ? { reason_for_referral: `${options.marker} reason ${i}` } : {}),
    }
    await owner.insert(s.referrals).values({
      id,
      clinicId: clinic!.id,
      referenceNumber: `T-${tag}-${i}`,
      formVersion: 1,
      submittedBy: referrer,
      status: 'received',
      formData: await sealFormData(cipher, definition, { clinicId: clinic!.id, referralId: id }, values),
      ...(await patientIndexes(cipher, clinic!.id, values)),
    })
    const noteId = randomUUID()
    await owner.insert(s.referralEvents).values([
      { clinicId: clinic!.id, referralId: id, actorId: referrer, type: 'created', visibleToReferrer: true },
      {
        id: noteId,
        clinicId: clinic!.id,
        referralId: id,
        actorId: staff,
        type: 'note',
        body: await cipher.encrypt(`${options.marker ?? 'note'} note ${i}`, { clinicId: clinic!.id, recordId: noteId, field: 'body' }),
      },
    ])
    made.referrals.push({ id, values, patient })
    if (i % 4 === 0) {
      const entryId = randomUUID()
      const text = await cipher.encrypt(`${options.marker ?? 'summary'} summary ${i}`, { clinicId: clinic!.id, recordId: entryId, field: 'summary:clinical' })
      await owner.insert(s.processingResults).values({
        clinicId: clinic!.id,
        referralId: id,
        summaries: {
          entries: [
            {
              id: entryId,
              kind: 'clinical',
              text,
              model: 'test',
              promptVersion: '1',
              inputHash: 'x',
              generatedBy: staff,
              generatedAt: new Date().toISOString(),
              decision: 'pending',
            },
          ],
        },
      })
    }
    if (i % 5 === 0)
      made.documents.push(
        await addDocument(owner, cipher, documents, bucket, {
          clinicId: clinic!.id,
          referralId: id,
          uploadedBy: referrer,
          marker: options.marker ?? 'document',
        }),
      )
  }
  const draftId = randomUUID()
  await owner.insert(s.referralDrafts).values({
    id: draftId,
    clinicId: clinic!.id,
    userId: referrer,
    formVersion: 1,
    content: await cipher.encrypt(JSON.stringify({ patient_last_name: 'Draftperson' }), {
      clinicId: clinic!.id,
      recordId: draftId,
      field: `referral-draft|${referrer}`,
    }),
  })
  return made
}

async function addDocument(
  owner: Database,
  cipher: PhiCipher,
  documents: ReturnType<typeof createDocumentCipher>,
  bucket: Pick<R2Bucket, 'put'>,
  where: { clinicId: string; referralId: string; uploadedBy: string; marker: string },
) {
  const id = randomUUID()
  const bytes = new TextEncoder().encode(`${where.marker} document `.repeat(Math.ceil((2.5 * CHUNK) / 20)))
  const chunkCount = Math.ceil(bytes.byteLength / CHUNK)
  for (let index = 0; index < chunkCount; index++) {
    const binding = { clinicId: where.clinicId, referralId: where.referralId, documentId: id, index, last: index === chunkCount - 1 }
    await bucket.put(chunkKey(where.clinicId, where.referralId, id, index), await documents.sealChunk(bytes.slice(index * CHUNK, (index + 1) * CHUNK), binding))
  }
  await owner.insert(s.referralDocuments).values({
    id,
    clinicId: where.clinicId,
    referralId: where.referralId,
    uploadedBy: where.uploadedBy,
    attachedWith: 'referral',
    contentType: 'text/plain',
    sizeBytes: bytes.byteLength,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    chunkBytes: CHUNK,
    chunkCount,
    name: await cipher.encrypt(`${where.marker}-file.txt`, { clinicId: where.clinicId, recordId: id, field: 'name' }),
  })
  return { id, referralId: where.referralId, chunkCount, bytes }
}

/** Every row of every table that has a clinic_id, for one clinic, as JSON text: what a dump of it would hold. */
export async function dumpClinic(owner: Database, clinicId: string) {
  const tables = await owner.execute<{ table_name: string }>(sql`select table_name from information_schema.columns
    where table_schema = 'public' and column_name = 'clinic_id' order by table_name`)
  let text = ''
  for (const { table_name } of tables.rows) {
    const rows = await owner.execute<{ row: unknown }>(
      sql`select row_to_json(t) as row from ${sql.identifier(table_name)} t where t.clinic_id = ${clinicId}::uuid`,
    )
    text += rows.rows.map((r) => JSON.stringify(r.row)).join('\n') + '\n'
  }
  return text
}
