/** GET /fhir/R4/Task?focus=&status=&business-status=&_lastUpdated=&_count=: the referrals' workflows, newest first. */
import type { LoaderFunctionArgs } from '@remix-run/cloudflare'
import { fhirRoute, readOnly, requireFhirCaller } from '~/fhir/handler.server'
import { invalidParameters } from '~/fhir/outcome.server'
import { clinicDayStart, searchTasks } from '~/fhir/referrals.server'
import { baseUrl, searchset } from '~/fhir/resources'
import { pageLink, taskSearch } from '~/fhir/search'

export const loader = fhirRoute(async ({ request, context }: LoaderFunctionArgs) => {
  const { user, server } = requireFhirCaller(context, request)
  const params = new URL(request.url).searchParams
  const { search, problems } = taskSearch(params, clinicDayStart(context))
  if (problems.length) throw invalidParameters(problems)
  const page = await searchTasks(context, user, server, search)
  const base = `${baseUrl(server)}/Task`
  return searchset(server, { ...page, self: params.size ? `${base}?${params}` : base, next: page.next && pageLink(base, params, page.next) })
})

export const action = fhirRoute(async () => readOnly())
