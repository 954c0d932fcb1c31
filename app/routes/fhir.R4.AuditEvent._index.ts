/** GET /fhir/R4/AuditEvent?date=&subtype=&outcome=&_count=: the clinic's audit trail, newest first; admins only (decision 057). */
import type { LoaderFunctionArgs } from '@remix-run/cloudflare'
import { AUDIT_ACTION_CODES } from '~/audit/actions'
import { searchAuditEvents } from '~/fhir/audit-events.server'
import { fhirRoute, readOnly, requireFhirCaller } from '~/fhir/handler.server'
import { invalidParameters } from '~/fhir/outcome.server'
import { clinicDayStart } from '~/fhir/referrals.server'
import { baseUrl, searchset } from '~/fhir/resources'
import { auditEventSearch, pageLink } from '~/fhir/search'

export const loader = fhirRoute(async ({ request, context }: LoaderFunctionArgs) => {
  const { user, server } = requireFhirCaller(context, request)
  const params = new URL(request.url).searchParams
  const { search, problems } = auditEventSearch(params, clinicDayStart(context), AUDIT_ACTION_CODES)
  if (problems.length) throw invalidParameters(problems)
  const page = await searchAuditEvents(context, user, search)
  const base = `${baseUrl(server)}/AuditEvent`
  return searchset(server, { ...page, self: params.size ? `${base}?${params}` : base, next: page.next && pageLink(base, params, page.next) })
})

export const action = fhirRoute(async () => readOnly())
