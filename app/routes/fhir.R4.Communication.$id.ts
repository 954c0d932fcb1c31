/** GET /fhir/R4/Communication/:id: one question or reply, read by opening its referral as the page does (audited). */
import type { LoaderFunctionArgs } from '@remix-run/cloudflare'
import { readCommunication } from '~/fhir/communications.server'
import { fhirRoute, readOnly, requireFhirCaller, requireReadParams } from '~/fhir/handler.server'

/** PHI: the message's text (tests/e2e/phi-coverage.spec.ts visits every such route). */
export const handle = { phi: true }

export const loader = fhirRoute(async ({ request, params, context }: LoaderFunctionArgs) => {
  const { user, server } = requireFhirCaller(context, request)
  requireReadParams(request)
  return readCommunication(context, user, server, params.id)
})

export const action = fhirRoute(async () => readOnly())
