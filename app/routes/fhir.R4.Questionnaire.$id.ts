/** GET /fhir/R4/Questionnaire/intake-:version: a published version of the clinic's intake form. */
import type { LoaderFunctionArgs } from '@remix-run/cloudflare'
import { fhirRoute, readOnly, requireFhirCaller, requireReadParams } from '~/fhir/handler.server'
import { readQuestionnaire } from '~/fhir/questionnaires.server'

export const loader = fhirRoute(async ({ request, params, context }: LoaderFunctionArgs) => {
  const { user, server } = requireFhirCaller(context, request)
  requireReadParams(request)
  return readQuestionnaire(context, user, server, params.id)
})

export const action = fhirRoute(async () => readOnly())
