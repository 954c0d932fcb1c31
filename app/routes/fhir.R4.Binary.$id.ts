/**
 * GET /fhir/R4/Binary/:documentId: a referral's document, the stored file itself in its own
 * type, under the download's guards and audit (decision 057). This server does not wrap files
 * in a Binary resource: a client that will take only FHIR JSON is told so (406).
 */
import type { LoaderFunctionArgs } from '@remix-run/cloudflare'
import { readBinary } from '~/fhir/documents.server'
import { fhirRoute, readOnly, requireFhirCaller, requireReadParams } from '~/fhir/handler.server'
import { fhirError } from '~/fhir/outcome.server'

/** PHI: the document, decrypted. */
export const handle = { phi: true }

/** An Accept that names only FHIR's JSON (no wildcard, no other type) asks for the Binary resource. */
const wantsOnlyFhirJson = (accept: string | null) =>
  !!accept &&
  accept
    .split(',')
    .map((part) => part.split(';')[0]!.trim().toLowerCase())
    .every((type) => type === 'application/fhir+json' || type === 'application/json+fhir')

export const loader = fhirRoute(async ({ request, params, context }: LoaderFunctionArgs) => {
  const { user } = requireFhirCaller(context, request)
  requireReadParams(request)
  if (new URL(request.url).searchParams.has('_format') || wantsOnlyFhirJson(request.headers.get('Accept')))
    throw fhirError(
      406,
      'A Binary is served as the file itself, in its own type (DocumentReference.content.attachment.contentType): ask with Accept: */* or that type',
    )
  return readBinary(context, user, params.id)
})

export const action = fhirRoute(async () => readOnly())
