/** GET /fhir/R4/metadata: the CapabilityStatement (app/fhir/capability.ts), behind the same bearer token as every FHIR read. */
import type { LoaderFunctionArgs } from '@remix-run/cloudflare'
import { capabilityStatement } from '~/fhir/capability'
import { fhirRoute, readOnly, requireFhirCaller, requireReadParams } from '~/fhir/handler.server'
import { baseUrl } from '~/fhir/resources'

export const loader = fhirRoute(async ({ request, context }: LoaderFunctionArgs) => {
  const { server } = requireFhirCaller(context, request)
  requireReadParams(request)
  return capabilityStatement({ base: baseUrl(server) })
})

export const action = fhirRoute(async () => readOnly())
