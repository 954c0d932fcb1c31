import { describe, expect, it } from 'vitest'
import { defaultIntakeForm } from '~/intake/default-form'
import { intakeSchema } from '~/intake/form-schema'
import { readTransaction, transactionAnswers, transactionKey } from './transaction'
import { applyJsonPatch, taskMove } from './task-update'
import { task } from './resources'

const FORM_URL = 'https://app.test/clinics/c1/intake-form'
const definition = defaultIntakeForm(['Physiotherapy'])

function bundle() {
  return {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: [
      {
        fullUrl: 'urn:uuid:p',
        resource: {
          resourceType: 'Patient',
          name: [{ use: 'official', family: 'Okafor', given: ['Ada'] }],
          birthDate: '1980-02-03',
          gender: 'female',
          identifier: [{ system: 'https://fhir.infoway-inforoute.ca/NamingSystem/ca-on-patient-hcn', value: '4821-093-771-KD' }],
          telecom: [{ system: 'phone', value: '(416) 555-0123' }],
        },
        request: { method: 'POST', url: 'Patient' },
      },
      {
        fullUrl: 'urn:uuid:s',
        resource: {
          resourceType: 'ServiceRequest',
          identifier: [{ system: 'urn:oid:1.2.3', value: 'order-7' }],
          status: 'active',
          intent: 'order',
          priority: 'stat',
          code: { text: 'Physiotherapy' },
          subject: { reference: 'urn:uuid:p' },
          reasonCode: [{ text: 'Knee pain' }],
        },
        request: { method: 'POST', url: 'ServiceRequest' },
      },
      {
        fullUrl: 'urn:uuid:q',
        resource: {
          resourceType: 'QuestionnaireResponse',
          questionnaire: `${FORM_URL}|3`,
          status: 'completed',
          item: [
            {
              linkId: 'section-2',
              item: [
                { linkId: 'clinician_name', answer: [{ valueString: 'Dr. Amara' }] },
                { linkId: 'clinician_practice', answer: [{ valueString: 'Maple FHT' }] },
                { linkId: 'clinician_phone', answer: [{ valueString: '(416) 555-0199' }] },
                { linkId: 'clinician_billing_number', answer: [{ valueString: '123456' }] },
              ],
            },
            { linkId: 'consent', answer: [{ valueBoolean: true }] },
          ] as { linkId: string; item?: unknown[]; answer?: Record<string, unknown>[] }[],
        },
        request: { method: 'POST', url: 'QuestionnaireResponse' },
      },
    ],
  }
}

const where = (problems: { expression?: string[] }[]) => problems.flatMap((p) => p.expression ?? [])

describe('a transaction Bundle read as an intake form submission', () => {
  it('takes the answers from the QuestionnaireResponse and fills the rest from the Patient and ServiceRequest', () => {
    const read = readTransaction(bundle(), FORM_URL)
    if ('problems' in read) throw new Error(JSON.stringify(read.problems))
    expect(read).toMatchObject({ key: 'urn:oid:1.2.3|order-7', formVersion: 3, order: ['Patient', 'ServiceRequest', 'QuestionnaireResponse'] })
    const answered = transactionAnswers(read.entries, definition)
    if ('problems' in answered) throw new Error(JSON.stringify(answered.problems))
    expect(answered.answers).toMatchObject({
      patient_last_name: 'Okafor',
      patient_first_name: 'Ada',
      patient_dob: '1980-02-03',
      patient_sex: 'Female',
      health_card_number: '4821-093-771-KD',
      urgency: 'emergent',
      requested_service: 'Physiotherapy',
      reason: 'Knee pain',
      clinician_name: 'Dr. Amara',
      consent: 'on',
    })
    expect(intakeSchema(definition).safeParse(answered.answers).success).toBe(true)
  })

  it('refuses what it would not keep, naming the place and never a value', () => {
    const b = bundle()
    b.entry[2]!.resource.item!.push({ linkId: 'shoe_size', answer: [{ valueBoolean: true }] })
    b.entry[2]!.resource.item!.push({ linkId: 'patient_last_name', answer: [{ valueString: 'Smith' }] })
    const read = readTransaction(b, FORM_URL)
    if ('problems' in read) throw new Error('the shape is fine')
    const answered = transactionAnswers(read.entries, definition)
    expect('problems' in answered && where(answered.problems)).toEqual(['QuestionnaireResponse.item[2]', 'Patient'])
    // Neither value that disagrees is repeated back.
    for (const value of ['Smith', 'Okafor']) expect(JSON.stringify(answered)).not.toContain(value)
  })

  it('needs one Patient, ServiceRequest and QuestionnaireResponse, linked, and an identifier to retry on', () => {
    const noId = bundle()
    delete (noId.entry[1]!.resource as { identifier?: unknown }).identifier
    const r = readTransaction(noId, FORM_URL)
    expect('problems' in r && where(r.problems)).toEqual(['Bundle.identifier'])
    const other = bundle()
    other.entry[2]!.resource.questionnaire = 'https://elsewhere.test/form|3'
    other.entry[1]!.resource.subject = { reference: 'Patient/9' }
    const o = readTransaction(other, FORM_URL)
    expect('problems' in o && where(o.problems)).toEqual(['ServiceRequest.subject', 'QuestionnaireResponse.questionnaire'])
    expect(readTransaction({ resourceType: 'Bundle', type: 'batch' }, FORM_URL)).toMatchObject({ problems: [{ expression: ['Bundle.type'] }] })
  })

  it('derives the same UUID key from the same identifier', async () => {
    const a = await transactionKey('urn:oid:1.2.3|order-7')
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
    expect(await transactionKey('urn:oid:1.2.3|order-7')).toBe(a)
    expect(await transactionKey('urn:oid:1.2.3|order-8')).not.toBe(a)
  })
})

describe('a Task update read as a status move', () => {
  const server = { origin: 'https://app.test', clinic: { id: 'c1', name: 'Northside' } }
  const ref = {
    id: '7f1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d',
    referenceNumber: 'NS-1',
    status: 'accepted' as const,
    priority: 'routine' as const,
    version: 4,
    formVersion: 1,
    receivedAt: new Date('2026-12-01T10:00:00Z'),
    updatedAt: new Date('2026-12-01T11:00:00Z'),
    formData: {},
    referrerName: null,
    referrerOrganization: null,
    submittedByIntegration: null,
    submittedByIntegrationName: null,
    forwardedToName: null,
  }
  const current = task(server, ref, null)
  const system = 'https://app.test/fhir/R4/CodeSystem/referral-status-reason'

  it('a booking at an instant is the clinic’s wall clock; a decline carries its reason and category', () => {
    expect(
      taskMove(current, { ...current, status: 'in-progress', executionPeriod: { start: '2027-01-15T14:30:00Z' } }, 'accepted', system, 'America/Toronto'),
    ).toEqual({
      change: 'move',
      to: 'scheduled',
      versionId: '4',
      scheduledFor: '2027-01-15',
      scheduledTime: '09:30',
    })
    expect(
      taskMove(
        current,
        { ...current, status: 'rejected', statusReason: { text: 'Not ours', coding: [{ system, code: 'outside_scope' }] } },
        'accepted',
        system,
        'UTC',
      ),
    ).toMatchObject({ to: 'declined', reason: 'Not ours', reasonCode: 'outside_scope' })
    expect(taskMove(current, { ...current }, 'accepted', system, 'UTC')).toEqual({ change: 'none' })
  })

  it('refuses a change to anything but status, reason and period, and a business status that does not follow', () => {
    const moved = taskMove(current, { ...current, status: 'completed', priority: 'stat', owner: { display: 'Elsewhere' }, extra: 1 }, 'accepted', system, 'UTC')
    expect('problems' in moved && where(moved.problems)).toEqual(['Task.priority', 'Task.owner', 'Task.extra'])
    const stage = taskMove(current, { ...current, status: 'completed', businessStatus: { coding: [{ system: 'x', code: '4.0' }] } }, 'accepted', system, 'UTC')
    expect('problems' in stage && where(stage.problems)).toEqual(['Task.businessStatus'])
  })

  it('applies a JSON Patch to a copy; a failed test is a conflict', () => {
    const patched = applyJsonPatch(current, [
      { op: 'replace', path: '/status', value: 'completed' },
      { op: 'add', path: '/identifier/-', value: { value: 'x' } },
      { op: 'remove', path: '/owner' },
    ])
    expect(patched).toMatchObject({ result: { status: 'completed', identifier: [{}, { value: 'x' }] } })
    expect('result' in patched && 'owner' in (patched.result as object)).toBe(false)
    expect(current.status).toBe('accepted')
    expect(applyJsonPatch(current, [{ op: 'test', path: '/status', value: 'requested' }])).toMatchObject({ conflict: true })
    expect(applyJsonPatch(current, [{ op: 'replace', path: '/a/b', value: 1 }])).toMatchObject({ problems: [{ expression: ['Patch[0].path'] }] })
  })
})
