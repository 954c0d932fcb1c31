/**
 * GET /fhir/R4/metadata: the CapabilityStatement (app/fhir/capability.ts). It needs no token
 * (FHIR clients read it to discover the server before they sign in; decision 057) and names no
 * clinic; a token that is sent is still verified by the pipeline like any other.
 */
import type { LoaderFunctionArgs } from '@remix-run/cloudflare'
import { capabilityStatement } from '~/fhir/capability'
import { fhirOrigin, fhirRoute, readOnly, requireReadParams } from '~/fhir/handler.server'
import { baseUrl } from '~/fhir/resources'

export const loader = fhirRoute(async ({ request, context }: LoaderFunctionArgs) => {
  requireReadParams(request)
  return capabilityStatement({ base: baseUrl({ origin: fhirOrigin(context, request) }) })
})

export const action = fhirRoute(async () => readOnly())
