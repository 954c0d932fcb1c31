/**
 * How IntakePilot's words become FHIR R4's codes (docs/decisions/046-fhir-r4-read-and-search.md).
 * One table per mapping; the README's "FHIR R4" section prints the workflow one.
 */
import type { ReferralPriority, ReferralStatus } from '~/db/enums'

/** HL7 BSeR's Task business status code system (the referral's workflow stage). */
export const BSER_BUSINESS_STATUS = 'http://hl7.org/fhir/us/bser/CodeSystem/TaskBusinessStatusCS'

export const BSER_CODES = {
  '2.0': 'Service Request Created',
  '3.0': 'Service Request Accepted',
  '4.0': 'Service Request Declined',
  '5.1.1': 'Service Request Event Scheduled',
  '6.0': 'Service Request Fulfillment Cancelled',
  '7.0': 'Service Request Fulfillment Completed',
} as const
export type BserCode = keyof typeof BSER_CODES

export type TaskStatus = 'requested' | 'received' | 'accepted' | 'rejected' | 'in-progress' | 'on-hold' | 'cancelled' | 'completed'
export type RequestStatus = 'active' | 'completed' | 'revoked'

/**
 * Each IntakePilot status as the Task (its workflow), its BSeR stage and the ServiceRequest (the
 * order itself). Forwarding ends the referral here (it lives on at the other clinic): for this
 * clinic that is a cancelled fulfilment, and statusReason says where it went.
 */
export const WORKFLOW: Record<ReferralStatus, { task: TaskStatus; business: BserCode; request: RequestStatus }> = {
  received: { task: 'requested', business: '2.0', request: 'active' },
  in_review: { task: 'received', business: '2.0', request: 'active' },
  info_requested: { task: 'on-hold', business: '2.0', request: 'active' },
  accepted: { task: 'accepted', business: '3.0', request: 'active' },
  scheduled: { task: 'in-progress', business: '5.1.1', request: 'active' },
  closed: { task: 'completed', business: '7.0', request: 'completed' },
  declined: { task: 'rejected', business: '4.0', request: 'revoked' },
  cancelled: { task: 'cancelled', business: '6.0', request: 'revoked' },
  forwarded: { task: 'cancelled', business: '6.0', request: 'revoked' },
}

/** The statuses whose Task (or ServiceRequest) has a given code: what a search for that code selects. */
export const statusesWhere = (pick: (w: (typeof WORKFLOW)[ReferralStatus]) => string, code: string) =>
  (Object.keys(WORKFLOW) as ReferralStatus[]).filter((s) => pick(WORKFLOW[s]) === code)

/** FHIR's request-priority codes; `asap` has no IntakePilot priority, so it selects nothing. */
export const PRIORITY: Record<ReferralPriority, 'routine' | 'urgent' | 'stat'> = { routine: 'routine', urgent: 'urgent', emergent: 'stat' }
export const REQUEST_PRIORITIES = ['routine', 'urgent', 'asap', 'stat'] as const
export const REQUEST_STATUSES = ['draft', 'active', 'on-hold', 'revoked', 'completed', 'entered-in-error', 'unknown'] as const
export const TASK_STATUSES = [
  'draft',
  'requested',
  'received',
  'accepted',
  'rejected',
  'ready',
  'cancelled',
  'in-progress',
  'on-hold',
  'failed',
  'completed',
  'entered-in-error',
] as const

/** Administrative gender from the default form's "Sex" options; anything else is `unknown`. */
export function gender(value: string | undefined): 'female' | 'male' | 'other' | 'unknown' | undefined {
  if (!value) return undefined
  const v = value.trim().toLowerCase()
  return v === 'female' ? 'female' : v === 'male' ? 'male' : v === 'intersex' ? 'other' : 'unknown'
}

/** Canada Health Infoway's naming system for the Ontario health card number. */
export const ONTARIO_HEALTH_CARD = 'https://fhir.infoway-inforoute.ca/NamingSystem/ca-on-patient-hcn'
