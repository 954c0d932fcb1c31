/** GET /fhir/R4/Practitioner/:id (the referral's id): the referrer as the referral names them, no PHI (decision 057). */
import type { LoaderFunctionArgs } from '@remix-run/cloudflare'
import { fhirRoute, readOnly, requireFhirCaller, requireReadParams } from '~/fhir/handler.server'
import { readReferrer } from '~/fhir/referrals.server'

export const loader = fhirRoute(async ({ request, params, context }: LoaderFunctionArgs) => {
  const { user } = requireFhirCaller(context, request)
  requireReadParams(request)
  return readReferrer(context, user, 'Practitioner', params.id)
})

export const action = fhirRoute(async () => readOnly())
