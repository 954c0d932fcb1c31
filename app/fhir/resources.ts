/**
 * The FHIR R4 resources one referral is seen as, built by pure functions from what the server
 * read (no database, no cipher here: app/fhir/resources.test.ts checks every shape). One
 * referral is one ServiceRequest (the order), one Task (its workflow), one Patient and one
 * QuestionnaireResponse, all under the referral's id; each published intake form version is a
 * Questionnaire (docs/decisions/046-fhir-r4-read-and-search.md).
 */
import type { IntakeField, IntakeFormDefinition, ReferralPriority, ReferralStatus } from '~/db/schema'
import type { ReasonCode } from '~/referrals/reason-codes'
import { CANCEL_REASONS, DECLINE_REASONS } from '~/referrals/reason-codes'
import { BSER_BUSINESS_STATUS, BSER_CODES, gender, ONTARIO_HEALTH_CARD, PRIORITY, WORKFLOW } from './codes'

export type Resource = { resourceType: string; id?: string } & Record<string, unknown>

/** Where the server is and whose data it speaks for: the base of every reference and identifier system. */
export type FhirServer = { origin: string; clinic: { id: string; name: string } }

/** The interface's path (app/api/cors.server.ts routes it under the API's rules). */
export const FHIR_BASE = '/fhir/R4'
export const baseUrl = (server: Pick<FhirServer, 'origin'>) => `${server.origin}${FHIR_BASE}`

/** What any reader of the referral may see of it: none of it is PHI (ids, codes, times, clear form fields). */
export type ReferralFacts = {
  id: string
  referenceNumber: string
  status: ReferralStatus
  priority: ReferralPriority
  version: number
  formVersion: number
  receivedAt: Date
  updatedAt: Date
  /** The referral's stored form data: only the fields that are not PHI are read from it here. */
  formData: Record<string, unknown>
  referrerName: string | null
  referrerOrganization: string | null
  /** The EHR system that sent it, and its name then (decision 061); null for a person's referral. */
  submittedByIntegration: string | null
  submittedByIntegrationName: string | null
  forwardedToName: string | null
}

/** The form's answers, decrypted: only for a reader whose open of the referral was audited. */
export type OpenedValues = Record<string, string | number | boolean | null>

const SUBSETTED = { system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationValue', code: 'SUBSETTED', display: 'subsetted' }

const meta = (ref: ReferralFacts, subsetted = false) => ({
  versionId: String(ref.version),
  lastUpdated: ref.updatedAt.toISOString(),
  ...(subsetted ? { tag: [SUBSETTED] } : {}),
})

/** A field the form stores in the clear (phi: false), as text; a PHI field's stored value is ciphertext and is never read here. */
const clearText = (formData: Record<string, unknown>, key: string) => {
  const value = formData[key]
  return typeof value === 'string' && value.trim() ? value.trim() : undefined
}
const text = (values: OpenedValues | undefined, key: string) => {
  const value = values?.[key]
  return typeof value === 'string' && value.trim() ? value.trim() : undefined
}

const referenceIdentifier = (server: FhirServer, ref: ReferralFacts) => ({
  use: 'official',
  system: `${server.origin}/clinics/${server.clinic.id}/referral-numbers`,
  value: ref.referenceNumber,
})

/** The referrer as the form names them (clinician and practice are not PHI), or as staff typed them in. */
export function referrerOf(ref: Pick<ReferralFacts, 'formData' | 'referrerName' | 'referrerOrganization'>) {
  return {
    name: clearText(ref.formData, 'clinician_name') ?? ref.referrerName ?? undefined,
    practice: clearText(ref.formData, 'clinician_practice') ?? ref.referrerOrganization ?? undefined,
    billing: clearText(ref.formData, 'clinician_billing_number'),
  }
}

const billingIdentifier = (billing: string) => ({ type: { text: 'Billing number' }, value: billing })

/**
 * The referrer in the order: their role at their practice (PractitionerRole/{referral id}), named.
 * An EHR system's referral whose form names no clinician points at the system that sent it: a
 * Device, by its registration's id within the clinic and its name, with no literal reference
 * (registrations are the clinic admins' and are not served as resources; decision 061).
 */
function requester(server: FhirServer, ref: ReferralFacts) {
  const { name, practice, billing } = referrerOf(ref)
  const display = [name, practice].filter(Boolean).join(', ')
  if (!display && !billing) return sendingSystem(server, ref)
  return {
    reference: `PractitionerRole/${ref.id}`,
    ...(display ? { display } : {}),
    ...(billing ? { identifier: billingIdentifier(billing) } : {}),
  }
}

function sendingSystem(server: FhirServer, ref: ReferralFacts) {
  if (!ref.submittedByIntegration) return undefined
  return {
    type: 'Device',
    identifier: { system: `${server.origin}/clinics/${server.clinic.id}/ehr-integrations`, value: ref.submittedByIntegration },
    display: ref.submittedByIntegrationName ?? 'EHR system',
  }
}

/**
 * The referral as an order. Read on its own (`values` given, after the audited open) it carries
 * the reason for referral and its documents; in a search result it carries no PHI and is tagged SUBSETTED.
 */
export function serviceRequest(server: FhirServer, ref: ReferralFacts, values?: OpenedValues, documentIds: string[] = []): Resource {
  const service = clearText(ref.formData, 'requested_service')
  const reason = text(values, 'reason')
  const by = requester(server, ref)
  return {
    resourceType: 'ServiceRequest',
    id: ref.id,
    meta: meta(ref, !values),
    identifier: [referenceIdentifier(server, ref)],
    status: WORKFLOW[ref.status].request,
    intent: 'order',
    priority: PRIORITY[ref.priority],
    ...(service ? { code: { text: service } } : {}),
    subject: { reference: `Patient/${ref.id}` },
    authoredOn: ref.receivedAt.toISOString(),
    ...(by ? { requester: by } : {}),
    performer: [{ display: server.clinic.name }],
    ...(reason ? { reasonCode: [{ text: reason }] } : {}),
    supportingInfo: [{ reference: `QuestionnaireResponse/${ref.id}` }, ...documentIds.map((id) => ({ reference: `DocumentReference/${id}` }))],
  }
}

/** The last decline or cancel's category (its free text is the patient's business and stays on the page). */
export type StatusReason = { to: ReferralStatus; code: ReasonCode | null } | null

export const REASON_SYSTEM = (server: FhirServer) => `${baseUrl(server)}/CodeSystem/referral-status-reason`

function statusReason(server: FhirServer, ref: ReferralFacts, reason: StatusReason) {
  if (ref.status === 'forwarded') return { text: ref.forwardedToName ? `Forwarded to ${ref.forwardedToName}` : 'Forwarded to another clinic' }
  if (ref.status === 'info_requested') return { text: 'Waiting on the referrer for more information' }
  if (ref.status !== 'declined' && ref.status !== 'cancelled') return undefined
  const labels: Record<string, string> = ref.status === 'declined' ? DECLINE_REASONS : CANCEL_REASONS
  const code = reason && reason.to === ref.status ? reason.code : null
  const label = code ? labels[code] : undefined
  if (!code || !label) return { text: 'Not given' }
  return { coding: [{ system: REASON_SYSTEM(server), code, display: label }], text: label }
}

/** The referral's workflow at this clinic: status per FHIR's Task state machine, stage per BSeR. */
export function task(server: FhirServer, ref: ReferralFacts, reason: StatusReason): Resource {
  const stage = WORKFLOW[ref.status]
  const why = statusReason(server, ref, reason)
  return {
    resourceType: 'Task',
    id: ref.id,
    meta: meta(ref),
    identifier: [referenceIdentifier(server, ref)],
    basedOn: [{ reference: `ServiceRequest/${ref.id}` }],
    status: stage.task,
    ...(why ? { statusReason: why } : {}),
    businessStatus: { coding: [{ system: BSER_BUSINESS_STATUS, code: stage.business, display: BSER_CODES[stage.business] }], text: BSER_CODES[stage.business] },
    intent: 'order',
    priority: PRIORITY[ref.priority],
    focus: { reference: `ServiceRequest/${ref.id}` },
    for: { reference: `Patient/${ref.id}` },
    authoredOn: ref.receivedAt.toISOString(),
    lastModified: ref.updatedAt.toISOString(),
    owner: { display: server.clinic.name },
  }
}

/** The patient as the referral names them: built only from decrypted values, after the audited open. */
export function patient(server: FhirServer, ref: ReferralFacts, definition: IntakeFormDefinition, values: OpenedValues): Resource {
  const family = text(values, 'patient_last_name')
  const given = text(values, 'patient_first_name')
  const card = text(values, 'health_card_number')
  const cardField = fieldsOf(definition).find((f) => f.key === 'health_card_number')
  const phone = text(values, 'patient_phone')
  const email = text(values, 'patient_email')
  const address = text(values, 'patient_address')
  const birthDate = text(values, 'patient_dob')
  const sex = gender(text(values, 'patient_sex'))
  const telecom = [...(phone ? [{ system: 'phone', value: phone }] : []), ...(email ? [{ system: 'email', value: email }] : [])]
  return {
    resourceType: 'Patient',
    id: ref.id,
    meta: meta(ref),
    ...(card
      ? {
          identifier: [
            {
              type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'JHN', display: 'Jurisdictional health number (Canada)' }] },
              system: cardField?.format === 'ontario-health-card' ? ONTARIO_HEALTH_CARD : `${server.origin}/clinics/${server.clinic.id}/health-cards`,
              value: card,
            },
          ],
        }
      : {}),
    ...(family || given ? { name: [{ use: 'official', ...(family ? { family } : {}), ...(given ? { given: [given] } : {}) }] } : {}),
    ...(telecom.length ? { telecom } : {}),
    ...(sex ? { gender: sex } : {}),
    ...(birthDate && /^\d{4}-\d{2}-\d{2}$/.test(birthDate) ? { birthDate } : {}),
    ...(address ? { address: [{ text: address }] } : {}),
  }
}

const fieldsOf = (definition: IntakeFormDefinition) => definition.sections.flatMap((s) => s.fields)

/** Each form field type as a Questionnaire item type. */
const ITEM_TYPES: Record<IntakeField['type'], string> = {
  text: 'string',
  textarea: 'text',
  date: 'date',
  select: 'choice',
  checkbox: 'boolean',
  phone: 'string',
  email: 'string',
  number: 'decimal',
}

/** The canonical URL of a clinic's intake form (its versions are Questionnaire versions). */
export const questionnaireUrl = (server: FhirServer) => `${server.origin}/clinics/${server.clinic.id}/intake-form`
export const questionnaireId = (version: number) => `intake-${version}`
export const versionOfQuestionnaireId = (id: string | undefined) => {
  const match = /^intake-([1-9]\d{0,8})$/.exec(id ?? '')
  return match ? Number(match[1]) : null
}

/** One published version of the clinic's intake form. */
export function questionnaire(server: FhirServer, form: { version: number; definition: IntakeFormDefinition; publishedAt: Date; current: boolean }): Resource {
  return {
    resourceType: 'Questionnaire',
    id: questionnaireId(form.version),
    meta: { versionId: '1', lastUpdated: form.publishedAt.toISOString() },
    url: questionnaireUrl(server),
    version: String(form.version),
    name: 'IntakeForm',
    title: `${server.clinic.name}: referral intake form`,
    // Older versions stay readable (their referrals answer them) but are no longer filled in.
    status: form.current ? 'active' : 'retired',
    date: form.publishedAt.toISOString(),
    publisher: server.clinic.name,
    subjectType: ['Patient'],
    item: form.definition.sections.map((section, i) => ({
      linkId: `section-${i + 1}`,
      text: section.title,
      type: 'group',
      item: section.fields.map((field) => ({
        linkId: field.key,
        text: field.label,
        type: ITEM_TYPES[field.type],
        required: field.required,
        ...(field.type === 'select' && field.options?.length ? { answerOption: field.options.map((o) => ({ valueString: o })) } : {}),
      })),
    })),
  }
}

function answer(field: IntakeField, value: string | number | boolean): Record<string, unknown> | null {
  switch (field.type) {
    case 'checkbox':
      return { valueBoolean: value === true || value === 'on' || value === 'true' }
    case 'number': {
      const n = typeof value === 'number' ? value : Number(value)
      return Number.isFinite(n) ? { valueDecimal: n } : null
    }
    case 'date':
      return typeof value === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(value) ? { valueDate: value } : null
    default: {
      const s = String(value).trim()
      return s ? { valueString: s } : null
    }
  }
}

/** The submitted answers against the version they were given on; unanswered items are left out. */
export function questionnaireResponse(server: FhirServer, ref: ReferralFacts, definition: IntakeFormDefinition, values: OpenedValues): Resource {
  const groups = definition.sections
    .map((section, i) => ({
      linkId: `section-${i + 1}`,
      text: section.title,
      item: section.fields.flatMap((field) => {
        const value = values[field.key]
        const given = value === null || value === undefined ? null : answer(field, value)
        return given ? [{ linkId: field.key, text: field.label, answer: [given] }] : []
      }),
    }))
    .filter((group) => group.item.length > 0)
  const by = requester(server, ref)
  return {
    resourceType: 'QuestionnaireResponse',
    id: ref.id,
    meta: meta(ref),
    identifier: referenceIdentifier(server, ref),
    basedOn: [{ reference: `ServiceRequest/${ref.id}` }],
    questionnaire: `${questionnaireUrl(server)}|${ref.formVersion}`,
    status: 'completed',
    subject: { reference: `Patient/${ref.id}` },
    authored: ref.receivedAt.toISOString(),
    ...(by?.display ? { author: { display: by.display } } : {}),
    item: groups,
  }
}

/** A searchset: `total` when it was counted, `next` when there is another page. */
export function searchset(server: FhirServer, page: { self: string; next: string | null; total: number | null; resources: Resource[] }): Resource {
  return {
    resourceType: 'Bundle',
    type: 'searchset',
    ...(page.total !== null ? { total: page.total } : {}),
    link: [{ relation: 'self', url: page.self }, ...(page.next ? [{ relation: 'next', url: page.next }] : [])],
    entry: page.resources.map((resource) => ({
      fullUrl: `${baseUrl(server)}/${resource.resourceType}/${resource.id}`,
      resource,
      search: { mode: 'match' },
    })),
  }
}

/*
 * The referrer and their practice, as the referral names them (decision 057): each under the
 * referral's id, like the referral's other resources. A referrer may have no account here (a
 * referral typed in by staff, or forwarded from another clinic), so there is no directory to
 * point at; what the referral says is what the clinic knows. None of it is PHI.
 */

/** The referrer named by the referral; null when it names none. */
export function practitioner(ref: ReferralFacts): Resource | null {
  const { name, billing } = referrerOf(ref)
  if (!name && !billing) return null
  return {
    resourceType: 'Practitioner',
    id: ref.id,
    meta: meta(ref),
    ...(billing ? { identifier: [billingIdentifier(billing)] } : {}),
    active: true,
    ...(name ? { name: [{ text: name }] } : {}),
  }
}

/** The referrer's practice named by the referral; null when it names none. */
export function organization(ref: ReferralFacts): Resource | null {
  const { practice } = referrerOf(ref)
  if (!practice) return null
  return { resourceType: 'Organization', id: ref.id, meta: meta(ref), active: true, name: practice }
}

/** The referrer in their practice: what ServiceRequest.requester points at; null when the referral names neither. */
export function practitionerRole(ref: ReferralFacts): Resource | null {
  const { name, practice, billing } = referrerOf(ref)
  if (!name && !billing && !practice) return null
  const phone = clearText(ref.formData, 'clinician_phone')
  const fax = clearText(ref.formData, 'clinician_fax')
  const telecom = [...(phone ? [{ system: 'phone', value: phone, use: 'work' }] : []), ...(fax ? [{ system: 'fax', value: fax, use: 'work' }] : [])]
  return {
    resourceType: 'PractitionerRole',
    id: ref.id,
    meta: meta(ref),
    active: true,
    ...(name || billing ? { practitioner: { reference: `Practitioner/${ref.id}`, ...(name ? { display: name } : {}) } } : {}),
    ...(practice ? { organization: { reference: `Organization/${ref.id}`, display: practice } } : {}),
    // Not coded: a referrer may be a physician, a nurse practitioner or another clinician.
    code: [{ text: 'Referring clinician' }],
    ...(telecom.length ? { telecom } : {}),
  }
}

/** A referral's document as the clinic holds it: its name is PHI (it may name the patient), so it is built only after an audited read. */
export type DocumentFacts = {
  id: string
  referralId: string
  name: string
  contentType: string
  sizeBytes: number
  createdAt: Date | string
  attachedWith: 'referral' | 'reply' | 'staff' | 'forward'
}

const ATTACHED_WITH: Record<DocumentFacts['attachedWith'], string> = {
  referral: 'Sent with the referral',
  reply: 'Sent with a reply from the referrer',
  staff: 'Attached by the clinic',
  forward: 'Came with a referral forwarded from another clinic',
}

/** A document of the referral: its content is Binary/{id}, the stored file itself. */
export function documentReference(server: FhirServer, doc: DocumentFacts): Resource {
  const created = new Date(doc.createdAt).toISOString()
  return {
    resourceType: 'DocumentReference',
    id: doc.id,
    meta: { versionId: '1', lastUpdated: created },
    status: 'current',
    description: ATTACHED_WITH[doc.attachedWith],
    subject: { reference: `Patient/${doc.referralId}` },
    date: created,
    custodian: { display: server.clinic.name },
    content: [
      {
        attachment: {
          contentType: doc.contentType,
          url: `${baseUrl(server)}/Binary/${doc.id}`,
          size: doc.sizeBytes,
          title: doc.name,
          creation: created,
        },
      },
    ],
    context: { related: [{ reference: `ServiceRequest/${doc.referralId}` }] },
  }
}
