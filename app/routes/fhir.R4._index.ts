/**
 * POST /fhir/R4: a transaction Bundle (Patient + ServiceRequest + QuestionnaireResponse) is one
 * new referral, made by the intake form's own code (app/fhir/writes.server.ts). Nothing else is
 * served at the base: a system-wide search or a batch is refused, not ignored.
 */
import type { ActionFunctionArgs } from '@remix-run/cloudflare'
import { fhirRoute, readFhirBody, requireFhirCaller } from '~/fhir/handler.server'
import { fhirError } from '~/fhir/outcome.server'
import { TRANSACTION_BODY } from '~/fhir/transaction-documents'
import { submitTransaction } from '~/fhir/writes.server'

/** PHI: the Bundle is a patient's referral (tests/e2e/phi-coverage.spec.ts lists the route); its documents make it larger than a form (decision 062). */
export const handle = { phi: true, requestBody: TRANSACTION_BODY }

export const loader = () =>
  fhirError(405, 'The base takes a transaction Bundle (POST); GET /fhir/R4/metadata lists what this server has', { headers: { Allow: 'POST' } })

export const action = fhirRoute(async ({ request, context }: ActionFunctionArgs) => {
  if (request.method !== 'POST') throw fhirError(405, undefined, { headers: { Allow: 'POST' } })
  const { user, server } = requireFhirCaller(context, request)
  return submitTransaction(context, user, server, await readFhirBody(request))
})
