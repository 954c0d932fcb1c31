import { describe, expect, it } from 'vitest'
import { fhirProblems } from '../../tests/support/fhir-validate'
import type { ReferralStatus } from '~/db/enums'
import { defaultIntakeForm } from '~/intake/default-form'
import { capabilityStatement } from './capability'
import { BSER_BUSINESS_STATUS, WORKFLOW } from './codes'
import { operationOutcome } from './outcome.server'
import {
  documentReference,
  organization,
  patient,
  practitioner,
  practitionerRole,
  questionnaire,
  questionnaireResponse,
  searchset,
  serviceRequest,
  task,
  versionOfQuestionnaireId,
  type FhirServer,
  type ReferralFacts,
} from './resources'

const server: FhirServer = { origin: 'https://intake.example.org', clinic: { id: '0b6c1f0e-3c1a-4f3e-9c1d-111111111111', name: 'Northside Clinic' } }
const definition = defaultIntakeForm(['Physiotherapy'])
const ref = (over: Partial<ReferralFacts> = {}): ReferralFacts => ({
  id: '6f1c2b7a-9d3e-4a8b-b1c2-222222222222',
  referenceNumber: 'NS-000123',
  status: 'received',
  priority: 'emergent',
  version: 3,
  formVersion: 1,
  receivedAt: new Date('2026-11-30T14:00:00Z'),
  updatedAt: new Date('2026-12-01T09:30:00Z'),
  // Stored form data: PHI fields are ciphertext objects, the clear ones plain text.
  formData: {
    patient_last_name: { v: 1, kid: 'k', iv: 'i', ct: 'c' },
    clinician_name: 'Dr. Ada Moss',
    clinician_practice: 'Moss Family Practice',
    clinician_billing_number: '123456',
    requested_service: 'Physiotherapy',
  },
  referrerName: null,
  referrerOrganization: null,
  submittedByIntegration: null,
  submittedByIntegrationName: null,
  forwardedToName: null,
  ...over,
})
const values = {
  patient_first_name: 'Mary',
  patient_last_name: 'Major',
  patient_dob: '1980-02-03',
  patient_sex: 'Female',
  health_card_number: '1234567890AB',
  patient_phone: '(416) 555-0123',
  patient_email: 'mary@example.org',
  patient_address: '1 Main St',
  clinician_name: 'Dr. Ada Moss',
  clinician_practice: 'Moss Family Practice',
  clinician_phone: '(416) 555-0100',
  clinician_billing_number: '123456',
  reason: 'Knee pain after a fall',
  urgency: 'emergent',
  requested_service: 'Physiotherapy',
  consent: true,
}

describe('FHIR resources from a referral', () => {
  it('a ServiceRequest read carries the reason; in a search it is SUBSETTED and carries no PHI', async () => {
    const read = serviceRequest(server, ref(), values)
    expect(read).toMatchObject({
      status: 'active',
      intent: 'order',
      priority: 'stat',
      subject: { reference: `Patient/${ref().id}` },
      authoredOn: '2026-11-30T14:00:00.000Z',
      requester: { display: 'Dr. Ada Moss, Moss Family Practice', identifier: { value: '123456' } },
      reasonCode: [{ text: 'Knee pain after a fall' }],
      supportingInfo: [{ reference: `QuestionnaireResponse/${ref().id}` }],
      code: { text: 'Physiotherapy' },
    })
    expect(await fhirProblems(read)).toEqual([])
    const listed = serviceRequest(server, ref())
    expect(listed.reasonCode).toBeUndefined()
    expect((listed.meta as { tag: { code: string }[] }).tag[0]!.code).toBe('SUBSETTED')
    expect(JSON.stringify(listed)).not.toMatch(/Major|Mary|"ct"/)
    expect(await fhirProblems(listed)).toEqual([])
  })

  it('every status maps to a Task status and a BSeR business status, and each validates', async () => {
    const seen: Record<string, [string, string, string]> = {}
    for (const status of Object.keys(WORKFLOW) as ReferralStatus[]) {
      const t = task(
        server,
        ref({ status, forwardedToName: status === 'forwarded' ? 'Lakeview' : null }),
        status === 'declined' ? { to: 'declined', code: 'criteria_not_met' } : null,
      )
      const business = t.businessStatus as { coding: { system: string; code: string }[] }
      expect(business.coding[0]!.system).toBe(BSER_BUSINESS_STATUS)
      seen[status] = [t.status as string, business.coding[0]!.code, serviceRequest(server, ref({ status })).status as string]
      expect(await fhirProblems(t), status).toEqual([])
    }
    expect(seen).toEqual({
      received: ['requested', '2.0', 'active'],
      in_review: ['received', '2.0', 'active'],
      info_requested: ['on-hold', '2.0', 'active'],
      accepted: ['accepted', '3.0', 'active'],
      scheduled: ['in-progress', '5.1.1', 'active'],
      closed: ['completed', '7.0', 'completed'],
      declined: ['rejected', '4.0', 'revoked'],
      cancelled: ['cancelled', '6.0', 'revoked'],
      forwarded: ['cancelled', '6.0', 'revoked'],
    })
  })

  it('statusReason: the decline or cancel category, "Not given" without one, where a forward went', () => {
    const declined = task(server, ref({ status: 'declined' }), { to: 'declined', code: 'criteria_not_met' })
    expect(declined.statusReason).toMatchObject({
      coding: [{ code: 'criteria_not_met', display: 'Referral criteria not met' }],
      text: 'Referral criteria not met',
    })
    expect(task(server, ref({ status: 'cancelled' }), null).statusReason).toEqual({ text: 'Not given' })
    // A reason of an earlier move (declined, reopened, cancelled) is not this one's.
    expect(task(server, ref({ status: 'cancelled' }), { to: 'declined', code: 'duplicate' }).statusReason).toEqual({ text: 'Not given' })
    expect(task(server, ref({ status: 'forwarded', forwardedToName: 'Lakeview' }), null).statusReason).toEqual({ text: 'Forwarded to Lakeview' })
    expect(task(server, ref({ status: 'accepted' }), null).statusReason).toBeUndefined()
  })

  it('a Patient from the decrypted values, the health card as an Ontario identifier', async () => {
    const p = patient(server, ref(), definition, values)
    expect(p).toMatchObject({
      identifier: [{ system: 'https://fhir.infoway-inforoute.ca/NamingSystem/ca-on-patient-hcn', value: '1234567890AB' }],
      name: [{ family: 'Major', given: ['Mary'] }],
      gender: 'female',
      birthDate: '1980-02-03',
      telecom: [
        { system: 'phone', value: '(416) 555-0123' },
        { system: 'email', value: 'mary@example.org' },
      ],
    })
    expect(await fhirProblems(p)).toEqual([])
    // A form without the optional fields still gives a valid Patient.
    expect(await fhirProblems(patient(server, ref(), definition, { patient_last_name: 'Major' }))).toEqual([])
  })

  it('the intake form as a Questionnaire, and the answers as its QuestionnaireResponse', async () => {
    const q = questionnaire(server, { version: 1, definition, publishedAt: new Date('2026-01-01T00:00:00Z'), current: true })
    expect(q).toMatchObject({ id: 'intake-1', version: '1', status: 'active', url: `${server.origin}/clinics/${server.clinic.id}/intake-form` })
    expect(await fhirProblems(q)).toEqual([])
    const qr = questionnaireResponse(server, ref(), definition, values)
    expect(qr.questionnaire).toBe(`${server.origin}/clinics/${server.clinic.id}/intake-form|1`)
    const items = (qr.item as { item: { linkId: string; answer: Record<string, unknown>[] }[] }[]).flatMap((g) => g.item)
    expect(items.find((i) => i.linkId === 'patient_dob')!.answer).toEqual([{ valueDate: '1980-02-03' }])
    expect(items.find((i) => i.linkId === 'consent')!.answer).toEqual([{ valueBoolean: true }])
    // Unanswered items are left out (an item with neither answer nor items is not a response).
    expect(items.find((i) => i.linkId === 'history')).toBeUndefined()
    expect(await fhirProblems(qr)).toEqual([])
    expect(versionOfQuestionnaireId('intake-12')).toBe(12)
    expect(['intake-0', 'intake-x', '12', 'intake-1/../2', undefined].map(versionOfQuestionnaireId)).toEqual([null, null, null, null, null])
  })

  it('a searchset, the CapabilityStatement and an OperationOutcome validate', async () => {
    const bundle = searchset(server, {
      self: 'https://x/fhir/R4/Task',
      next: 'https://x/fhir/R4/Task?_cursor=a',
      total: 1,
      resources: [task(server, ref(), null)],
    })
    expect(bundle).toMatchObject({ type: 'searchset', total: 1, link: [{ relation: 'self' }, { relation: 'next' }] })
    expect(await fhirProblems(bundle)).toEqual([])
    expect(await fhirProblems(capabilityStatement({ base: `${server.origin}/fhir/R4` }))).toEqual([])
    // The validators do see a broken one: a code outside its value set, a missing required element.
    expect(await fhirProblems({ ...task(server, ref(), null), status: 'waiting' })).not.toEqual([])
    expect(await fhirProblems({ ...serviceRequest(server, ref()), intent: undefined })).not.toEqual([])
    expect(await fhirProblems(operationOutcome(400, [{ diagnostics: 'status: one of …', expression: ['status'] }]))).toEqual([])
  })
})

describe('the referrer, their practice and the documents (decision 057)', () => {
  it('names the referrer and practice as the referral does, under its id, and validates', async () => {
    const r = ref({ formData: { ...ref().formData, clinician_phone: '(416) 555-0100' } })
    const role = practitionerRole(r)!
    expect(role).toMatchObject({
      resourceType: 'PractitionerRole',
      id: r.id,
      practitioner: { reference: `Practitioner/${r.id}`, display: 'Dr. Ada Moss' },
      organization: { reference: `Organization/${r.id}`, display: 'Moss Family Practice' },
      telecom: [{ system: 'phone', value: '(416) 555-0100' }],
    })
    expect(practitioner(r)).toMatchObject({ name: [{ text: 'Dr. Ada Moss' }], identifier: [{ value: '123456' }] })
    expect(organization(r)).toMatchObject({ name: 'Moss Family Practice' })
    expect(serviceRequest(server, r)).toMatchObject({ requester: { reference: `PractitionerRole/${r.id}` } })
    for (const resource of [role, practitioner(r), organization(r)]) expect(await fhirProblems(resource)).toEqual([])
  })

  it('a referral typed in by staff names the referrer they typed; one naming none has none', () => {
    const typed = ref({ formData: {}, referrerName: 'Dr. Faxed', referrerOrganization: 'Fax Clinic' })
    expect(practitioner(typed)).toMatchObject({ name: [{ text: 'Dr. Faxed' }] })
    expect(organization(typed)).toMatchObject({ name: 'Fax Clinic' })
    const none = ref({ formData: {} })
    expect([practitioner(none), organization(none), practitionerRole(none)]).toEqual([null, null, null])
    expect(serviceRequest(server, none).requester).toBeUndefined()
  })

  it('an EHR system’s referral naming no clinician is requested by the system: a Device by its registration, valid R4', async () => {
    const integration = '5d0e8c3a-7b2f-4c1d-9e8f-333333333333'
    const sent = ref({ formData: {}, submittedByIntegration: integration, submittedByIntegrationName: 'Northside EHR' })
    const order = serviceRequest(server, sent)
    expect(order.requester).toEqual({
      type: 'Device',
      identifier: { system: `${server.origin}/clinics/${server.clinic.id}/ehr-integrations`, value: integration },
      display: 'Northside EHR',
    })
    expect(await fhirProblems(order)).toEqual([])
    expect(questionnaireResponse(server, sent, definition, values)).toMatchObject({ author: { display: 'Northside EHR' } })
    // A clinician named in the form is still the requester: the person who referred.
    const named = ref({ submittedByIntegration: integration, submittedByIntegrationName: 'Northside EHR' })
    expect(serviceRequest(server, named).requester).toMatchObject({ reference: `PractitionerRole/${named.id}` })
  })

  it('a document points at its file and its referral; the order lists it after the answers', async () => {
    const doc = documentReference(server, {
      id: '7a1c2b7a-9d3e-4a8b-b1c2-333333333333',
      referralId: ref().id,
      name: 'scan.pdf',
      contentType: 'application/pdf',
      sizeBytes: 2048,
      createdAt: '2026-12-01T10:00:00.000Z',
      attachedWith: 'staff',
    })
    expect(doc).toMatchObject({
      status: 'current',
      subject: { reference: `Patient/${ref().id}` },
      content: [{ attachment: { url: `${server.origin}/fhir/R4/Binary/7a1c2b7a-9d3e-4a8b-b1c2-333333333333`, title: 'scan.pdf', size: 2048 } }],
      context: { related: [{ reference: `ServiceRequest/${ref().id}` }] },
    })
    expect(await fhirProblems(doc)).toEqual([])
    expect(serviceRequest(server, ref(), values, [doc.id!]).supportingInfo).toEqual([
      { reference: `QuestionnaireResponse/${ref().id}` },
      { reference: `DocumentReference/${doc.id}` },
    ])
  })
})
