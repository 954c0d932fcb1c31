/**
 * A document's bytes, from R2: each chunk fetched, opened (its AAD binds clinic, referral,
 * document, position and last-ness) and passed on, one at a time. The first chunk is opened
 * before anything is answered, so a document that does not open is an error page, not a
 * truncated file; a later failure (or a size or hash that does not match) aborts the stream.
 */
import { createHash } from 'node:crypto'
import { PhiDecryptError, type DocumentCipher } from '~/crypto/phi.server'
import type { DocumentRow } from './documents.server'
import { chunkKey, type DocumentBucket } from './upload.server'

type Stored = Pick<DocumentRow, 'id' | 'clinicId' | 'referralId' | 'chunkCount' | 'chunkBytes' | 'sizeBytes' | 'sha256'>

export async function documentContent(bucket: DocumentBucket, cipher: DocumentCipher, doc: Stored): Promise<ReadableStream<Uint8Array>> {
  const hash = createHash('sha256')
  let index = 0
  let size = 0
  const next = async () => {
    const last = index === doc.chunkCount - 1
    const object = await bucket.get(chunkKey(doc.clinicId, doc.referralId, doc.id, index))
    if (!object) throw new PhiDecryptError(`document chunk ${index}`)
    const plain = await cipher.openChunk(new Uint8Array(await object.arrayBuffer()), {
      clinicId: doc.clinicId,
      referralId: doc.referralId,
      documentId: doc.id,
      index,
      last,
    })
    if (!last && plain.byteLength !== doc.chunkBytes) throw new PhiDecryptError(`document chunk ${index}`)
    size += plain.byteLength
    hash.update(plain)
    if (last && (size !== doc.sizeBytes || hash.digest('hex') !== doc.sha256)) throw new PhiDecryptError('document')
    index++
    return plain
  }
  const first = await next()
  return new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(first)
      if (index === doc.chunkCount) controller.close()
    },
    async pull(controller) {
      if (index >= doc.chunkCount) return
      try {
        controller.enqueue(await next())
        if (index === doc.chunkCount) controller.close()
      } catch (error) {
        controller.error(error)
      }
    },
  })
}
