/**
 * A forwarded referral's documents, copied for the receiving clinic
 * (docs/decisions/039-forwarded-documents.md): each chunk fetched from R2, opened under the
 * sending clinic's key, sealed again under the receiving clinic's (bound to the new referral and
 * a new document id) and written back, one chunk at a time, so memory stays at a chunk whatever
 * the size. The source is checked as it is read (each chunk's size, then the whole size and
 * SHA-256), so a document that does not open whole is not sent. The sender's copy stays.
 *
 * Nothing here touches the database: the caller passes the copies to forward_referral(), which
 * records them in the receiving clinic, and discards them (discardForwardedCopies) if the hand-off
 * does not happen.
 */
import { createHash } from 'node:crypto'
import type { DocumentCipher, PhiCipher } from '~/crypto/phi.server'
import type { EncryptedValue } from '~/db/schema'
import { PhiDecryptError } from '~/crypto/phi.server'
import type { DocumentRow } from './documents.server'
import { chunkKey, type DocumentBucket } from './upload.server'

/** A document of the sending referral, as the forward reads it (its name still sealed). */
export type HeldDocument = Pick<DocumentRow, 'id' | 'chunkCount' | 'chunkBytes' | 'sizeBytes' | 'sha256'> & { name: EncryptedValue }

/** What forward_referral() records for each copy: the original it copies, its id, its name sealed for the receiver. */
export type ForwardedCopy = { from: string; id: string; name: EncryptedValue }

export type DocumentCopier = { bucket: DocumentBucket; cipher: DocumentCipher }
type Side = { clinicId: string; referralId: string }

export type CopiedDocuments = { copies: ForwardedCopy[]; keys: string[] }

/**
 * Copies every document, in order. On any failure what was written is deleted before the error
 * is thrown again; on success the caller owns the written keys until the hand-off commits.
 */
export async function copyForwardedDocuments(store: DocumentCopier, phi: PhiCipher, from: Side, to: Side, documents: HeldDocument[]): Promise<CopiedDocuments> {
  const done: CopiedDocuments = { copies: [], keys: [] }
  try {
    for (const doc of documents) {
      const id = crypto.randomUUID()
      await copyChunks(store, { ...from, documentId: doc.id }, { ...to, documentId: id }, doc, done.keys)
      const name = await phi.decrypt(doc.name, { clinicId: from.clinicId, recordId: doc.id, field: 'name' })
      done.copies.push({ from: doc.id, id, name: await phi.encrypt(name, { clinicId: to.clinicId, recordId: id, field: 'name' }) })
    }
    return done
  } catch (error) {
    await discardForwardedCopies(store.bucket, done.keys)
    throw error
  }
}

type Where = Side & { documentId: string }

async function copyChunks(store: DocumentCopier, from: Where, to: Where, doc: HeldDocument, written: string[]) {
  const hash = createHash('sha256')
  let size = 0
  for (let index = 0; index < doc.chunkCount; index++) {
    const last = index === doc.chunkCount - 1
    const object = await store.bucket.get(chunkKey(from.clinicId, from.referralId, from.documentId, index))
    if (!object) throw new PhiDecryptError(`document chunk ${index}`)
    const plain = await store.cipher.openChunk(new Uint8Array(await object.arrayBuffer()), { ...from, index, last })
    if (!last && plain.byteLength !== doc.chunkBytes) throw new PhiDecryptError(`document chunk ${index}`)
    size += plain.byteLength
    hash.update(plain)
    if (last && (size !== Number(doc.sizeBytes) || hash.digest('hex') !== doc.sha256)) throw new PhiDecryptError('document')
    const key = chunkKey(to.clinicId, to.referralId, to.documentId, index)
    written.push(key)
    await store.bucket.put(key, await store.cipher.sealChunk(plain as Uint8Array<ArrayBuffer>, { ...to, index, last }))
  }
}

/** Removes copies whose hand-off did not happen (a chunk without its row is unreadable, but not kept either). */
export async function discardForwardedCopies(bucket: DocumentBucket, keys: string[]) {
  for (let i = 0; i < keys.length; i += 1000) await bucket.delete(keys.slice(i, i + 1000))
}
