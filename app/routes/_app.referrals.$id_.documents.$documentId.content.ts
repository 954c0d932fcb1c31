/**
 * A document's bytes, streamed from R2 and opened chunk by chunk, shown inline (the document
 * page frames it) or, with ?download=1, as a download. Recorded as document.read each time.
 * The name goes only into Content-Disposition, never into the URL or the logs.
 */
import type { LoaderFunctionArgs } from '@remix-run/cloudflare'
import { requireUser } from '~/auth/guards.server'
import { PhiDecryptError } from '~/crypto/phi.server'
import { documentResponse } from '~/documents/document-response.server'
import { documentBytes, openReferralDocument } from '~/documents/referral-documents.server'

export const handle = { phi: true }

export async function loader({ request, params, context }: LoaderFunctionArgs) {
  const user = requireUser(request, context)
  const download = new URL(request.url).searchParams.get('download') === '1'
  const { row, name } = await openReferralDocument(context, user, { referralId: params.id, documentId: params.documentId }, download ? 'download' : 'view')
  try {
    return documentResponse(await documentBytes(context, row), { name, contentType: row.contentType, sizeBytes: row.sizeBytes, download })
  } catch (error) {
    if (error instanceof PhiDecryptError) throw new Response('This document failed its integrity check and cannot be shown.', { status: 500 })
    throw error
  }
}
