/**
 * Key rotation (docs/decisions/048-key-rotation.md) against the real database and a real
 * (Miniflare) R2 bucket: a clinic of its own is sealed under k1, the ring gains a new current
 * kid, and the job re-seals everything. Interrupted and resumed, under concurrent writes, and
 * for the blind-index key: afterwards nothing in the clinic's rows or chunks names k1, and all
 * of it opens with a ring that no longer holds k1.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { randomBytes, randomUUID } from 'node:crypto'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { and, eq, sql } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest'
import { createDocumentCipher, createPhiCipher, parseKeyRing, sealedChunkKid, type KeyRing } from '../../app/crypto/phi.server'
import * as s from '../../app/db/schema'
import { chunkKey } from '../../app/documents/upload.server'
import { openFormData } from '../../app/referrals/form-data.server'
import { patientMatch } from '../../app/referrals/queue.server'
import { rotateBlindIndexes } from '../../scripts/lib/blind-index-rotation'
import { openDocumentStore, type DocumentStore } from '../../scripts/lib/documents-store'
import { leftUnderOldKids, rotateKeys, sealedByKid } from '../../scripts/lib/key-rotation'
import { useTestDatabase } from '../support/db'
import { dumpClinic, makePrivacyClinic, type PrivacyClinic } from '../support/privacy-clinic'

const db = useTestDatabase()
const secrets = inject('secrets')
const k1 = parseKeyRing(secrets.phiKeyRing)
const k1Key = k1.keys[k1.current]!
const newKid = `r${randomUUID().slice(0, 6)}`
const newKey = randomBytes(32).toString('base64')
const before: KeyRing = { current: 'k1', keys: { k1: k1Key } }
const during: KeyRing = { current: newKid, keys: { k1: k1Key, [newKid]: newKey } }
const after: KeyRing = { current: newKid, keys: { [newKid]: newKey } }
const indexKey = secrets.phiBlindIndexKey

let dataDir: string
let store: DocumentStore
beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'intakepilot-rotation-'))
  store = await openDocumentStore({ dataDir })
}, 60_000)
afterAll(async () => {
  await store?.close()
  rmSync(dataDir, { recursive: true, force: true })
})

const job = (extra: Partial<Parameters<typeof rotateKeys>[0]> = {}) => ({
  db: db.owner,
  cipher: createPhiCipher({ keyRing: during, blindIndexKey: indexKey }),
  documents: createDocumentCipher({ keyRing: during }),
  bucket: store.bucket,
  batchSize: 4,
  ...extra,
})

/** Everything the clinic holds opens under a ring without k1, and R2 holds each chunk under the new kid. */
async function opensWithoutK1(clinic: PrivacyClinic) {
  const cipher = createPhiCipher({ keyRing: after, blindIndexKey: indexKey })
  const rows = await db.owner.select().from(s.referrals).where(eq(s.referrals.clinicId, clinic.id))
  for (const row of rows) {
    const made = clinic.referrals.find((r) => r.id === row.id)!
    const open = await openFormData(cipher, clinic.definition, { clinicId: clinic.id, referralId: row.id }, row.formData)
    expect(open.patient_last_name).toBe(made.values.patient_last_name)
  }
  const events = await db.owner
    .select()
    .from(s.referralEvents)
    .where(and(eq(s.referralEvents.clinicId, clinic.id), sql`${s.referralEvents.body} is not null`))
  for (const e of events) expect(await cipher.decrypt(e.body, { clinicId: clinic.id, recordId: e.id, field: 'body' })).toMatch(/note|written/)
  const documents = createDocumentCipher({ keyRing: after })
  for (const doc of clinic.documents) {
    const parts: Uint8Array[] = []
    for (let index = 0; index < doc.chunkCount; index++) {
      const object = await store.bucket.get(chunkKey(clinic.id, doc.referralId, doc.id, index))
      const sealed = new Uint8Array(await object!.arrayBuffer())
      expect(sealedChunkKid(sealed)).toBe(newKid)
      parts.push(
        await documents.openChunk(sealed, { clinicId: clinic.id, referralId: doc.referralId, documentId: doc.id, index, last: index === doc.chunkCount - 1 }),
      )
    }
    expect(Buffer.concat(parts).equals(Buffer.from(doc.bytes))).toBe(true)
  }
  // What a dump of the clinic would hold names no value under k1.
  const dump = await dumpClinic(db.owner, clinic.id)
  expect(dump).toContain(`"kid":"${newKid}"`)
  expect(dump).not.toContain('"kid":"k1"')
}

describe('rotating the PHI key ring', () => {
  test('a rotation stopped halfway resumes, and then nothing is left under the old kid', async () => {
    const clinic = await makePrivacyClinic(db.owner, { keyRing: before, blindIndexKey: indexKey }, store.bucket, { referrals: 14 })
    const held = await sealedByKid(db.owner, clinic.id, store.bucket)
    expect(Object.keys(held)).toEqual(['k1'])
    expect(held.k1).toMatchObject({
      'referral fields': expect.any(Number),
      'event bodies': 14,
      summaries: 4,
      'document names': 3,
      drafts: 1,
      'document chunks': 9,
    })

    // A crash after the second batch of referral fields.
    let batches = 0
    const crash = async () => {
      if (++batches === 2) throw new Error('the job was stopped')
    }
    await expect(rotateKeys(job({ afterBatch: crash }), { clinicId: clinic.id })).rejects.toThrow('the job was stopped')
    const halfway = await sealedByKid(db.owner, clinic.id, store.bucket)
    expect(halfway.k1?.['referral fields']).toBeGreaterThan(0)
    expect(halfway[newKid]?.['referral fields']).toBeGreaterThan(0)

    const [report] = await rotateKeys(job(), { clinicId: clinic.id })
    expect(leftUnderOldKids(report!)).toEqual([])
    expect(report!.failed).toEqual([])
    expect(report!.rotated['event bodies']).toBe(14)
    expect(report!.rotated['document chunks']).toBe(9)
    await opensWithoutK1(clinic)

    // Idempotent: a second run re-seals nothing.
    const [again] = await rotateKeys(job(), { clinicId: clinic.id })
    expect(Object.values(again!.rotated).every((n) => n === 0)).toBe(true)

    // The trail: started and complete, with counts and nothing left; the chain still verifies.
    const trail = await db.owner.execute<{ outcome: string; details: { stage: string; rotated?: Record<string, number>; left?: object } }>(
      sql`select outcome, details from audit_logs where clinic_id = ${clinic.id}::uuid and action = 'phi.rotate' order by seq`,
    )
    expect(trail.rows.map((r) => r.details.stage)).toEqual(['started', 'started', 'complete', 'started', 'complete'])
    const complete = trail.rows[2]!
    expect(complete.outcome).toBe('success')
    expect(complete.details.left).toEqual({})
    expect(complete.details.rotated!['referral fields']).toBeGreaterThan(0)
    const written = await db.owner.execute<{ n: string }>(
      sql`select count(*) as n from audit_logs where clinic_id = ${clinic.id}::uuid and action = 'record.write' and actor_role = 'system'`,
    )
    expect(Number(written.rows[0]!.n)).toBeGreaterThan(14)
    const [verified] = (await db.owner.execute<{ ok: boolean }>(sql`select ok from audit_verify(${clinic.id}::uuid)`)).rows
    expect(verified!.ok).toBe(true)
  }, 120_000)

  test('under live writes: a value written meanwhile is kept, under the new kid or rotated', async () => {
    const clinic = await makePrivacyClinic(db.owner, { keyRing: before, blindIndexKey: indexKey }, store.bucket, { referrals: 10 })
    const newApp = createPhiCipher({ keyRing: during, blindIndexKey: indexKey })
    const oldApp = createPhiCipher({ keyRing: before, blindIndexKey: indexKey })
    const written = new Map<string, string>()
    const writeNote = async (eventId: string, text: string, cipher = newApp) => {
      written.set(eventId, text)
      await db.owner
        .update(s.referralEvents)
        .set({ body: await cipher.encrypt(text, { clinicId: clinic.id, recordId: eventId, field: 'body' }) })
        .where(eq(s.referralEvents.id, eventId))
    }
    let first = true
    const rotation = job({
      // Between the job's read and its write, the app edits a row the job has read: the job must not write its stale copy over it.
      afterRead: async (kind, ids) => {
        if (kind !== 'event bodies' || !first) return
        first = false
        await writeNote(ids[0]!, 'written during the rotation by an updated isolate')
        // And an isolate still on the old ring writes, under k1, a row the job has passed already.
        await writeNote(ids[1]!, 'written during the rotation by an old isolate', oldApp)
      },
    })
    const [report] = await rotateKeys(rotation, { clinicId: clinic.id })
    expect(leftUnderOldKids(report!)).toEqual([])
    const cipher = createPhiCipher({ keyRing: after, blindIndexKey: indexKey })
    for (const [eventId, text] of written) {
      const [row] = await db.owner.select().from(s.referralEvents).where(eq(s.referralEvents.id, eventId))
      expect(row!.body!.kid).toBe(newKid)
      expect(await cipher.decrypt(row!.body, { clinicId: clinic.id, recordId: eventId, field: 'body' })).toBe(text)
    }
    await opensWithoutK1(clinic)
  }, 120_000)

  test('a value that does not open is left alone, reported, and keeps its kid', async () => {
    const clinic = await makePrivacyClinic(db.owner, { keyRing: before, blindIndexKey: indexKey }, store.bucket, { referrals: 2 })
    // A note sealed under a key the ring does not hold.
    const stray: KeyRing = { current: 'k0', keys: { k0: randomBytes(32).toString('base64') } }
    const [note] = await db.owner
      .select()
      .from(s.referralEvents)
      .where(and(eq(s.referralEvents.clinicId, clinic.id), eq(s.referralEvents.type, 'note')))
      .limit(1)
    const body = await createPhiCipher({ keyRing: stray, blindIndexKey: indexKey }).encrypt('stray', { clinicId: clinic.id, recordId: note!.id, field: 'body' })
    await db.owner.update(s.referralEvents).set({ body }).where(eq(s.referralEvents.id, note!.id))
    const [report] = await rotateKeys(job(), { clinicId: clinic.id })
    expect(report!.failed).toEqual([{ kind: 'event bodies', id: note!.id }])
    expect(leftUnderOldKids(report!)).toEqual(['k0'])
    const trail = await db.owner.execute<{ outcome: string }>(
      sql`select outcome from audit_logs where clinic_id = ${clinic.id}::uuid and action = 'phi.rotate' order by seq desc limit 1`,
    )
    expect(trail.rows[0]!.outcome).toBe('error')
  }, 120_000)
})

describe('rotating the blind-index key', () => {
  test('every index is recomputed under the new key, resumably, and lookups match throughout', async () => {
    const clinic = await makePrivacyClinic(db.owner, { keyRing: before, blindIndexKey: indexKey }, store.bucket, { referrals: 9 })
    const newIndexKey = randomBytes(32).toString('base64')
    const rotating = createPhiCipher({ keyRing: before, blindIndexKey: newIndexKey, previousBlindIndexKey: indexKey })
    const onlyNew = createPhiCipher({ keyRing: before, blindIndexKey: newIndexKey })
    const patient = clinic.referrals[3]!
    const search = { healthCard: String(patient.values.health_card_number) }
    const found = async (cipher: typeof rotating) =>
      (
        await db.owner
          .select({ id: s.referrals.id })
          .from(s.referrals)
          .where(and(eq(s.referrals.clinicId, clinic.id), await patientMatch(cipher, clinic.id, search)))
      ).map((r) => r.id)

    // Before: only the app that knows the previous key finds the patient.
    expect(await found(rotating)).toContain(patient.id)
    expect(await found(onlyNew)).toEqual([])
    const [pending] = await rotateBlindIndexes({ db: db.owner, cipher: rotating, verifyOnly: true }, { clinicId: clinic.id })
    expect(pending!.underPrevious).toBe(9)

    let batches = 0
    await expect(
      rotateBlindIndexes(
        {
          db: db.owner,
          cipher: rotating,
          batchSize: 3,
          afterBatch: async () => {
            if (++batches === 2) throw new Error('the job was stopped')
          },
        },
        { clinicId: clinic.id },
      ),
    ).rejects.toThrow('the job was stopped')
    const [halfway] = await rotateBlindIndexes({ db: db.owner, cipher: rotating, verifyOnly: true }, { clinicId: clinic.id })
    expect(halfway!.underPrevious).toBe(3)
    expect(await found(rotating)).toContain(patient.id)

    const [done] = await rotateBlindIndexes({ db: db.owner, cipher: rotating, batchSize: 3 }, { clinicId: clinic.id })
    expect(done!.recomputed).toBe(3)
    const [check] = await rotateBlindIndexes({ db: db.owner, cipher: rotating, verifyOnly: true }, { clinicId: clinic.id })
    expect(check).toMatchObject({ underPrevious: 0, mismatched: 0, failed: [] })
    expect(await found(onlyNew)).toContain(patient.id)
    // The old key finds nothing any more: it can go.
    expect(await found(createPhiCipher({ keyRing: before, blindIndexKey: indexKey }))).toEqual([])
    const trail = await db.owner.execute<{ details: { recomputed: number } }>(
      sql`select details from audit_logs where clinic_id = ${clinic.id}::uuid and action = 'phi.rotate_blind_index' order by seq`,
    )
    expect(trail.rows.map((r) => r.details.recomputed)).toEqual([3])
  }, 120_000)
})
