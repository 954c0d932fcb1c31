/**
 * GET /api/v1/referrals: the queue (same filters, keyset cursor and audit as /queue; a
 * referrer sees only their own, by RLS and by filter). POST: a new referral, validated against
 * the form version the client filled in, with a required Idempotency-Key (a retry returns the
 * first referral, 200 instead of 201).
 */
import type { ActionFunctionArgs, LoaderFunctionArgs } from '@remix-run/cloudflare'
import { z } from 'zod'
import { apiError, validationError } from '~/api/errors.server'
import { apiRoute, ok, readJson, requireApiUser } from '~/api/handler.server'
import { CreateReferralBody, ReferralListQuery } from '~/api/schemas'
import { requirePhiPermission } from '~/auth/guards.server'
import { hasPermission } from '~/auth/permissions'
import { intakeSchema } from '~/intake/form-schema'
import { intakeFormVersion } from '~/intake/intake-forms.server'
import type { FormValues } from '~/referrals/form-data.server'
import { PAGE_SIZE, queuePage, sentBy } from '~/referrals/queue.server'
import { showReferralList } from '~/referrals/referral-list.server'
import { createReferral } from '~/referrals/create-referral.server'
import { sentByIntegration } from '~/referrals/open-referral.server'
import { clinicTimeZone } from '~/utils/clinic-time'

/** PHI: the list carries patient names (tests/e2e/phi-coverage.spec.ts visits every such route). */
export const handle = { phi: true }

export const loader = apiRoute(async ({ request, context }: LoaderFunctionArgs) => {
  const user = requireApiUser(context)
  const staff = hasPermission(user, 'read:referral:any')
  if (!staff) await requirePhiPermission(context, user, 'read:referral:own', { action: 'referral.list', details: { api: true } })
  // Unlike the page (which falls back to the default view), a program gets told what is wrong.
  const parsed = ReferralListQuery.safeParse(Object.fromEntries(new URL(request.url).searchParams))
  if (!parsed.success) throw validationError(parsed.error.issues)
  const { items, next } = await context.db.tenant(async (tx) => {
    const { rows, next } = await queuePage(tx, parsed.data, user.id, clinicTimeZone(context.clinic?.settings), staff ? undefined : sentBy(user.id))
    // The list carries patient names: one audit row names every referral returned (as /queue).
    const items = await showReferralList(tx, context, { rows, shows: 'name-and-dob', kind: { api: true } }, (row, patient) => ({
      id: row.id,
      referenceNumber: row.referenceNumber,
      status: row.status,
      priority: row.priority,
      formVersion: row.formVersion,
      receivedAt: row.receivedAt.toISOString(),
      assignedTo: row.assignedTo,
      submittedBy: row.submittedBy,
      submittedByIntegration: sentByIntegration(row),
      possibleDuplicate: staff && !!row.possibleDuplicateOf,
      patient,
    }))
    return { items, next }
  })
  return ok(items, { pagination: { next, limit: PAGE_SIZE }, requestId: context.requestId })
})

/** JSON booleans for checkboxes become what the form schema expects from an HTML form. */
function asFormValues(data: Record<string, string | number | boolean | null>) {
  const out: Record<string, string | number> = {}
  for (const [key, value] of Object.entries(data)) {
    if (value === true) out[key] = 'on'
    else if (value !== false && value !== null) out[key] = value
  }
  return out
}

export const action = apiRoute(async ({ request, context }: ActionFunctionArgs) => {
  if (request.method !== 'POST') throw apiError(405)
  const user = requireApiUser(context)
  await requirePhiPermission(context, user, 'create:referral:own', { action: 'referral.create', details: { api: true } })
  const key = z.uuid().safeParse(request.headers.get('Idempotency-Key'))
  if (!key.success) throw apiError(400, 'An Idempotency-Key header (a UUID) is required', { fields: { 'Idempotency-Key': ['Send a UUID'] } })
  const body = await readJson(request, CreateReferralBody)
  // The clinic came with the user (request_start); the API refuses anyone without one.
  const clinic = context.clinic
  if (!clinic) throw apiError(403)

  const outcome = await context.db.tenant(async (tx) => {
    const form = await intakeFormVersion(tx, user.clinicId, body.formVersion)
    if (!form) return { stale: true as const }
    const values = intakeSchema(form.definition).safeParse(asFormValues(body.data))
    if (!values.success) return { invalid: values.error.issues }
    const created = await createReferral(tx, context.phi, context.audit, {
      clinic,
      submittedBy: user.id,
      form,
      values: values.data as FormValues,
      idempotencyKey: key.data,
    })
    return { created }
  })
  if ('stale' in outcome) throw apiError(409, 'That form version does not exist for this clinic; fetch /api/v1/intake-form', { formVersion: body.formVersion })
  if ('invalid' in outcome) throw validationError(outcome.invalid ?? [], 'data')
  const { id, referenceNumber, created } = outcome.created
  return ok(
    { id, referenceNumber },
    {
      status: created ? 201 : 200,
      headers: { Location: `/api/v1/referrals/${id}` },
      requestId: context.requestId,
    },
  )
})
