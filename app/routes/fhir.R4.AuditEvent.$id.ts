/** GET /fhir/R4/AuditEvent/:id: one row of the clinic's audit trail, as the NDJSON export writes it; admins only (decision 057). */
import type { LoaderFunctionArgs } from '@remix-run/cloudflare'
import { readAuditEvent } from '~/fhir/audit-events.server'
import { fhirRoute, readOnly, requireFhirCaller, requireReadParams } from '~/fhir/handler.server'

export const loader = fhirRoute(async ({ request, params, context }: LoaderFunctionArgs) => {
  const { user } = requireFhirCaller(context, request)
  requireReadParams(request)
  return readAuditEvent(context, user, params.id)
})

export const action = fhirRoute(async () => readOnly())
