/**
 * The New inbound referral form sent by the page's script (XMLHttpRequest, for per-file
 * progress): the same submitInboundReferral as the page's action, answered in JSON the page can
 * show (the form's result, or where to go). Without JavaScript the form posts to
 * /referrals/inbound instead.
 */
import type { ActionFunctionArgs } from '@remix-run/cloudflare'
import { requireCurrentClinic, requirePermission, requireUser } from '~/auth/guards.server'
import { DOCUMENT_UPLOAD_BODY } from '~/documents/limits'
import { enteredUrl, submitInboundReferral } from '~/referrals/inbound.server'

export const handle = { requestBody: DOCUMENT_UPLOAD_BODY }

export async function action({ request, context }: ActionFunctionArgs) {
  if (!context.user) return Response.json({ error: 'Your session ended: sign in again, then enter the referral.' }, { status: 401 })
  const user = requireUser(request, context)
  requirePermission(user, 'create:referral:any')
  const outcome = await submitInboundReferral(context, request, user, requireCurrentClinic(context))
  switch (outcome.kind) {
    case 'bad-envelope':
    case 'stale':
      return Response.json({ error: 'The form is out of date: reload the page.' }, { status: outcome.kind === 'stale' ? 409 : 400 })
    case 'invalid':
      return Response.json({ result: outcome.result }, { status: 400 })
    case 'created':
      return Response.json({ redirectTo: enteredUrl(outcome.referenceNumber) })
  }
}
