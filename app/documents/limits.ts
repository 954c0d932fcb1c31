/**
 * What may be attached to a referral, and how much (browser-safe: the upload field shows the
 * same limits the server enforces). Types are recognised from the bytes on the server.
 */
import type { ClinicSettings } from '~/db/schema'

export const MB = 1024 * 1024
/** The most anyone may attach: a clinic's admins may lower these, never raise them. */
export const MAX_FILE_BYTES = 10 * MB
export const MAX_REFERRAL_BYTES = 50 * MB
/** How many files one referral may carry (each is a row, a list entry and R2 objects). */
export const MAX_FILES_PER_REFERRAL = 50

export const DOCUMENT_TYPES = {
  'application/pdf': 'PDF',
  'image/jpeg': 'JPEG image',
  'image/png': 'PNG image',
  'image/tiff': 'TIFF image',
  'text/plain': 'Text',
} as const
export type DocumentType = keyof typeof DOCUMENT_TYPES
export const isDocumentType = (value: string): value is DocumentType => Object.hasOwn(DOCUMENT_TYPES, value)

/** Shown in the page (PDFs and the images a browser draws); TIFF and text are downloaded or shown as text. */
export const INLINE_TYPES: readonly DocumentType[] = ['application/pdf', 'image/jpeg', 'image/png', 'text/plain']

export type DocumentLimits = { fileBytes: number; referralBytes: number }

/** The clinic's limits: its own where lower than the maximum, else the maximum. */
export function documentLimits(settings: ClinicSettings | null | undefined): DocumentLimits {
  const lower = (own: number | undefined, max: number) => (Number.isInteger(own) && own! > 0 && own! < max ? own! : max)
  return {
    fileBytes: lower(settings?.documentLimits?.fileBytes, MAX_FILE_BYTES),
    referralBytes: lower(settings?.documentLimits?.referralBytes, MAX_REFERRAL_BYTES),
  }
}

export function formatBytes(bytes: number) {
  if (bytes >= MB) return `${(bytes / MB).toFixed(bytes % MB ? 1 : 0)} MB`
  if (bytes >= 1024) return `${Math.ceil(bytes / 1024)} KB`
  return `${bytes} bytes`
}

/**
 * The body policy of a route that takes documents (app/server/request-body.server.ts): read as a
 * stream, at most the largest referral plus its form. A bigger body is refused outright (413);
 * within this, the upload field says which limit a file broke.
 */
export const DOCUMENT_UPLOAD_BODY = { maxBytes: MAX_REFERRAL_BYTES + MB, streamed: true } as const

/** The form field that carries files, on every form that takes them. */
export const DOCUMENTS_FIELD = 'documents'
