/**
 * GET /api/v1/referrals/:id/documents: the referral's documents (names decrypted; recorded as
 * document.list). POST: multipart/form-data with one or more `documents` files, the same
 * limits and checks as the pages; staff attach, a referrer must also send `message` (a reply).
 */
import type { ActionFunctionArgs, LoaderFunctionArgs } from '@remix-run/cloudflare'
import { apiError } from '~/api/errors.server'
import { apiRoute, ok, requireApiUser } from '~/api/handler.server'
import { referralFullMessage } from '~/documents/attach.server'
import { documentLimits, DOCUMENT_UPLOAD_BODY } from '~/documents/limits'
import { attachToReferral, documentsOfReferral } from '~/documents/referral-documents.server'
import { replyInTransaction } from '~/referrals/work.server'

export const handle = { phi: true, requestBody: DOCUMENT_UPLOAD_BODY }

export const loader = apiRoute(async ({ params, context }: LoaderFunctionArgs) => {
  const documents = await documentsOfReferral(context, requireApiUser(context), params.id)
  return ok(
    documents.map(({ uploadedBy, ...d }) => ({ ...d, uploadedBy: uploadedBy?.id ?? null })),
    { requestId: context.requestId },
  )
})

export const action = apiRoute(async ({ request, params, context }: ActionFunctionArgs) => {
  if (request.method !== 'POST') throw apiError(405, undefined, null, { Allow: 'GET, POST' })
  const user = requireApiUser(context)
  if (!/^multipart\/form-data\s*;/i.test(request.headers.get('Content-Type') ?? '')) throw apiError(415, 'Send the files as multipart/form-data')
  const done = await attachToReferral(context, user, params.id, request, replyInTransaction(context, user, user.clinicId))
  switch (done.outcome) {
    case 'attached':
      return ok({ attached: done.count }, { status: 201, requestId: context.requestId })
    case 'problems':
      throw apiError(400, 'The files were not attached', { fields: { documents: done.problems } })
    case 'too-much':
      throw apiError(400, 'The files were not attached', { fields: { documents: [referralFullMessage(documentLimits(context.clinic?.settings))] } })
    case 'needs-message':
      throw apiError(400, 'A referrer attaches with a reply', { fields: { message: ['Write a reply to the clinic (at most 5000 characters).'] } })
  }
})
