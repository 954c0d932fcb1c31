/**
 * GET /api/v1/referrals/:id/documents/:documentId: the file itself, streamed (recorded as
 * document.read, as a download). A document that fails its integrity check is a 500, never bytes.
 */
import type { LoaderFunctionArgs } from '@remix-run/cloudflare'
import { apiError } from '~/api/errors.server'
import { apiRoute, requireApiUser } from '~/api/handler.server'
import { PhiDecryptError } from '~/crypto/phi.server'
import { documentResponse } from '~/documents/document-response.server'
import { documentBytes, openReferralDocument } from '~/documents/referral-documents.server'

export const handle = { phi: true }

export const loader = apiRoute(async ({ params, context }: LoaderFunctionArgs) => {
  const user = requireApiUser(context)
  const { row, name } = await openReferralDocument(context, user, { referralId: params.id, documentId: params.documentId }, 'download')
  try {
    return documentResponse(await documentBytes(context, row), { name, contentType: row.contentType, sizeBytes: row.sizeBytes, download: true })
  } catch (error) {
    if (error instanceof PhiDecryptError) throw apiError(500, 'The document failed its integrity check', { requestId: context.requestId })
    throw error
  }
})
