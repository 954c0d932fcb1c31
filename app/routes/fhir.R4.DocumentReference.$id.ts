/** GET /fhir/R4/DocumentReference/:documentId: one of a referral's documents, read as the document page reads it (decision 057). */
import type { LoaderFunctionArgs } from '@remix-run/cloudflare'
import { readDocumentReference } from '~/fhir/documents.server'
import { fhirRoute, readOnly, requireFhirCaller, requireReadParams } from '~/fhir/handler.server'

/** PHI: the document's name, decrypted (tests/e2e/phi-coverage.spec.ts visits every such route). */
export const handle = { phi: true }

export const loader = fhirRoute(async ({ request, params, context }: LoaderFunctionArgs) => {
  const { user, server } = requireFhirCaller(context, request)
  requireReadParams(request)
  return readDocumentReference(context, user, server, params.id)
})

export const action = fhirRoute(async () => readOnly())
