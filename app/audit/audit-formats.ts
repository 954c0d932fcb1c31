/**
 * The audit trail's export formats: CSV for people with spreadsheets, FHIR R4 AuditEvent
 * NDJSON for programs. Pure functions over one row at a time, so an export can stream.
 */
import { formatClinicTime } from '~/utils/clinic-time'
import { crudeAction, dicomType } from './actions'

/** One audit row as exported. Times and details are PostgreSQL's own text (what the hash covers). */
export type AuditRecord = {
  id: number
  seq: number | null
  occurredAt: string
  clinicId: string | null
  actorId: string | null
  actorName: string | null
  actorRole: string | null
  action: string
  entityType: string | null
  entityId: string | null
  /** What people call the entity, resolved at export time under RLS: a reference number, a user's or clinic's name. */
  entityLabel: string | null
  outcome: string
  requestId: string | null
  ip: string | null
  userAgent: string | null
  details: string | null
  prevHash: string | null
  hash: string | null
}

const CSV_COLUMNS = [
  ['id', (r) => r.id],
  ['seq', (r) => r.seq],
  ['occurred_at', (r) => r.occurredAt],
  ['clinic_id', (r) => r.clinicId],
  ['actor_id', (r) => r.actorId],
  ['actor_name', (r) => r.actorName],
  ['actor_role', (r) => r.actorRole],
  ['action', (r) => r.action],
  ['entity_type', (r) => r.entityType],
  ['entity_id', (r) => r.entityId],
  ['outcome', (r) => r.outcome],
  ['request_id', (r) => r.requestId],
  ['ip', (r) => r.ip],
  ['user_agent', (r) => r.userAgent],
  ['details', (r) => r.details],
  ['prev_hash', (r) => r.prevHash],
  ['hash', (r) => r.hash],
  // Added after the columns above, so that a reader of the earlier files finds every column where it was.
  ['entity_name', (r) => r.entityLabel],
  ['clinic_time', (r, zone) => formatClinicTime(r.occurredAt, zone, { seconds: true })],
  ['time_zone', (_r, zone) => zone],
] as const satisfies readonly (readonly [string, (r: AuditRecord, zone: string) => string | number | null])[]

/**
 * One CSV cell (RFC 4180). A text cell that a spreadsheet would run as a formula (= + - @,
 * or a leading tab or carriage return) gets a leading single quote: the user agent, for one,
 * is whatever the client sent.
 */
export function csvCell(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return ''
  let text = String(value)
  if (typeof value === 'string' && /^[=+\-@\t\r]/.test(text)) text = `'${text}`
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text
}

export const csvHeader = () => `${CSV_COLUMNS.map(([name]) => name).join(',')}\r\n`

/** One row; `zone` is the clinic's time zone, which the row's clinic_time is in and its time_zone names. */
export const csvRow = (r: AuditRecord, zone: string) => `${CSV_COLUMNS.map(([, get]) => csvCell(get(r, zone))).join(',')}\r\n`

const DCM = 'http://dicom.nema.org/resources/ontology/DCM'
const ACTION_SYSTEM = 'urn:intakepilot:audit-action'
const ENTITY_TYPE_SYSTEM = 'urn:intakepilot:entity-type'
/** The clinic's time zone, on every event: `recorded` is UTC, the clinic reads its own zone. */
export const TIME_ZONE_EXTENSION = 'urn:intakepilot:clinic-time-zone'
/** FHIR audit-event-outcome: 0 success, 4 minor failure (a refusal), 8 serious failure. */
const OUTCOMES: Record<string, '0' | '4' | '8'> = { success: '0', denied: '4', error: '8' }

/** A FHIR R4 AuditEvent for one row: the ids of the trail, with the names and reference number they stand for as `display`. */
export function fhirAuditEvent(r: AuditRecord, zone: string) {
  const type = dicomType(r.action)
  const subtype: { system: string; code: string; display?: string }[] = [{ system: ACTION_SYSTEM, code: r.action }]
  if (r.action === 'login') subtype.push({ system: DCM, code: '110122', display: 'Login' })
  if (r.action === 'logout') subtype.push({ system: DCM, code: '110123', display: 'Logout' })
  const entities = entityIds(r).map((id) => fhirEntity(r.entityType, id, id === r.entityId ? r.entityLabel : null, r.requestId))
  return {
    resourceType: 'AuditEvent',
    id: String(r.id),
    extension: [{ url: TIME_ZONE_EXTENSION, valueString: zone }],
    type: { system: DCM, code: type.code, display: type.display },
    subtype,
    action: crudeAction(r.action),
    recorded: r.occurredAt,
    outcome: OUTCOMES[r.outcome] ?? '8',
    ...(r.outcome === 'success' ? {} : { outcomeDesc: r.outcome }),
    agent: [
      {
        ...(r.actorId
          ? { who: { identifier: { value: r.actorId }, ...(r.actorName ? { display: r.actorName } : {}) } }
          : { who: { display: anonymousActor(r.actorRole) } }),
        requestor: true,
        ...(r.actorRole ? { role: [{ text: r.actorRole }] } : {}),
        ...(r.ip ? { network: { address: r.ip, type: '2' } } : {}),
      },
    ],
    source: { ...(r.clinicId ? { site: r.clinicId } : {}), observer: { display: 'IntakePilot' } },
    ...(entities.length ? { entity: entities } : {}),
  }
}

/**
 * No actor id: a scheduled job (role 'system'), a referral forwarded in (role 'other-clinic': the
 * receiving clinic's trail names none of the sender's users), or someone not known (a refused sign-in).
 */
export const anonymousActor = (role: string | null) =>
  role === 'system' ? 'IntakePilot (scheduled job)' : role === 'other-clinic' ? 'Another clinic (a forward)' : 'Unknown user'

/** The row's entity; for a list, every referral it showed (their ids are in the details). */
function entityIds(r: AuditRecord): (string | null)[] {
  if (r.entityId) return [r.entityId]
  if (!r.entityType) return []
  const ids = r.details ? (JSON.parse(r.details) as { ids?: unknown }).ids : undefined
  return Array.isArray(ids) && ids.length && ids.every((id) => typeof id === 'string') ? ids : [null]
}

// R4's entity.type is a Coding (a CodeableConcept's `text` would not validate): our entity
// type is the code, and its display.
function fhirEntity(type: string | null, id: string | null, label: string | null, requestId: string | null) {
  return {
    ...(id ? { what: { identifier: { value: id }, ...(label ? { display: label } : {}) } } : {}),
    ...(type ? { type: { system: ENTITY_TYPE_SYSTEM, code: type, display: type } } : {}),
    ...(requestId ? { detail: [{ type: 'request-id', valueString: requestId }] } : {}),
  }
}

export const ndjsonLine = (r: AuditRecord, zone: string) => `${JSON.stringify(fhirAuditEvent(r, zone))}\n`

/** The id of the NDJSON trailer resource. */
export const EXPORT_TRAILER_ID = 'intakepilot-export-trailer'

/**
 * The last line of a complete export, stating how many rows it holds; a file without it was
 * cut off. CSV: one cell starting with '#', no comma, after the last row:
 * `# intakepilot-audit-export: 1102 rows; complete`. NDJSON: a FHIR R4 Parameters resource
 * (valid FHIR, unlike a bare object, so a FHIR reader does not choke on it):
 * `{"resourceType":"Parameters","id":"intakepilot-export-trailer","parameter":[{"name":"rows","valueInteger":1102},{"name":"complete","valueBoolean":true}]}`.
 */
export function exportTrailer(format: 'csv' | 'fhir', rows: number) {
  if (format === 'csv') return `# intakepilot-audit-export: ${rows} rows; complete\r\n`
  const trailer = {
    resourceType: 'Parameters',
    id: EXPORT_TRAILER_ID,
    parameter: [
      { name: 'rows', valueInteger: rows },
      { name: 'complete', valueBoolean: true },
    ],
  }
  return `${JSON.stringify(trailer)}\n`
}

/**
 * The last line of an export that failed part-way, sent before the transfer is cut off. CSV:
 * `# intakepilot-audit-export: FAILED after 500 rows; incomplete`. NDJSON: a FHIR
 * OperationOutcome, as FHIR bulk data reports errors.
 */
export function exportFailure(format: 'csv' | 'fhir', rows: number) {
  if (format === 'csv') return `# intakepilot-audit-export: FAILED after ${rows} rows; incomplete\r\n`
  const outcome = {
    resourceType: 'OperationOutcome',
    id: EXPORT_TRAILER_ID,
    issue: [{ severity: 'fatal', code: 'incomplete', diagnostics: `The export failed after ${rows} rows; this file is incomplete.` }],
  }
  return `${JSON.stringify(outcome)}\n`
}
