/**
 * The response that carries a document's bytes. Its own CSP: nothing may run or load in it,
 * and only IntakePilot's own pages may frame it (the document page shows PDFs and text in a
 * frame; every other response says frame-ancestors 'none').
 */
import { INLINE_TYPES, isDocumentType } from './limits'

export const DOCUMENT_CSP = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; frame-ancestors 'self'; base-uri 'none'; form-action 'none'"

export function documentResponse(body: ReadableStream<Uint8Array>, doc: { name: string; contentType: string; sizeBytes: number; download: boolean }) {
  const inline = !doc.download && isDocumentType(doc.contentType) && INLINE_TYPES.includes(doc.contentType)
  // RFC 6266: an ASCII fallback, and the real name percent-encoded as UTF-8.
  const ascii = doc.name.replace(/[^\x20-\x7e]|["\\]/g, '_')
  const disposition = `${inline ? 'inline' : 'attachment'}; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(doc.name)}`
  return new Response(body, {
    headers: {
      'Content-Type': doc.contentType === 'text/plain' ? 'text/plain; charset=utf-8' : doc.contentType,
      'Content-Length': String(doc.sizeBytes),
      'Content-Disposition': disposition,
      'Content-Security-Policy': DOCUMENT_CSP,
      'Cross-Origin-Resource-Policy': 'same-origin',
      'Cache-Control': 'private, no-store',
    },
  })
}
