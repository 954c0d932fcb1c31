/**
 * GET /fhir/R4/ServiceRequest/:id: the referral as an order, with its reason for referral:
 * opened, decrypted and audited as the referral page is (openReferral).
 */
import type { LoaderFunctionArgs } from '@remix-run/cloudflare'
import { fhirRoute, readOnly, requireFhirCaller, requireReadParams } from '~/fhir/handler.server'
import { readReferralResource } from '~/fhir/referrals.server'

/** PHI: the reason for referral, decrypted (tests/e2e/phi-coverage.spec.ts visits every such route). */
export const handle = { phi: true }

export const loader = fhirRoute(async ({ request, params, context }: LoaderFunctionArgs) => {
  const { user, server } = requireFhirCaller(context, request)
  requireReadParams(request)
  return readReferralResource(context, user, server, 'ServiceRequest', params.id)
})

export const action = fhirRoute(async () => readOnly())
