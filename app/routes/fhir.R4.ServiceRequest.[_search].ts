/**
 * POST /fhir/R4/ServiceRequest/_search: the same search as GET, its parameters in a form body;
 * only here may `patient.identifier` (the health card number) be given, matched through the
 * blind index. Its links leave the number out: a client posts the same body to the next link.
 */
import type { ActionFunctionArgs } from '@remix-run/cloudflare'
import { fhirRoute, requireFhirCaller } from '~/fhir/handler.server'
import { fhirError, invalidParameters } from '~/fhir/outcome.server'
import { clinicDayStart, searchServiceRequests } from '~/fhir/referrals.server'
import { baseUrl, searchset } from '~/fhir/resources'
import { pageLink, serviceRequestSearch } from '~/fhir/search'

/** PHI: the search term is a health card number (tests/e2e/phi-coverage.spec.ts lists the route). */
export const handle = { phi: true }

export const loader = () => fhirError(405, 'Post the search as a form (application/x-www-form-urlencoded)', { headers: { Allow: 'POST' } })

export const action = fhirRoute(async ({ request, context }: ActionFunctionArgs) => {
  if (request.method !== 'POST') throw fhirError(405, undefined, { headers: { Allow: 'POST' } })
  const { user, server } = requireFhirCaller(context, request)
  if (!/^application\/x-www-form-urlencoded\s*(;|$)/i.test(request.headers.get('Content-Type') ?? '')) {
    throw fhirError(415, 'A search is posted as a form (application/x-www-form-urlencoded)')
  }
  const params = new URL(request.url).searchParams
  const body = new URLSearchParams(await request.text())
  const { search, problems } = serviceRequestSearch(params, clinicDayStart(context), body)
  if (problems.length) throw invalidParameters(problems)
  const page = await searchServiceRequests(context, user, server, search)
  // The links name every parameter but the health card, which stays in the body.
  const shown = new URLSearchParams(params)
  for (const [name, value] of body) if (name !== 'patient.identifier' && name !== '_cursor') shown.append(name, value)
  const base = `${baseUrl(server)}/ServiceRequest/_search`
  return searchset(server, { ...page, self: shown.size ? `${base}?${shown}` : base, next: page.next && pageLink(base, shown, page.next) })
})
