/**
 * GET /fhir/R4/ServiceRequest?status=&priority=&authored=&_lastUpdated=&_count=: the clinic's
 * referrals (a referrer's own), newest first, as a searchset on the queue's keyset. A patient
 * search is posted to ServiceRequest/_search (its terms are PHI, never in a URL).
 */
import type { LoaderFunctionArgs } from '@remix-run/cloudflare'
import { fhirRoute, readOnly, requireFhirCaller } from '~/fhir/handler.server'
import { invalidParameters } from '~/fhir/outcome.server'
import { clinicDayStart, searchServiceRequests } from '~/fhir/referrals.server'
import { baseUrl, searchset } from '~/fhir/resources'
import { pageLink, serviceRequestSearch } from '~/fhir/search'

export const loader = fhirRoute(async ({ request, context }: LoaderFunctionArgs) => {
  const { user, server } = requireFhirCaller(context, request)
  const params = new URL(request.url).searchParams
  const { search, problems } = serviceRequestSearch(params, clinicDayStart(context))
  if (problems.length) throw invalidParameters(problems)
  const page = await searchServiceRequests(context, user, server, search)
  const base = `${baseUrl(server)}/ServiceRequest`
  return searchset(server, { ...page, self: params.size ? `${base}?${params}` : base, next: page.next && pageLink(base, params, page.next) })
})

export const action = fhirRoute(async () => readOnly())
