/** GET /fhir/R4/Task/:id (the referral's id): its workflow; no PHI in it (app/fhir/referrals.server.ts). */
import type { LoaderFunctionArgs } from '@remix-run/cloudflare'
import { fhirRoute, readOnly, requireFhirCaller, requireReadParams } from '~/fhir/handler.server'
import { readTask } from '~/fhir/referrals.server'

export const loader = fhirRoute(async ({ request, params, context }: LoaderFunctionArgs) => {
  const { user, server } = requireFhirCaller(context, request)
  requireReadParams(request)
  return readTask(context, user, server, params.id)
})

export const action = fhirRoute(async () => readOnly())
