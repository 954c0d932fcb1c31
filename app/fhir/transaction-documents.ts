/**
 * The documents of a transaction Bundle (docs/decisions/062-documents-in-a-fhir-transaction.md):
 * DocumentReference entries, each with its bytes inline (`attachment.data`) or in a Binary entry
 * of the same Bundle (`attachment.url` = the Binary's fullUrl). Pure: transaction-documents.test.ts.
 *
 * - Everything that can be judged without the bytes is judged here, before any is decoded: the
 *   shape, the references, the base64 alphabet, the declared type, the sizes (from the base64's
 *   length) against the clinic's limits, the number of files. The bytes' own type is file-type's
 *   to say, when they are staged (app/documents/upload.server.ts), as for the form.
 * - Diagnostics name places, never a value sent (a title or the bytes could be PHI).
 */
import { DOCUMENT_TYPES, EXTENSIONS, formatBytes, isDocumentType, MAX_FILES_PER_REFERRAL, MB, type DocumentLimits, type DocumentType } from '~/documents/limits'
import type { Issue } from './outcome.server'

/**
 * The body policy of POST /fhir/R4 (app/server/request-body.server.ts): read whole, since the
 * Bundle is one JSON document. It takes one document of the largest size a file may be (10 MB
 * is 13.4 MB of base64) with the rest of the Bundle around it; the documents of one Bundle
 * come to at most about 12 MB in all (3/4 of the body). More is 413 before anything is read;
 * a referral's further documents are attached on its page or by /api/v1/referrals/{id}/documents.
 */
export const TRANSACTION_BODY = { maxBytes: 16 * MB } as const
/** The largest document a Bundle at the body limit can hold, as its base64 leaves room for. */
export const MAX_BUNDLE_DOCUMENT_BYTES = Math.floor((TRANSACTION_BODY.maxBytes * 3) / 4)

type Json = Record<string, unknown>
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v)

export const DOCUMENT_KINDS = ['DocumentReference', 'Binary'] as const
/** An entry this module reads (readTransaction leaves them to it). */
export const isDocumentEntry = (entry: unknown) =>
  isObject(entry) && isObject(entry.resource) && (DOCUMENT_KINDS as readonly unknown[]).includes(entry.resource.resourceType)

export type TransactionDocument = {
  /** The DocumentReference's entry, and the Binary's when the bytes are there. */
  entry: number
  binaryEntry?: number
  /** attachment.title, else `document.<ending>` (the name ending must fit the type, as on the form). */
  name: string
  contentType: DocumentType
  sizeBytes: number
  /** The base64, whitespace removed: decoded only when the file's turn comes. */
  data: string
  /** Where the bytes are, for a refusal that only the bytes can give. */
  expression: string
}

export type DocumentsRead = { documents: TransactionDocument[] } | { status: 400 | 422; problems: Issue[] }

const issue = (expression: string, diagnostics: string, code = 'invalid'): Issue => ({
  expression: [expression],
  diagnostics: `${expression}: ${diagnostics}`,
  code,
})

const NOT_BASE64 = /[^A-Za-z0-9+/]/
const MAX_TITLE = 200
const ATTACHMENT_KEYS = new Set(['contentType', 'data', 'url', 'title', 'size'])
const REFERENCE_KEYS = new Set(['resourceType', 'id', 'status', 'docStatus', 'subject', 'context', 'content'])

/**
 * The size base64 stands for, from its length alone; null when it is not base64. A search for
 * one wrong character rather than a pattern of groups: a grouped pattern recurses per group and
 * runs out of stack on a 10 MB document.
 */
export function base64Size(data: string): number | null {
  if (data.length % 4) return null
  const padding = data.endsWith('==') ? 2 : data.endsWith('=') ? 1 : 0
  if (NOT_BASE64.test(data.slice(0, data.length - padding))) return null
  return (data.length / 4) * 3 - padding
}

const refersTo = (ref: unknown, fullUrl: string | undefined) =>
  fullUrl !== undefined && isObject(ref) && typeof ref.reference === 'string' && ref.reference === fullUrl

/**
 * The Bundle's documents, or why they cannot be taken: 400 for what is not a document this
 * server reads, 422 for one it reads but may not keep (type, size, number).
 */
export function readTransactionDocuments(body: unknown, fullUrls: { Patient?: string; ServiceRequest?: string }, limits: DocumentLimits): DocumentsRead {
  const entries = isObject(body) && Array.isArray(body.entry) ? (body.entry as unknown[]) : []
  const shape: Issue[] = []
  const rules: Issue[] = []
  const binaries = new Map<string, number>()
  entries.forEach((entry, i) => {
    if (!isDocumentEntry(entry)) return
    const { resource, request, fullUrl } = entry as { resource: Json; request?: unknown; fullUrl?: unknown }
    const kind = resource.resourceType as string
    const at = `Bundle.entry[${i}]`
    if (!isObject(request) || request.method !== 'POST' || request.url !== kind || Object.keys(request).length !== 2)
      shape.push(issue(`${at}.request`, `each entry is a create: method POST, url ${kind}`, 'not-supported'))
    if (resource.id !== undefined) shape.push(issue(`${at}.resource.id`, 'the server gives the ids: leave id out'))
    if (kind !== 'Binary') return
    if (typeof fullUrl !== 'string' || !fullUrl)
      return void shape.push(issue(`${at}.fullUrl`, 'a Binary needs the fullUrl its DocumentReference names', 'required'))
    if (binaries.has(fullUrl)) return void shape.push(issue(`${at}.fullUrl`, 'two entries have this fullUrl'))
    binaries.set(fullUrl, i)
  })

  const documents: TransactionDocument[] = []
  const used = new Set<number>()
  entries.forEach((entry, i) => {
    if (!isDocumentEntry(entry) || (entry as { resource: Json }).resource.resourceType !== 'DocumentReference') return
    const r = (entry as { resource: Json }).resource
    const at = `Bundle.entry[${i}].resource`
    for (const key of Object.keys(r)) if (!REFERENCE_KEYS.has(key)) shape.push(issue(`${at}.${key}`, 'not kept by this server: leave it out', 'not-supported'))
    if (r.status !== 'current') shape.push(issue(`${at}.status`, 'a document sent with a referral is current', 'value'))
    if (r.docStatus !== undefined && r.docStatus !== 'final') shape.push(issue(`${at}.docStatus`, 'only a final document is taken', 'value'))
    if (!refersTo(r.subject, fullUrls.Patient)) shape.push(issue(`${at}.subject`, "must refer to the Patient entry's fullUrl"))
    const context = r.context
    if (
      !isObject(context) ||
      Object.keys(context).length !== 1 ||
      !Array.isArray(context.related) ||
      context.related.length !== 1 ||
      !refersTo(context.related[0], fullUrls.ServiceRequest)
    )
      shape.push(issue(`${at}.context.related`, "must be one reference, to the ServiceRequest entry's fullUrl"))
    if (
      !Array.isArray(r.content) ||
      r.content.length !== 1 ||
      !isObject(r.content[0]) ||
      Object.keys(r.content[0]).join() !== 'attachment' ||
      !isObject(r.content[0].attachment)
    )
      return void shape.push(issue(`${at}.content`, 'give exactly one content, with an attachment only'))
    const attachment = r.content[0].attachment
    const where = `${at}.content[0].attachment`
    for (const key of Object.keys(attachment))
      if (!ATTACHMENT_KEYS.has(key)) shape.push(issue(`${where}.${key}`, 'not kept by this server: leave it out', 'not-supported'))

    // The bytes: inline, or the Binary entry the url names.
    let data: unknown
    let declared: unknown = attachment.contentType
    let dataAt = `${where}.data`
    let binaryEntry: number | undefined
    if (attachment.data !== undefined && attachment.url !== undefined) return void shape.push(issue(where, 'give data or url, not both'))
    if (attachment.url !== undefined) {
      binaryEntry = typeof attachment.url === 'string' ? binaries.get(attachment.url) : undefined
      if (binaryEntry === undefined)
        return void shape.push(issue(`${where}.url`, 'must be the fullUrl of a Binary entry in this Bundle: documents are taken from the Bundle only'))
      if (used.has(binaryEntry)) return void shape.push(issue(`${where}.url`, 'another DocumentReference names this Binary'))
      used.add(binaryEntry)
      const binary = (entries[binaryEntry] as { resource: Json }).resource
      const binaryAt = `Bundle.entry[${binaryEntry}].resource`
      for (const key of Object.keys(binary))
        if (!['resourceType', 'id', 'contentType', 'data'].includes(key))
          shape.push(issue(`${binaryAt}.${key}`, 'not kept by this server: leave it out', 'not-supported'))
      if (declared !== undefined && declared !== binary.contentType)
        shape.push(issue(`${where}.contentType`, "differs from the Binary's contentType", 'invariant'))
      declared = binary.contentType
      data = binary.data
      dataAt = `${binaryAt}.data`
    } else data = attachment.data
    if (typeof data !== 'string') return void shape.push(issue(dataAt, 'the document itself (base64) is missing', 'required'))
    const typeAt = binaryEntry === undefined ? `${where}.contentType` : `Bundle.entry[${binaryEntry}].resource.contentType`
    if (typeof declared !== 'string' || !declared) return void shape.push(issue(typeAt, 'say the type of the document', 'required'))
    const clean = /\s/.test(data) ? data.replace(/\s+/g, '') : data
    const size = base64Size(clean)
    if (size === null) return void shape.push(issue(dataAt, 'not valid base64'))
    if (size === 0) return void shape.push(issue(dataAt, 'the document is empty', 'required'))
    // The MIME type without parameters (a text's charset): the type list has none.
    const type = declared.split(';')[0]!.trim().toLowerCase()
    if (!isDocumentType(type)) return void rules.push(issue(typeAt, 'not a type this clinic takes: PDF, JPEG, PNG, TIFF or plain text', 'not-supported'))
    if (attachment.size !== undefined && attachment.size !== size) shape.push(issue(`${where}.size`, 'differs from the size of the data sent', 'invariant'))
    if (size > limits.fileBytes) rules.push(issue(dataAt, `larger than ${formatBytes(limits.fileBytes)}, the most one document may be`, 'too-long'))

    const title = attachment.title
    if (title !== undefined && (typeof title !== 'string' || !title.trim())) return void shape.push(issue(`${where}.title`, 'a title is text'))
    const name = typeof title === 'string' ? title.split(/[\\/]/).pop()!.trim().slice(0, MAX_TITLE) || 'document' : `document.${EXTENSIONS[type][0]}`
    const ending = /\.([^.]{1,10})$/.exec(name)?.[1]?.toLowerCase()
    if (ending && !EXTENSIONS[type].includes(ending))
      rules.push(issue(`${where}.title`, `its name ending does not fit a ${DOCUMENT_TYPES[type]} file: end it in .${EXTENSIONS[type][0]}`, 'invariant'))
    documents.push({ entry: i, binaryEntry, name, contentType: type, sizeBytes: size, data: clean, expression: dataAt })
  })
  for (const [, i] of binaries) if (!used.has(i)) shape.push(issue(`Bundle.entry[${i}]`, 'no DocumentReference names this Binary', 'not-supported'))
  if (shape.length) return { status: 400, problems: shape }

  if (documents.length > MAX_FILES_PER_REFERRAL)
    rules.push(issue('Bundle.entry', `at most ${MAX_FILES_PER_REFERRAL} documents come with one referral`, 'too-long'))
  const total = documents.reduce((n, d) => n + d.sizeBytes, 0)
  if (total > limits.referralBytes)
    rules.push(
      issue('Bundle.entry', `together the documents are larger than ${formatBytes(limits.referralBytes)}, the most one referral may carry`, 'too-long'),
    )
  if (rules.length) return { status: 422, problems: rules }
  return { documents }
}

/**
 * The transaction-response's entries in the request's order: the documents' where they were,
 * the Patient, ServiceRequest and QuestionnaireResponse (in their order) in the places left.
 */
export function inRequestOrder<E>(count: number, documents: Map<number, E>, others: E[]): E[] {
  const rest = [...others]
  return Array.from({ length: count }, (_, i) => documents.get(i) ?? rest.shift()!)
}
