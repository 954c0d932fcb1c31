/**
 * The clinic's audit trail as FHIR AuditEvents, for those who may read it (admins): each row
 * exactly as the NDJSON export writes it (fhirAuditEvent), newest first in the clinic's chain,
 * paged on a keyset of its position. Reading the trail is not itself recorded, as the viewer's
 * and /api/v1/audit-logs' reads are not (decision 057): the rows hold ids and codes, never PHI.
 */
import type { AppLoadContext } from '@remix-run/cloudflare'
import { requireApiPermission } from '~/api/handler.server'
import { fhirAuditEvent } from '~/audit/audit-formats'
import { auditRecords } from '~/audit/audit-log.server'
import type { SessionUser } from '~/auth/identity.server'
import type { AuditOutcome } from '~/db/enums'
import { clinicTimeZone } from '~/utils/clinic-time'
import { fhirError } from './outcome.server'
import type { Resource } from './resources'
import { encodeAuditCursor, type AuditEventSearch } from './search'

/** FHIR audit-event-outcome codes as the trail's outcomes (audit-formats.ts maps them the other way). */
const OUTCOMES: Record<string, AuditOutcome> = { '0': 'success', '4': 'denied', '8': 'error' }

const auditReader = (user: SessionUser) => {
  requireApiPermission(user, 'read:audit-log:any')
  return user.clinicId!
}

export async function readAuditEvent(context: AppLoadContext, user: SessionUser, id: string | undefined): Promise<Resource> {
  const clinicId = auditReader(user)
  if (!/^[1-9]\d{0,15}$/.test(id ?? '') || !Number.isSafeInteger(Number(id))) throw fhirError(404)
  const [row] = await context.db.tenant((tx) => auditRecords(tx, clinicId, { id: Number(id), limit: 1 }))
  if (!row) throw fhirError(404)
  return fhirAuditEvent(row, clinicTimeZone(context.clinic?.settings))
}

export async function searchAuditEvents(context: AppLoadContext, user: SessionUser, search: AuditEventSearch) {
  const clinicId = auditReader(user)
  const rows = await context.db.tenant((tx) =>
    auditRecords(tx, clinicId, {
      beforeSeq: search.beforeSeq,
      times: search.date,
      actions: search.actions,
      outcomes: search.outcomes && [...new Set(search.outcomes.map((code) => OUTCOMES[code]!))],
      limit: search.count + 1,
    }),
  )
  const page = rows.slice(0, search.count)
  const last = page.at(-1)
  const zone = clinicTimeZone(context.clinic?.settings)
  return {
    resources: page.map((row) => fhirAuditEvent(row, zone) as Resource),
    next: rows.length > search.count && last?.seq ? encodeAuditCursor(last.seq) : null,
    total: null,
  }
}
