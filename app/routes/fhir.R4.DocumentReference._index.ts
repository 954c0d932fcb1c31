/** GET /fhir/R4/DocumentReference?related=ServiceRequest/:id (or patient=Patient/:id): a referral's documents, as its document list (decision 057). */
import type { LoaderFunctionArgs } from '@remix-run/cloudflare'
import { searchDocumentReferences } from '~/fhir/documents.server'
import { fhirRoute, readOnly, requireFhirCaller } from '~/fhir/handler.server'
import { invalidParameters } from '~/fhir/outcome.server'
import { baseUrl, searchset } from '~/fhir/resources'
import { documentSearch } from '~/fhir/search'

/** PHI: the documents' names, decrypted. */
export const handle = { phi: true }

export const loader = fhirRoute(async ({ request, context }: LoaderFunctionArgs) => {
  const { user, server } = requireFhirCaller(context, request)
  const params = new URL(request.url).searchParams
  const { search, problems } = documentSearch(params)
  if (problems.length) throw invalidParameters(problems)
  const resources = await searchDocumentReferences(context, user, server, search.referralId)
  // Every document of the referral is on the one page: no next link, and the total is exact.
  return searchset(server, { resources, next: null, total: resources.length, self: `${baseUrl(server)}/DocumentReference?${params}` })
})

export const action = fhirRoute(async () => readOnly())
