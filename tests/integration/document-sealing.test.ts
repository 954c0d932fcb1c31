/**
 * Documents sealed in chunks (docs/decisions/027-referral-documents.md), from the outside: the
 * upload path (receiveUpload) writes to a bucket, the read path (documentContent) gives the
 * bytes back, and every way of tampering with what the bucket holds fails closed: a flipped
 * bit, chunks swapped, a chunk dropped from the end, a document copied to another referral,
 * another document or another clinic. Real Web Crypto; the bucket is a Map (R2's own
 * persistence is covered end to end in tests/e2e/documents.spec.ts).
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto'
import { describe, expect, test } from 'vitest'
import { createDocumentCipher, createPhiCipher, PhiDecryptError } from '../../app/crypto/phi.server'
import { documentContent } from '../../app/documents/content.server'
import { MAX_FILE_BYTES, MAX_REFERRAL_BYTES } from '../../app/documents/limits'
import { CHUNK_BYTES, chunkKey, receiveUpload, type DocumentBucket, type StagedDocument } from '../../app/documents/upload.server'

const keyRing = { current: 'k1', keys: { k1: randomBytes(32).toString('base64') } }
const cipher = createDocumentCipher({ keyRing })

function memoryBucket() {
  const objects = new Map<string, Uint8Array>()
  const bucket = {
    put: async (key: string, value: Uint8Array) => void objects.set(key, new Uint8Array(value)),
    get: async (key: string) => {
      const value = objects.get(key)
      return value ? { arrayBuffer: async () => value.slice().buffer } : null
    },
    delete: async (keys: string | string[]) => {
      for (const key of [keys].flat()) objects.delete(key)
    },
  }
  return { objects, bucket: bucket as unknown as DocumentBucket }
}

const limits = { fileBytes: MAX_FILE_BYTES, referralBytes: MAX_REFERRAL_BYTES }
const uploadRequest = (files: { name: string; bytes: Uint8Array<ArrayBuffer> }[]) => {
  const form = new FormData()
  form.append('note', 'hello')
  for (const f of files) form.append('documents', new File([f.bytes], f.name))
  return new Request('http://x/', { method: 'POST', body: form })
}
/** A text document of `size` bytes (several chunks). */
const text = (size: number) => new Uint8Array(Buffer.from('Lab report line.\n'.repeat(Math.ceil(size / 17)).slice(0, size)))

async function stage(bytes: Uint8Array<ArrayBuffer>, where = { clinicId: randomUUID(), referralId: randomUUID() }) {
  const { objects, bucket } = memoryBucket()
  const upload = await receiveUpload(uploadRequest([{ name: 'report.txt', bytes }]), { bucket, cipher, limits, ...where })
  expect(upload.problems).toEqual([])
  expect(upload.fields.get('note')).toBe('hello')
  const doc = upload.staged[0]!
  return { objects, bucket, doc, row: { ...doc, ...where } }
}
async function read(bucket: DocumentBucket, row: StagedDocument & { clinicId: string; referralId: string }) {
  const stream = await documentContent(bucket, cipher, row)
  return new Uint8Array(await new Response(stream).arrayBuffer())
}
/** Fails the test if it read; the error otherwise. */
async function refused(work: () => Promise<unknown>) {
  const outcome = await work().then(
    () => 'read',
    (error: unknown) => error,
  )
  expect(outcome).toBeInstanceOf(PhiDecryptError)
}

describe('sealed in chunks', () => {
  test('round trip: the bytes, their size and SHA-256, in ceil(size / chunk) sealed chunks holding no plaintext', async () => {
    const bytes = text(3 * CHUNK_BYTES + 123)
    const { objects, bucket, doc, row } = await stage(bytes)
    expect(doc).toMatchObject({
      contentType: 'text/plain',
      sizeBytes: bytes.byteLength,
      chunkCount: 4,
      sha256: createHash('sha256').update(bytes).digest('hex'),
    })
    expect(objects.size).toBe(4)
    for (const sealed of objects.values()) expect(Buffer.from(sealed).includes(Buffer.from('Lab report'))).toBe(false)
    expect(Buffer.from(await read(bucket, row)).equals(Buffer.from(bytes))).toBe(true)
  })

  test('a flipped bit in any chunk fails closed', async () => {
    const { objects, bucket, row } = await stage(text(2 * CHUNK_BYTES + 5))
    for (const key of [...objects.keys()]) {
      const original = objects.get(key)!
      const flipped = original.slice()
      flipped[flipped.byteLength - 20]! ^= 1
      objects.set(key, flipped)
      await refused(() => read(bucket, row))
      objects.set(key, original)
    }
    expect((await read(bucket, row)).byteLength).toBe(2 * CHUNK_BYTES + 5)
  })

  test('chunks swapped, or the last one dropped (and the count lowered to match), fail closed', async () => {
    const bytes = text(3 * CHUNK_BYTES)
    const { objects, bucket, row } = await stage(bytes)
    const key = (i: number) => chunkKey(row.clinicId, row.referralId, row.id, i)
    const [a, b] = [objects.get(key(0))!, objects.get(key(1))!]
    objects.set(key(0), b)
    objects.set(key(1), a)
    await refused(() => read(bucket, row))
    objects.set(key(0), a)
    objects.set(key(1), b)
    objects.delete(key(2))
    await refused(() => read(bucket, row))
    // Truncation with the metadata edited to match (count, size, hash): chunk 1 was sealed as "not the last".
    const shorter = bytes.subarray(0, 2 * CHUNK_BYTES)
    await refused(() => read(bucket, { ...row, chunkCount: 2, sizeBytes: shorter.byteLength, sha256: createHash('sha256').update(shorter).digest('hex') }))
  })

  test('copied to another referral, another document or another clinic, a document does not open', async () => {
    const { objects, bucket, row } = await stage(text(CHUNK_BYTES + 1))
    for (const moved of [{ referralId: randomUUID() }, { id: randomUUID() }, { clinicId: randomUUID() }]) {
      const target = { ...row, ...moved }
      for (let i = 0; i < row.chunkCount; i++) {
        await bucket.put(chunkKey(target.clinicId, target.referralId, target.id, i), objects.get(chunkKey(row.clinicId, row.referralId, row.id, i))!)
      }
      await refused(() => read(bucket, target))
    }
  })

  test('a chunk never opens as a PHI field, nor under another key ring', async () => {
    const { objects, bucket, row } = await stage(text(100))
    const other = createDocumentCipher({ keyRing: { current: 'k1', keys: { k1: randomBytes(32).toString('base64') } } })
    await refused(async () => new Response(await documentContent(bucket, other, row)).arrayBuffer())
    const phi = createPhiCipher({ keyRing, blindIndexKey: randomBytes(32).toString('base64') })
    const sealed = [...objects.values()][0]!
    const asField = { v: 1, kid: 'k1', iv: Buffer.from(sealed.subarray(4, 16)).toString('base64'), ct: Buffer.from(sealed.subarray(16)).toString('base64') }
    await expect(phi.decrypt(asField, { clinicId: row.clinicId, recordId: row.id, field: 'name' })).rejects.toBeInstanceOf(PhiDecryptError)
  })
})

describe('what is refused is not kept', () => {
  test('a wrong type, a name that contradicts the bytes, an over-limit file: a problem each, nothing in the bucket', async () => {
    const { objects, bucket } = memoryBucket()
    const pdf = new Uint8Array(Buffer.from('%PDF-1.4\n%%EOF\n'))
    const upload = await receiveUpload(
      uploadRequest([
        { name: 'fine.pdf', bytes: pdf },
        { name: 'scan.png', bytes: pdf },
        { name: 'run.pdf', bytes: new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0, ...new Array(64).fill(0)]) },
        { name: 'big.txt', bytes: text(1024 * 1024 + 1) },
      ]),
      { bucket, cipher, clinicId: randomUUID(), referralId: randomUUID(), limits: { fileBytes: 1024 * 1024, referralBytes: 5 * 1024 * 1024 } },
    )
    expect(upload.staged).toEqual([])
    expect(upload.problems).toEqual([
      expect.stringContaining('“scan.png” is a PDF file, but its name ends in .png'),
      expect.stringContaining('“run.pdf” is not a PDF, JPEG, PNG, TIFF or plain text file'),
      expect.stringContaining('“big.txt” is larger than 1 MB'),
    ])
    expect(objects.size).toBe(0)
  })

  test('text that turns out to be binary after its first chunk is refused, and what was written of it is deleted', async () => {
    const { objects, bucket } = memoryBucket()
    const bytes = new Uint8Array([...text(2 * CHUNK_BYTES), 0, 1, 2, 0xff, 0xfe])
    const upload = await receiveUpload(uploadRequest([{ name: 'notes.txt', bytes }]), {
      bucket,
      cipher,
      clinicId: randomUUID(),
      referralId: randomUUID(),
      limits,
    })
    expect(upload.problems).toEqual([expect.stringContaining('is not a PDF, JPEG, PNG, TIFF or plain text file')])
    expect(objects.size).toBe(0)
  })
})
