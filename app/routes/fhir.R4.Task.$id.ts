/**
 * GET /fhir/R4/Task/:id (the referral's id): its workflow; no PHI in it (app/fhir/referrals.server.ts).
 * PUT (the whole Task) or PATCH (a JSON Patch): a status move by the clinic's staff, through the
 * page's workflow rules (app/fhir/writes.server.ts). Both answer with the Task and its ETag.
 */
import type { ActionFunctionArgs, LoaderFunctionArgs } from '@remix-run/cloudflare'
import { fhirRoute, requireFhirCaller, requireReadParams } from '~/fhir/handler.server'
import { fhirError, fhirResponse } from '~/fhir/outcome.server'
import { loadTask } from '~/fhir/referrals.server'
import { updateTask } from '~/fhir/writes.server'

export const loader = fhirRoute(async ({ request, params, context }: LoaderFunctionArgs) => {
  const { user, server } = requireFhirCaller(context, request)
  requireReadParams(request)
  const { resource, row } = await loadTask(context, user, server, params.id)
  return fhirResponse(resource, { headers: { ETag: `W/"${row.version}"` } })
})

export const action = fhirRoute(async ({ request, params, context }: ActionFunctionArgs) => {
  if (request.method !== 'PUT' && request.method !== 'PATCH') throw fhirError(405, undefined, { headers: { Allow: 'GET, HEAD, PUT, PATCH' } })
  const { user, server } = requireFhirCaller(context, request)
  requireReadParams(request)
  return updateTask(context, user, server, params.id, request)
})
