/**
 * A referral's documents in the database: recording what was staged in R2, the list, opening
 * one (audited), and removing one (a soft delete, audited). Ids in the audit rows, never a name.
 * docs/decisions/027-referral-documents.md
 */
import { and, asc, count, eq, isNull, sql } from 'drizzle-orm'
import { deniedEvent, type AuditEvent } from '~/audit/audit.server'
import type { PhiCipher } from '~/crypto/phi.server'
import { referralDocuments, referrals, users } from '~/db/schema'
import type { TenantTx } from '~/tenancy/tenant.server'
import { MAX_FILES_PER_REFERRAL, type DocumentLimits, type DocumentType } from './limits'
import type { StagedDocument } from './upload.server'

type Audit = (tx: TenantTx, event: AuditEvent) => Promise<void>
export type DocumentRow = typeof referralDocuments.$inferSelect
export type AttachedWith = DocumentRow['attachedWith']

export type ListedDocument = {
  id: string
  name: string
  contentType: DocumentType
  sizeBytes: number
  createdAt: string
  attachedWith: AttachedWith
  uploadedBy: { id: string; displayName: string; role: string } | null
}

export type RecordOutcome = 'recorded' | 'not-found' | 'too-much'

/** Who attaches: a person (their user id) or the EHR integration that sent the referral (decision 063). */
export type Uploader = string | { integration: string }

/**
 * Records staged documents on a referral, in the caller's transaction (the same one that
 * creates the referral, for a new one: all or none). 'too-much' when, with what the referral
 * has already, they pass the clinic's limit; the caller then discards them from R2.
 */
export async function recordDocuments(
  tx: TenantTx,
  deps: { cipher: PhiCipher; audit: Audit },
  input: { clinicId: string; referralId: string; uploadedBy: Uploader; attachedWith: AttachedWith; staged: StagedDocument[]; limits: DocumentLimits },
): Promise<RecordOutcome> {
  if (!input.staged.length) return 'recorded'
  const [referral] = await tx.select({ id: referrals.id }).from(referrals).where(eq(referrals.id, input.referralId)).limit(1)
  if (!referral) return 'not-found'
  const [held] = await tx
    .select({ files: count(), bytes: sql<string>`coalesce(sum(${referralDocuments.sizeBytes}), 0)` })
    .from(referralDocuments)
    .where(and(eq(referralDocuments.referralId, input.referralId), isNull(referralDocuments.removedAt)))
  const adding = input.staged.reduce((n, d) => n + d.sizeBytes, 0)
  if (Number(held!.bytes) + adding > input.limits.referralBytes || held!.files + input.staged.length > MAX_FILES_PER_REFERRAL) return 'too-much'
  const rows = await Promise.all(
    input.staged.map(async (d) => ({
      id: d.id,
      clinicId: input.clinicId,
      referralId: input.referralId,
      ...(typeof input.uploadedBy === 'string' ? { uploadedBy: input.uploadedBy } : { uploadedByIntegration: input.uploadedBy.integration }),
      attachedWith: input.attachedWith,
      contentType: d.contentType,
      sizeBytes: d.sizeBytes,
      sha256: d.sha256,
      chunkBytes: d.chunkBytes,
      chunkCount: d.chunkCount,
      name: await deps.cipher.encrypt(d.name, { clinicId: input.clinicId, recordId: d.id, field: 'name' }),
    })),
  )
  await tx.insert(referralDocuments).values(rows)
  await deps.audit(tx, {
    action: 'document.attach',
    entityType: 'referral',
    entityId: input.referralId,
    details: { documentIds: rows.map((r) => r.id), with: input.attachedWith },
  })
  return 'recorded'
}

/** The referral's documents that are not removed, oldest first, names decrypted (the caller records the read). */
export async function listDocuments(tx: TenantTx, cipher: PhiCipher, referralId: string): Promise<ListedDocument[]> {
  const rows = await tx
    .select({
      document: referralDocuments,
      uploader: { id: users.id, displayName: users.displayName, role: users.role },
      sender: referrals.submittedByIntegrationName,
    })
    .from(referralDocuments)
    .leftJoin(users, eq(users.id, referralDocuments.uploadedBy))
    .leftJoin(referrals, and(eq(referrals.clinicId, referralDocuments.clinicId), eq(referrals.id, referralDocuments.referralId)))
    .where(and(eq(referralDocuments.referralId, referralId), isNull(referralDocuments.removedAt)))
    .orderBy(asc(referralDocuments.createdAt), asc(referralDocuments.id))
  return openDocumentList(
    cipher,
    rows.map(({ document: d, uploader, sender }) => ({
      ...d,
      createdAt: d.createdAt.toISOString(),
      uploadedBy: uploader?.id ? uploader : integrationUploader(d.uploadedByIntegration, sender),
    })),
  )
}

/**
 * An EHR integration as a document's uploader: its name is the referral's sender's (an
 * integration attaches only to a referral it sent, drizzle/0038), which staff may read and
 * ehr_integrations is not (decision 061).
 */
export const integrationUploader = (id: string | null, name: string | null) => (id && name ? { id, displayName: name, role: 'integration' } : null)

/** A document as read with its referral (openReferral's `documents`), its name still encrypted. */
export type StoredDocument = Pick<typeof referralDocuments.$inferSelect, 'id' | 'clinicId' | 'name' | 'contentType' | 'sizeBytes' | 'attachedWith'> & {
  createdAt: string
  uploadedBy: { id: string; displayName: string; role: string } | null
}

/** The list as the referral page shows it: names decrypted, times as ISO strings. */
export function openDocumentList(cipher: PhiCipher, stored: StoredDocument[]): Promise<ListedDocument[]> {
  return Promise.all(
    stored.map(async (d) => ({
      id: d.id,
      name: await cipher.decrypt(d.name, { clinicId: d.clinicId, recordId: d.id, field: 'name' }),
      contentType: d.contentType as DocumentType,
      sizeBytes: Number(d.sizeBytes),
      createdAt: new Date(d.createdAt).toISOString(),
      attachedWith: d.attachedWith,
      uploadedBy: d.uploadedBy,
    })),
  )
}

/**
 * One document, to be viewed or downloaded: its row and decrypted name, with the read recorded
 * (document.read, under the referral, so "Who accessed this" shows it). Not there, removed, or
 * not theirs: null, with the refusal recorded.
 */
export async function openDocument(
  tx: TenantTx,
  deps: { cipher: PhiCipher; audit: Audit },
  input: { referralId: string; documentId: string; download: boolean },
) {
  const [row] = await tx
    .select()
    .from(referralDocuments)
    .where(and(eq(referralDocuments.id, input.documentId), eq(referralDocuments.referralId, input.referralId), isNull(referralDocuments.removedAt)))
    .limit(1)
  if (!row) {
    await deps.audit(tx, deniedEvent({ action: 'document.read', entityId: input.referralId, details: { documentId: input.documentId } }, 404))
    return null
  }
  const name = await deps.cipher.decrypt(row.name, { clinicId: row.clinicId, recordId: row.id, field: 'name' })
  await deps.audit(tx, {
    action: 'document.read',
    entityType: 'referral',
    entityId: row.referralId,
    details: { documentId: row.id, download: input.download },
  })
  return { row, name }
}

/** Soft delete with a reason (encrypted: it may name the patient). Staff only (RLS too). */
export async function removeDocument(
  tx: TenantTx,
  deps: { cipher: PhiCipher; audit: Audit },
  input: { clinicId: string; referralId: string; documentId: string; removedBy: string; reason: string },
): Promise<boolean> {
  const removed = await tx
    .update(referralDocuments)
    .set({
      removedAt: new Date(),
      removedBy: input.removedBy,
      removalReason: await deps.cipher.encrypt(input.reason, { clinicId: input.clinicId, recordId: input.documentId, field: 'removal_reason' }),
    })
    .where(and(eq(referralDocuments.id, input.documentId), eq(referralDocuments.referralId, input.referralId), isNull(referralDocuments.removedAt)))
    .returning({ id: referralDocuments.id })
  if (!removed.length) return false
  await deps.audit(tx, { action: 'document.remove', entityType: 'referral', entityId: input.referralId, details: { documentId: input.documentId } })
  return true
}
