/**
 * GET /api/v1/referrals/:id: one referral, PHI decrypted, audited (openReferral, as the page).
 * PATCH: a status move or an assignment, against the `version` the client read (409 if it
 * changed). Another clinic's id, or a referrer's look at someone else's, is a plain 404.
 */
import type { ActionFunctionArgs, LoaderFunctionArgs } from '@remix-run/cloudflare'
import { apiError } from '~/api/errors.server'
import { apiRoute, ok, openApiReferral, readJson, requireApiUser } from '~/api/handler.server'
import { UpdateReferralBody } from '~/api/schemas'
import { referralFacts, sentByIntegration } from '~/referrals/open-referral.server'
import { workOnReferral, type Work } from '~/referrals/work.server'
import { reasonCodesFor } from '~/referrals/reason-codes'

/** PHI: the referral's form data, decrypted (tests/e2e/phi-coverage.spec.ts visits every such route). */
export const handle = { phi: true }

export const loader = apiRoute(async ({ params, context }: LoaderFunctionArgs) => {
  const { row, values, staff } = await openApiReferral(context, params.id)
  return ok(
    {
      ...referralFacts(row),
      submittedBy: row.submittedBy,
      submittedByIntegration: sentByIntegration(row),
      possibleDuplicate: staff && !!row.possibleDuplicateOf,
      data: values,
    },
    { requestId: context.requestId },
  )
})

export const action = apiRoute(async ({ request, params, context }: ActionFunctionArgs) => {
  if (request.method !== 'PATCH') throw apiError(405, undefined, null, { Allow: 'GET, PATCH' })
  const user = requireApiUser(context)
  const body = await readJson(request, UpdateReferralBody)
  const work: Work =
    body.status !== undefined
      ? {
          intent: 'status',
          to: body.status,
          version: body.version,
          reason: body.reason,
          reasonCode: body.reasonCode,
          scheduledFor: body.scheduledFor,
          scheduledTime: body.scheduledTime,
        }
      : { intent: 'assign', assignee: body.assignedTo ?? null, version: body.version }
  const { outcome, id } = await workOnReferral(context, user, user.clinicId, params.id, work)
  if (outcome === 'not-found') throw apiError(404)
  if (outcome === 'conflict') throw apiError(409, 'The referral changed since you read it: GET it again, then retry with its version')
  if (outcome === 'bad-move')
    throw apiError(400, 'That status change is not allowed from the current status', { fields: { status: ['Not allowed from the current status'] } })
  if (outcome === 'needs-reason')
    throw apiError(400, 'Declining or cancelling needs a reason the referrer can read', { fields: { reason: ['Required for this status'] } })
  if (outcome === 'bad-reason-code')
    throw apiError(400, 'That reasonCode is not one for this status', {
      fields: { reasonCode: [`One of: ${Object.keys(reasonCodesFor(body.status!) ?? {}).join(', ') || 'none (this status takes no reasonCode)'}`] },
    })
  if (outcome === 'needs-date')
    throw apiError(400, 'Scheduling needs the appointment date', { fields: { scheduledFor: ['Required for this status (YYYY-MM-DD)'] } })
  if (outcome === 'bad-assignee')
    throw apiError(400, 'Choose an active member of the clinic staff', { fields: { assignedTo: ['Not an active staff member of this clinic'] } })
  return ok({ id, updated: true }, { requestId: context.requestId })
})
