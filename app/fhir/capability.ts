/**
 * GET /fhir/R4/metadata: exactly what this server does, no more. Each resource, interaction and
 * search parameter listed here has a route and a test (tests/e2e/fhir.spec.ts, tests/e2e/fhir-reads.spec.ts); the search
 * parameters are those app/fhir/search.ts accepts, and anything else is refused with 400.
 */
import type { Resource } from './resources'

const param = (name: string, type: string, definition: string | null, documentation: string) => ({
  name,
  ...(definition ? { definition: `http://hl7.org/fhir/SearchParameter/${definition}` } : {}),
  type,
  documentation,
})

const PAGING =
  'Pages: _count (1-100, default 25) and the next link; the next link carries an opaque _cursor (a keyset position, newest first). total is given while it is at most 1,000.'

/** When this statement last changed: a new resource, interaction or parameter changes it. */
export const CAPABILITY_DATE = '2026-12-02'

export function capabilityStatement(options: { base: string }): Resource {
  return {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: CAPABILITY_DATE,
    publisher: 'IntakePilot',
    kind: 'instance',
    software: { name: 'IntakePilot' },
    implementation: { description: 'IntakePilot referral intake: referrals as ServiceRequests, their workflow as Tasks', url: options.base },
    fhirVersion: '4.0.1',
    format: ['json'],
    rest: [
      {
        mode: 'server',
        documentation: `Every error is an OperationOutcome. This statement needs no token; everything else does. ${PAGING} Writes: a transaction Bundle at the base (one referral), Task updates by the clinic (and the sender’s cancel), Communications (questions and replies).`,
        security: {
          cors: true,
          service: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/restful-security-service', code: 'OAuth', display: 'OAuth' }] }],
          description:
            'The bearer access tokens of /api/v1 (Microsoft Entra ID, OAuth 2.0): a member of one clinic sees that clinic’s referrals, a referrer only their own. Another clinic’s resource is not found (404). An EHR system uses an app-only token from Entra’s client-credentials flow (scope {API app id URI}/.default): its Entra app must be registered by a clinic admin on the integrations page, which binds it to that clinic; the app role Referral.Read in its roles claim reads and searches ServiceRequest, Task, Patient, Questionnaire and QuestionnaireResponse as staff do. A revoked registration’s tokens are refused (401). GET metadata needs no token.',
        },
        resource: [
          {
            type: 'ServiceRequest',
            documentation: 'A referral. In search results it carries no PHI and is tagged SUBSETTED; a read gives the reason for referral too.',
            interaction: [{ code: 'read' }, { code: 'search-type' }],
            searchParam: [
              param('status', 'token', 'ServiceRequest-status', 'active, completed or revoked (comma for any of them).'),
              param('priority', 'token', 'ServiceRequest-priority', 'routine, urgent or stat (IntakePilot’s emergent).'),
              param('authored', 'date', 'ServiceRequest-authored', 'When the clinic received it: eq, ge, gt, le, lt; days are the clinic’s.'),
              param('_lastUpdated', 'date', 'Resource-lastUpdated', 'When it last changed: eq, ge, gt, le, lt.'),
              param(
                'patient',
                'reference',
                'clinical-patient',
                'Only chained as patient.identifier (the health card number), and only posted to ServiceRequest/_search as a form, never in a URL. Staff only.',
              ),
            ],
          },
          {
            type: 'Task',
            documentation:
              'The referral’s workflow at the clinic: status per FHIR, businessStatus per HL7 BSeR (http://hl7.org/fhir/us/bser/CodeSystem/TaskBusinessStatusCS), statusReason for a decline or cancel. The clinic’s staff update it (PUT of the Task, or PATCH as application/json-patch+json) to move the referral as its page does: status received, on-hold, accepted, in-progress (executionPeriod.start: the appointment), completed or rejected (statusReason.text: the reason the referrer reads; a coding of …/CodeSystem/referral-status-reason: its category); businessStatus follows status; nothing else may change. A move the workflow forbids is 422; If-Match or meta.versionId, when given, must be the current version (412, 409). Only the referrer who sent a referral cancels it (status cancelled, statusReason.text: the reason the clinic reads; their token makes no other update, 403); the clinic declines it.',
            interaction: [{ code: 'read' }, { code: 'update' }, { code: 'patch' }, { code: 'search-type' }],
            versioning: 'versioned',
            conditionalUpdate: false,
            searchParam: [
              param('focus', 'reference', 'Task-focus', 'ServiceRequest/{id}.'),
              param('status', 'token', 'Task-status', 'requested, received, accepted, rejected, in-progress, on-hold, cancelled or completed.'),
              param('business-status', 'token', 'Task-business-status', 'A BSeR code: 2.0, 3.0, 4.0, 5.1.1, 6.0, 7.0.'),
              param('_lastUpdated', 'date', 'Resource-lastUpdated', 'When it last changed: eq, ge, gt, le, lt.'),
            ],
          },
          { type: 'Patient', documentation: 'The patient a referral names (its id is the referral’s). Each read is audited.', interaction: [{ code: 'read' }] },
          { type: 'Questionnaire', documentation: 'A published version of the clinic’s intake form: intake-{version}.', interaction: [{ code: 'read' }] },
          {
            type: 'Communication',
            documentation:
              'A referral’s questions from the clinic and the referrer’s replies (staff notes are not shared). Searched by the referral only (based-on=ServiceRequest/{id}); each read is audited. A referrer posts a reply (inResponseTo: the question), staff a question, as text (payload.contentString, up to 4,000 characters).',
            interaction: [{ code: 'read' }, { code: 'create' }, { code: 'search-type' }],
            searchParam: [param('based-on', 'reference', 'Communication-based-on', 'ServiceRequest/{id}: required.')],
          },
          {
            type: 'QuestionnaireResponse',
            documentation: 'A referral’s answers (its id is the referral’s). Each read is audited.',
            interaction: [{ code: 'read' }],
          },
          {
            type: 'Practitioner',
            documentation: 'The referrer as a referral names them (its id is the referral’s), with their billing number when given.',
            interaction: [{ code: 'read' }],
          },
          {
            type: 'PractitionerRole',
            documentation: 'The referrer at their practice, as a referral names them (its id is the referral’s): what ServiceRequest.requester points at.',
            interaction: [{ code: 'read' }],
          },
          {
            type: 'Organization',
            documentation: 'The referrer’s practice as a referral names it (its id is the referral’s).',
            interaction: [{ code: 'read' }],
          },
          {
            type: 'DocumentReference',
            documentation:
              'A document of a referral (ServiceRequest.supportingInfo lists them); its content is Binary/{id}. The title is the file’s name. Each read and search is audited. Written only in the transaction that sends its referral: status current, subject the Patient’s fullUrl, context.related the ServiceRequest’s, one content whose attachment has contentType and data (base64), or url naming a Binary entry of the Bundle (contentType, data); title is the file’s name. Taken as the intake form takes files: PDF, JPEG, PNG, TIFF or plain text as the bytes say (a contentType they do not bear out is 422), at most 10 MB each, 50 MB and 50 files a referral, or the clinic’s lower limits; the Bundle itself at most 16 MB (413), so about 12 MB of documents. All kept with the referral or none.',
            interaction: [{ code: 'read' }, { code: 'search-type' }],
            searchParam: [
              param('related', 'reference', 'DocumentReference-related', 'ServiceRequest/{id}: every document of that referral, on one page.'),
              param('patient', 'reference', 'clinical-patient', 'Patient/{id}: the same, by the referral’s patient.'),
              param('subject', 'reference', 'DocumentReference-subject', 'Patient/{id}: as patient.'),
            ],
          },
          {
            type: 'Binary',
            documentation:
              'A document’s stored file, served as itself in its own content type (not as a Binary resource: an Accept of FHIR JSON alone is 406). Each read is audited as a download.',
            interaction: [{ code: 'read' }],
          },
          {
            type: 'AuditEvent',
            documentation:
              'The clinic’s audit trail for its admins, each row as the NDJSON export writes it, newest first. total is not given; the next link carries an opaque _cursor.',
            interaction: [{ code: 'read' }, { code: 'search-type' }],
            searchParam: [
              param('date', 'date', 'AuditEvent-date', 'When it was recorded: eq, ge, gt, le, lt; days are the clinic’s.'),
              param('subtype', 'token', 'AuditEvent-subtype', 'An IntakePilot action (urn:intakepilot:audit-action), e.g. referral.read.'),
              param('outcome', 'token', 'AuditEvent-outcome', '0 (success), 4 (refused) or 8 (error).'),
            ],
          },
        ],
        interaction: [
          {
            code: 'transaction',
            documentation:
              'A referral sent by its referrer: one Patient, one ServiceRequest (status active, intent order, subject the Patient) and one QuestionnaireResponse (questionnaire: the clinic’s intake form url|version) each POSTed, and the referral’s documents as DocumentReferences (see that resource), each with its Binary or its bytes inline. The answers are the form; the Patient and ServiceRequest fill the fields they carry (name, birth date, health card, contact; priority, code, reasonCode) and must agree with any answer given. Checked as the intake form is. Idempotent on the ServiceRequest identifier (or entry.request.ifNoneExist identifier=system|value, or Bundle.identifier): a repeat gives the first referral back (200 OK entries). Errors name the element, never a value sent.',
          },
        ],
      },
    ],
  }
}
