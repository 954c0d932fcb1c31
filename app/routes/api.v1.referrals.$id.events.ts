/**
 * GET /api/v1/referrals/:id/events: the history (notes decrypted; a referrer sees only what
 * is visible to them, by RLS). POST: a note, a question to the referrer, or a reply; the body
 * is encrypted field by field exactly as on the page.
 */
import type { ActionFunctionArgs, LoaderFunctionArgs } from '@remix-run/cloudflare'
import { apiError } from '~/api/errors.server'
import { apiRoute, ok, openApiReferral, readJson, requireApiUser } from '~/api/handler.server'
import { CreateEventBody } from '~/api/schemas'
import { NO_REFERRER_TO_ASK, workOnReferral } from '~/referrals/work.server'

/** PHI: notes and messages, decrypted (tests/e2e/phi-coverage.spec.ts visits every such route). */
export const handle = { phi: true }

export const loader = apiRoute(async ({ params, context }: LoaderFunctionArgs) => {
  // Opening the referral is what the page does (and audits) to show its history.
  const opened = await openApiReferral(context, params.id)
  const events = opened.events.map((e) => ({
    id: e.id,
    type: e.type,
    createdAt: e.createdAt,
    actorId: e.actor?.id ?? null,
    visibleToReferrer: e.visibleToReferrer,
    data: e.data ?? null,
    body: e.body,
  }))
  return ok(events, { requestId: context.requestId })
})

export const action = apiRoute(async ({ request, params, context }: ActionFunctionArgs) => {
  if (request.method !== 'POST') throw apiError(405, undefined, null, { Allow: 'GET, POST' })
  const user = requireApiUser(context)
  const body = await readJson(request, CreateEventBody)
  const done = await workOnReferral(context, user, user.clinicId, params.id, { intent: body.type, body: body.body })
  if (done.outcome === 'not-found') throw apiError(404)
  if (done.outcome === 'no-referrer') throw apiError(409, NO_REFERRER_TO_ASK)
  return ok({ id: done.eventId, type: body.type }, { status: 201, requestId: context.requestId })
})
