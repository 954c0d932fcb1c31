/**
 * GET /fhir/R4/Communication?based-on=ServiceRequest/:id: a referral's questions from the clinic
 * and the referrer's replies, decrypted after the referral was opened as the page opens it.
 * POST: a reply to the clinic's question (a referrer) or a question to the referrer (staff).
 */
import type { ActionFunctionArgs, LoaderFunctionArgs } from '@remix-run/cloudflare'
import { postCommunication, searchCommunications } from '~/fhir/communications.server'
import { fhirRoute, readFhirBody, requireFhirCaller } from '~/fhir/handler.server'
import { fhirError, fhirResponse, invalidParameters } from '~/fhir/outcome.server'
import { baseUrl, searchset } from '~/fhir/resources'
import { communicationSearch } from '~/fhir/search'

/** PHI: the messages' text (tests/e2e/phi-coverage.spec.ts visits every such route). */
export const handle = { phi: true }

export const loader = fhirRoute(async ({ request, context }: LoaderFunctionArgs) => {
  const { user, server } = requireFhirCaller(context, request)
  const params = new URL(request.url).searchParams
  const { referralId, problems } = communicationSearch(params)
  if (problems.length || !referralId) throw invalidParameters(problems)
  const resources = await searchCommunications(context, user, server, referralId)
  return searchset(server, { self: `${baseUrl(server)}/Communication?${params}`, next: null, total: resources.length, resources })
})

export const action = fhirRoute(async ({ request, context }: ActionFunctionArgs) => {
  if (request.method !== 'POST') throw fhirError(405, undefined, { headers: { Allow: 'GET, HEAD, POST' } })
  const { user, server } = requireFhirCaller(context, request)
  const { resource, location } = await postCommunication(context, user, server, await readFhirBody(request))
  return fhirResponse(resource, { status: 201, headers: { Location: location } })
})
