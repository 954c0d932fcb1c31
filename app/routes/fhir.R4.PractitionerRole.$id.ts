/** GET /fhir/R4/PractitionerRole/:id (the referral's id): the referrer at their practice, what ServiceRequest.requester points at; no PHI (decision 057). */
import type { LoaderFunctionArgs } from '@remix-run/cloudflare'
import { fhirRoute, readOnly, requireFhirCaller, requireReadParams } from '~/fhir/handler.server'
import { readReferrer } from '~/fhir/referrals.server'

export const loader = fhirRoute(async ({ request, params, context }: LoaderFunctionArgs) => {
  const { user } = requireFhirCaller(context, request)
  requireReadParams(request)
  return readReferrer(context, user, 'PractitionerRole', params.id)
})

export const action = fhirRoute(async () => readOnly())
