/** GET /fhir/R4/QuestionnaireResponse/:id (the referral's id): opened, decrypted and audited as the referral page is (openReferral). */
import type { LoaderFunctionArgs } from '@remix-run/cloudflare'
import { fhirRoute, readOnly, requireFhirCaller, requireReadParams } from '~/fhir/handler.server'
import { readReferralResource } from '~/fhir/referrals.server'

/** PHI: the referral's form data, decrypted (tests/e2e/phi-coverage.spec.ts visits every such route). */
export const handle = { phi: true }

export const loader = fhirRoute(async ({ request, params, context }: LoaderFunctionArgs) => {
  const { user, server } = requireFhirCaller(context, request)
  requireReadParams(request)
  return readReferralResource(context, user, server, 'QuestionnaireResponse', params.id)
})

export const action = fhirRoute(async () => readOnly())
