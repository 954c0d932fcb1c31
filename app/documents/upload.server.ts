/**
 * Receiving attachments: a multipart body read as a stream, each file recognised from its
 * bytes, sealed chunk by chunk under the clinic's data key and written to R2 as it arrives, so
 * that a 10 MB upload needs a few chunks of memory, not 10 MB (docs/decisions/027-referral-documents.md).
 *
 * Nothing here touches the database: the body is read in full first, then the caller records
 * the staged documents (recordDocuments) in its transaction, or discards them. A file that
 * breaks a rule is not staged at all (what was written of it is deleted), and a problem with
 * any file means the caller keeps none of them: all or none.
 */
import { createHash } from 'node:crypto'
import { fileTypeFromBuffer } from 'file-type/core'
import type { DocumentCipher } from '~/crypto/phi.server'
import {
  DOCUMENT_TYPES,
  DOCUMENTS_FIELD,
  EXTENSIONS,
  formatBytes,
  isDocumentType,
  MAX_FILES_PER_REFERRAL,
  type DocumentLimits,
  type DocumentType,
} from './limits'
import { multipartBoundary, MultipartError, readMultipart } from './multipart.server'

/** What is sealed at a time: the unit of memory per file (plaintext plus one sealed copy). */
export const CHUNK_BYTES = 256 * 1024
/** What file-type needs to see to recognise every type we take. */
const SNIFF_BYTES = 4100
/** The text fields that come with the files (the intake form's values, a reply): as for any form. */
const MAX_FIELD_BYTES = 64 * 1024
const MAX_NAME_LENGTH = 200

export type DocumentBucket = Pick<R2Bucket, 'put' | 'get' | 'delete'>

export type StagedDocument = {
  id: string
  name: string
  contentType: DocumentType
  sizeBytes: number
  sha256: string
  chunkBytes: number
  chunkCount: number
}

export type Upload = {
  /** The form's other fields, for the caller's own parsing. */
  fields: FormData
  /** Sealed and in R2, not yet recorded. Empty when there are problems. */
  staged: StagedDocument[]
  /** One sentence per refused file, for the upload field's error. */
  problems: string[]
}

export type UploadTarget = { bucket: DocumentBucket; cipher: DocumentCipher; clinicId: string; referralId: string; limits: DocumentLimits }

/** Where a document's chunks live: ids only, never a name. */
export const chunkKey = (clinicId: string, referralId: string, documentId: string, index: number) =>
  `documents/${clinicId}/${referralId}/${documentId}/${index}`

/** Reads a multipart request body, staging its files. Throws MultipartError for a body that is not a form. */
export async function receiveUpload(request: Request, target: UploadTarget): Promise<Upload> {
  // A form without files may come urlencoded (a script, an older page): its fields, bounded as any form's.
  if (isUrlEncoded(request)) return { fields: await urlEncodedFields(request), staged: [], problems: [] }
  const boundary = multipartBoundary(request.headers.get('Content-Type'))
  if (!boundary || !request.body) throw new MultipartError('not a multipart form')
  const fields = new FormData()
  const staged: StagedDocument[] = []
  const problems: string[] = []
  let fieldBytes = 0
  let total = 0
  let files = 0
  try {
    for await (const part of readMultipart(request.body, boundary)) {
      if (part.filename === null) {
        const pieces: Uint8Array[] = []
        for await (const piece of part.body) {
          fieldBytes += piece.byteLength
          if (fieldBytes > MAX_FIELD_BYTES) throw new FormTooLarge(MAX_FIELD_BYTES)
          pieces.push(piece)
        }
        fields.append(part.name, new TextDecoder().decode(concat(pieces)))
        continue
      }
      if (part.name !== DOCUMENTS_FIELD) throw new MultipartError('unexpected file field')
      if (files >= MAX_FILES_PER_REFERRAL) {
        for await (const _ of part.body) files += 0 // read past it, keep nothing
        files++
        continue
      }
      const name = cleanName(part.filename)
      const outcome = await stageFile(part.body, target, name, {
        // A file input with nothing chosen still sends an empty part: it is no file.
        skipEmpty: part.filename === '',
        room: Math.min(target.limits.fileBytes, target.limits.referralBytes - total),
      })
      if (outcome === 'empty') continue
      files++
      if (typeof outcome === 'string') problems.push(outcome)
      else {
        staged.push(outcome)
        total += outcome.sizeBytes
      }
    }
  } catch (error) {
    await discardDocuments(target, staged)
    throw error
  }
  if (files > MAX_FILES_PER_REFERRAL) problems.push(`Attach at most ${MAX_FILES_PER_REFERRAL} files.`)
  if (problems.length) {
    await discardDocuments(target, staged)
    return { fields, staged: [], problems }
  }
  return { fields, staged, problems }
}

/** A file already in memory (an attachment of a FHIR Bundle, decoded when its turn comes), with the type its sender declared. */
export type HeldFile = { name: string; contentType: DocumentType; bytes: () => Uint8Array<ArrayBuffer> }

export type HeldOutcome = { staged: StagedDocument[] } | { refused: number; found: DocumentType | null }

/**
 * Files that came whole rather than in a form (decision 062), staged as the form's are: each
 * recognised from its bytes (a declared type that the bytes do not bear out is refused, as a
 * name ending is), then sealed chunk by chunk. One at a time, so that at most one file's bytes
 * are held; the first refusal stops it and deletes what was staged: all or none.
 */
export async function stageHeldFiles(target: UploadTarget, files: HeldFile[]): Promise<HeldOutcome> {
  const staged: StagedDocument[] = []
  let total = 0
  try {
    for (const [index, file] of files.entries()) {
      const bytes = file.bytes()
      const found = await recognise(bytes.slice(0, CHUNK_BYTES))
      if (found !== file.contentType) {
        await discardDocuments(target, staged)
        return { refused: index, found }
      }
      const outcome = await stageFile(pieces(bytes), target, cleanName(file.name), {
        skipEmpty: false,
        room: Math.min(target.limits.fileBytes, target.limits.referralBytes - total),
      })
      if (typeof outcome === 'string') {
        await discardDocuments(target, staged)
        return { refused: index, found: null }
      }
      staged.push(outcome)
      total += outcome.sizeBytes
    }
  } catch (error) {
    await discardDocuments(target, staged)
    throw error
  }
  return { staged }
}

async function* pieces(bytes: Uint8Array<ArrayBuffer>) {
  for (let at = 0; at < bytes.byteLength; at += CHUNK_BYTES) yield bytes.subarray(at, at + CHUNK_BYTES)
}

/** Deletes what was staged (nothing was recorded): after a refusal, a field error, a failed transaction. */
export async function discardDocuments(target: Pick<UploadTarget, 'bucket' | 'clinicId' | 'referralId'>, staged: Pick<StagedDocument, 'id' | 'chunkCount'>[]) {
  const keys = staged.flatMap((d) => Array.from({ length: d.chunkCount }, (_, i) => chunkKey(target.clinicId, target.referralId, d.id, i)))
  for (let i = 0; i < keys.length; i += 1000) await target.bucket.delete(keys.slice(i, i + 1000))
}

type StageOptions = { skipEmpty: boolean; room: number }

/**
 * One file: its type from its first bytes, then chunks sealed and written as they fill. The
 * chunk before the last is held back until more bytes come, so the last is known to be last.
 * Returns the staged document, 'empty', or the problem (having deleted what it wrote).
 */
async function stageFile(body: AsyncGenerator<Uint8Array<ArrayBuffer>>, target: UploadTarget, name: string, options: StageOptions) {
  const id = crypto.randomUUID()
  const hash = createHash('sha256')
  const text = new TextDecoder('utf-8', { fatal: true })
  let type: DocumentType | null = null
  let problem: string | null = null
  let size = 0
  let index = 0
  let pending: Uint8Array<ArrayBuffer> | null = null
  let filling: Uint8Array<ArrayBuffer>[] = []
  let filled = 0

  const write = async (chunk: Uint8Array<ArrayBuffer>, last: boolean) => {
    const binding = { clinicId: target.clinicId, referralId: target.referralId, documentId: id, index, last }
    await target.bucket.put(chunkKey(target.clinicId, target.referralId, id, index), await target.cipher.sealChunk(chunk, binding))
    index++
  }
  const take = async (chunk: Uint8Array<ArrayBuffer>) => {
    if (type === null) {
      type = await recognise(chunk)
      if (!type) return notAType(name)
      const ending = /\.([^.]{1,10})$/.exec(name)?.[1]?.toLowerCase()
      if (ending && !EXTENSIONS[type].includes(ending))
        return `“${name}” is a ${DOCUMENT_TYPES[type]} file, but its name ends in .${ending}: rename it to .${EXTENSIONS[type][0]}, or attach the right file.`
    }
    if (type === 'text/plain' && !isText(text, chunk, false)) return notAType(name)
    hash.update(chunk)
    if (pending) await write(pending, false)
    pending = chunk
    return null
  }

  for await (const piece of body) {
    if (problem) continue // read to the end of the part, keep nothing
    size += piece.byteLength
    if (size > options.room) {
      problem =
        options.room < target.limits.fileBytes
          ? tooMuch(target.limits)
          : `“${name}” is larger than ${formatBytes(target.limits.fileBytes)}, so it was not attached.`
      continue
    }
    filling.push(piece)
    filled += piece.byteLength
    // A full chunk is at least SNIFF_BYTES: the first one is enough to recognise the type.
    while (filled >= CHUNK_BYTES) {
      const all = concat(filling)
      const chunk = all.slice(0, CHUNK_BYTES)
      filling = [all.slice(CHUNK_BYTES)]
      filled -= chunk.byteLength
      problem = await take(chunk)
      if (problem) break
    }
  }
  if (!problem && filled > 0) problem = await take(concat(filling))
  if (!problem && size === 0) {
    if (options.skipEmpty) return 'empty'
    problem = `“${name}” is empty, so it was not attached.`
  }
  if (!problem && type === 'text/plain' && !isText(text, new Uint8Array(0), true)) problem = notAType(name)
  if (!problem && pending) await write(pending, true)
  if (problem) {
    await discardDocuments(target, [{ id, chunkCount: index }])
    return problem
  }
  return { id, name, contentType: type!, sizeBytes: size, sha256: hash.digest('hex'), chunkBytes: CHUNK_BYTES, chunkCount: index } satisfies StagedDocument
}

const notAType = (name: string) => `“${name}” is not a PDF, JPEG, PNG, TIFF or plain text file, so it was not attached.`
const tooMuch = (limits: DocumentLimits) => `Together the files are larger than ${formatBytes(limits.referralBytes)}, the most one referral may carry.`

/** The type from the bytes (file-type), or plain text: no control characters (UTF-8 is checked as it streams). Never from the name. */
async function recognise(head: Uint8Array<ArrayBuffer>): Promise<DocumentType | null> {
  const found = await fileTypeFromBuffer(head)
  if (found) return isDocumentType(found.mime) ? found.mime : null
  return CONTROL.test(new TextDecoder().decode(head.subarray(0, SNIFF_BYTES))) ? null : 'text/plain'
}

// Control characters but tab, line feed, form feed and carriage return.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000B\u000E-\u001F\u007F]/

/** UTF-8 (decoded as it streams across chunks, strictly) with no control characters. */
function isText(decoder: TextDecoder, bytes: Uint8Array, end: boolean) {
  try {
    return !CONTROL.test(decoder.decode(bytes, { stream: !end }))
  } catch {
    return false
  }
}

/** The name as the person's computer called it, without a browser's fake path, bounded. */
function cleanName(filename: string) {
  const base = filename.split(/[\\/]/).pop()!.trim()
  return (base || 'document').slice(0, MAX_NAME_LENGTH)
}

function concat(pieces: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(pieces.reduce((n, p) => n + p.byteLength, 0))
  let at = 0
  for (const p of pieces) {
    out.set(p, at)
    at += p.byteLength
  }
  return out
}

/**
 * The text fields of a multipart body, its files read past and dropped: for a form that cannot
 * be taken (its sender's session ended) but whose typing is worth keeping.
 */
export async function receiveFieldsOnly(request: Request): Promise<FormData> {
  if (isUrlEncoded(request)) return urlEncodedFields(request)
  const boundary = multipartBoundary(request.headers.get('Content-Type'))
  const fields = new FormData()
  if (!boundary || !request.body) return fields
  let fieldBytes = 0
  for await (const part of readMultipart(request.body, boundary)) {
    const pieces: Uint8Array[] = []
    for await (const piece of part.body) {
      if (part.filename !== null) continue
      fieldBytes += piece.byteLength
      if (fieldBytes > MAX_FIELD_BYTES) throw new FormTooLarge(MAX_FIELD_BYTES)
      pieces.push(piece)
    }
    if (part.filename === null) fields.append(part.name, new TextDecoder().decode(concat(pieces)))
  }
  return fields
}

const isUrlEncoded = (request: Request) => /^application\/x-www-form-urlencoded\s*(;|$)/i.test(request.headers.get('Content-Type') ?? '')

async function urlEncodedFields(request: Request): Promise<FormData> {
  const pieces: Uint8Array[] = []
  let size = 0
  const reader = request.body?.getReader()
  for (;;) {
    const read = await reader?.read()
    if (!read || read.done) break
    size += read.value.byteLength
    if (size > MAX_FIELD_BYTES) {
      void reader!.cancel().catch(() => {})
      throw new FormTooLarge(MAX_FIELD_BYTES)
    }
    pieces.push(read.value)
  }
  const fields = new FormData()
  for (const [name, value] of new URLSearchParams(new TextDecoder().decode(concat(pieces)))) {
    // The page's empty file input, as an urlencoded post of its form names it: no file, no field.
    if (name === DOCUMENTS_FIELD && value === '') continue
    fields.append(name, value)
  }
  return fields
}

/** A form without files larger than any form may be: the pipeline answers 413 (its BodyRefusal, by name). */
class FormTooLarge extends Error {
  override name = 'BodyRefusal'
  readonly reason = 'too-large'
  constructor(readonly maxBytes: number) {
    super('too-large')
  }
}
