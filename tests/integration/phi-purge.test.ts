/**
 * Retention that purges PHI (docs/decisions/049-retention-purge.md), against the real database
 * and a real (Miniflare) R2 bucket on disk: what a dump of the database and the bucket's files
 * hold afterwards, what stays (the skeleton, the audit trail, referrals not due), the dry run,
 * and that only the owner's job can mark a referral purged.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { and, eq, sql } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest'
import { isEncryptedValue, parseKeyRing } from '../../app/crypto/phi.server'
import * as s from '../../app/db/schema'
import { chunkKey } from '../../app/documents/upload.server'
import { openDocumentStore, type DocumentStore } from '../../scripts/lib/documents-store'
import { purgeExpiredPhi } from '../../scripts/lib/phi-purge'
import { sqlState, useTestDatabase } from '../support/db'
import { dumpClinic, makePrivacyClinic, type PrivacyClinic } from '../support/privacy-clinic'

const db = useTestDatabase()
const secrets = inject('secrets')
const keys = { keyRing: parseKeyRing(secrets.phiKeyRing), blindIndexKey: secrets.phiBlindIndexKey }
const DAY = 86_400_000

let dataDir: string
let store: DocumentStore
beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'intakepilot-purge-'))
  store = await openDocumentStore({ dataDir })
}, 60_000)
afterAll(async () => {
  await store?.close()
  rmSync(dataDir, { recursive: true, force: true })
})

/** Every file under the bucket's persist folder, read as bytes. */
function filesUnder(dir: string): Buffer[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    return statSync(path).isDirectory() ? filesUnder(path) : [readFileSync(path)]
  })
}

/** Every ciphertext a referral holds in the database: its fields, its event bodies, its summaries, its documents' names. */
async function ciphertextsOf(clinic: PrivacyClinic, referralId: string) {
  const [row] = await db.owner.select().from(s.referrals).where(eq(s.referrals.id, referralId))
  const events = await db.owner.select().from(s.referralEvents).where(eq(s.referralEvents.referralId, referralId))
  const results = await db.owner.select().from(s.processingResults).where(eq(s.processingResults.referralId, referralId))
  const documents = await db.owner.select().from(s.referralDocuments).where(eq(s.referralDocuments.referralId, referralId))
  const found = [
    ...Object.values(row!.formData).filter(isEncryptedValue),
    ...events.flatMap((e) => (e.body ? [e.body] : [])),
    ...results.flatMap((r) => ((r.summaries as { entries?: { text: s.EncryptedValue }[] }).entries ?? []).map((e) => e.text)),
    ...documents.map((d) => d.name),
  ].map((v) => v.ct)
  expect(found.length, `referral ${referralId} of ${clinic.slug} holds ciphertexts`).toBeGreaterThan(2)
  return found
}

async function chunkBytes(clinic: PrivacyClinic, doc: PrivacyClinic['documents'][number]) {
  const object = await store.bucket.get(chunkKey(clinic.id, doc.referralId, doc.id, 0))
  return Buffer.from(await object!.arrayBuffer())
}

describe('purging PHI after the retention period', () => {
  test('a dry run counts; the purge removes the PHI, the documents and the indexes, and keeps the skeleton and the trail', async () => {
    const clinic = await makePrivacyClinic(db.owner, keys, store.bucket, { referrals: 10 })
    await db.owner
      .update(s.clinics)
      .set({ settings: { phiRetentionDays: 365 } })
      .where(eq(s.clinics.id, clinic.id))
    const ended = (n: number, status: 'closed' | 'declined' | 'cancelled', daysAgo: number) =>
      db.owner
        .update(s.referrals)
        .set({ status, closedAt: new Date(Date.now() - daysAgo * DAY) })
        .where(eq(s.referrals.id, clinic.referrals[n]!.id))
    // Due: 0 (with a document and a summary), 1, 2. Not due: 5 (ended too recently: it has a document), 6 (open).
    await ended(0, 'closed', 400)
    await ended(1, 'declined', 366)
    await ended(2, 'cancelled', 800)
    await ended(5, 'declined', 300)
    const dueIds = [0, 1, 2].map((n) => clinic.referrals[n]!.id)
    const keptIds = [5, 6].map((n) => clinic.referrals[n]!.id)
    const goneCiphertexts = (await Promise.all(dueIds.map((id) => ciphertextsOf(clinic, id)))).flat()
    const keptCiphertexts = (await Promise.all(keptIds.map((id) => ciphertextsOf(clinic, id)))).flat()
    const [dueDocument, keptDocument] = [clinic.documents.find((d) => d.referralId === dueIds[0])!, clinic.documents.find((d) => d.referralId === keptIds[0])!]
    const goneChunk = await chunkBytes(clinic, dueDocument)
    const keptChunk = await chunkBytes(clinic, keptDocument)
    const [before] = await db.owner.select().from(s.referrals).where(eq(s.referrals.id, dueIds[0]!))

    const [dry] = await purgeExpiredPhi({ db: db.owner, bucket: null }, { apply: false, clinicId: clinic.id })
    expect(dry).toMatchObject({ retentionDays: 365, referrals: 3, eventBodies: 3, summaries: 1, documents: 1, chunks: dueDocument.chunkCount })
    const untouched = await dumpClinic(db.owner, clinic.id)
    for (const ct of goneCiphertexts) expect(untouched).toContain(ct)

    const [applied] = await purgeExpiredPhi({ db: db.owner, bucket: store.bucket, batchSize: 2 }, { apply: true, clinicId: clinic.id })
    expect(applied).toMatchObject({ referrals: 3, eventBodies: 3, summaries: 1, documents: 1 })

    // The database: none of the purged ciphertexts anywhere in the clinic's rows; the others all there.
    const dump = await dumpClinic(db.owner, clinic.id)
    for (const ct of goneCiphertexts) expect(dump).not.toContain(ct)
    for (const ct of keptCiphertexts) expect(dump).toContain(ct)
    // R2: the purged document's chunks are gone, from the bucket and from its files on disk; the other's stay.
    const listed = await store.bucket.list({ prefix: `documents/${clinic.id}/${dueIds[0]}/` })
    expect(listed.objects).toEqual([])
    expect((await store.bucket.list({ prefix: `documents/${clinic.id}/${keptIds[0]}/` })).objects).toHaveLength(keptDocument.chunkCount)
    const onDisk = filesUnder(dataDir)
    expect(onDisk.some((file) => file.includes(goneChunk))).toBe(false)
    expect(onDisk.some((file) => file.includes(keptChunk))).toBe(true)

    // The skeleton stays, marked purged, with no blind index left to match.
    const [after] = await db.owner.select().from(s.referrals).where(eq(s.referrals.id, dueIds[0]!))
    expect(after).toMatchObject({
      id: before!.id,
      referenceNumber: before!.referenceNumber,
      status: 'closed',
      receivedAt: before!.receivedAt,
      closedAt: before!.closedAt,
      formData: {},
      healthCardIndex: null,
      nameDobIndex: null,
    })
    expect(after!.purgedAt).toBeInstanceOf(Date)
    expect(before!.healthCardIndex).not.toBeNull()
    const events = await db.owner.select().from(s.referralEvents).where(eq(s.referralEvents.referralId, dueIds[0]!))
    expect(events.map((e) => e.type).sort()).toEqual(['created', 'note'])

    // The trail: one row per referral and one for the run, and the chain still verifies.
    const trail = await db.owner.execute<{ action: string; entity_id: string }>(
      sql`select action, entity_id from audit_logs where clinic_id = ${clinic.id}::uuid and action in ('referral.purge', 'phi.purge') order by seq`,
    )
    expect(trail.rows.filter((r) => r.action === 'referral.purge').map((r) => r.entity_id)).toEqual(expect.arrayContaining(dueIds))
    expect(trail.rows.filter((r) => r.action === 'phi.purge')).toHaveLength(1)
    const [verified] = (await db.owner.execute<{ ok: boolean }>(sql`select ok from audit_verify(${clinic.id}::uuid)`)).rows
    expect(verified!.ok).toBe(true)

    // Again: nothing is due.
    const [again] = await purgeExpiredPhi({ db: db.owner, bucket: store.bucket }, { apply: true, clinicId: clinic.id })
    expect(again!.referrals).toBe(0)
  }, 120_000)

  test('a clinic without a retention period is never purged', async () => {
    const clinic = await makePrivacyClinic(db.owner, keys, store.bucket, { referrals: 2 })
    await db.owner
      .update(s.referrals)
      .set({ status: 'closed', closedAt: new Date(Date.now() - 5000 * DAY) })
      .where(eq(s.referrals.clinicId, clinic.id))
    const [report] = await purgeExpiredPhi({ db: db.owner, bucket: store.bucket }, { apply: true, clinicId: clinic.id })
    expect(report).toMatchObject({ retentionDays: null, referrals: 0 })
    const rows = await db.owner
      .select()
      .from(s.referrals)
      .where(and(eq(s.referrals.clinicId, clinic.id), sql`${s.referrals.purgedAt} is not null`))
    expect(rows).toEqual([])
  }, 60_000)

  test('only the retention job marks a referral purged: the runtime role cannot, nor write PHI back into one', async () => {
    const clinic = await makePrivacyClinic(db.owner, keys, store.bucket, { referrals: 1 })
    const staff = { clinicId: clinic.id, userId: clinic.staff, role: 'staff' as const }
    const id = clinic.referrals[0]!.id
    expect(await sqlState(db.as(staff).tenant((tx) => tx.update(s.referrals).set({ purgedAt: new Date() }).where(eq(s.referrals.id, id))))).toBe('42501')
    await db.owner
      .update(s.clinics)
      .set({ settings: { phiRetentionDays: 30 } })
      .where(eq(s.clinics.id, clinic.id))
    await db.owner
      .update(s.referrals)
      .set({ status: 'closed', closedAt: new Date(Date.now() - 40 * DAY) })
      .where(eq(s.referrals.id, id))
    await purgeExpiredPhi({ db: db.owner, bucket: store.bucket }, { apply: true, clinicId: clinic.id })
    // A purged referral holds no PHI, whoever writes: the database refuses form data or an index on it.
    expect(
      await sqlState(
        db.as(staff).tenant((tx) =>
          tx
            .update(s.referrals)
            .set({ healthCardIndex: 'x'.repeat(43) + '=' })
            .where(eq(s.referrals.id, id)),
        ),
      ),
    ).toBe('23514')
  }, 60_000)
})
