/**
 * What the FHIR specs check on every answer: FHIR JSON, valid R4 by both validators
 * (tests/support/fhir-validate.ts), the status expected; an error's OperationOutcome with its issue
 * code and nothing internal in it.
 */
import { randomUUID } from 'node:crypto'
import type { APIRequestContext, APIResponse } from '@playwright/test'
import { fhirProblems } from '../support/fhir-validate'
import { APP_URL, bearer, expect, LEAKS, referralBody, token, uniquePatient } from './fixtures'

export type Json = Record<string, unknown> & { resourceType: string }
export type Outcome = Json & { issue: { code: string; diagnostics: string; expression?: string[] }[] }

/** The answer is FHIR JSON, valid R4, with the status expected. */
export async function fhir<T = Json>(response: APIResponse, status = 200): Promise<T> {
  const text = await response.text()
  expect(response.status(), text).toBe(status)
  expect(response.headers()['content-type']).toContain('application/fhir+json')
  const body = JSON.parse(text) as Json
  expect(await fhirProblems(body), text).toEqual([])
  return body as T
}

/** An OperationOutcome with the status and issue code, nothing internal in it and none of `secrets`. */
export async function outcome(response: APIResponse, status: number, code: unknown, secrets: string[] = []) {
  const body = await fhir<Outcome>(response, status)
  expect(body.resourceType).toBe('OperationOutcome')
  expect(body.issue[0]!.code).toEqual(code)
  const text = JSON.stringify(body)
  expect(text).not.toMatch(LEAKS)
  for (const secret of secrets) expect(text).not.toContain(secret)
  return body
}

/** A referral sent by referrer@northside over the API; its id and what was sent. */
export async function newReferral(request: APIRequestContext) {
  const referrer = await token('referrer@northside.test')
  const body = await referralBody(request, referrer)
  const created = await request.post('/api/v1/referrals', { headers: { ...bearer(referrer), 'Idempotency-Key': randomUUID() }, data: body })
  expect(created.status(), await created.text()).toBe(201)
  return { id: (await created.json()).data.id as string, body }
}

/** The fullUrls of a transaction Bundle's three resources, as transactionBundle gives them. */
export const FULL_URLS = {
  Patient: 'urn:uuid:1b0c1f47-3b6b-4a8e-9c43-4b0b8d1d0001',
  ServiceRequest: 'urn:uuid:1b0c1f47-3b6b-4a8e-9c43-4b0b8d1d0002',
  QuestionnaireResponse: 'urn:uuid:1b0c1f47-3b6b-4a8e-9c43-4b0b8d1d0003',
} as const

type Parts = {
  patient?: Record<string, unknown>
  serviceRequest?: Record<string, unknown>
  /** At least its questionnaire (`url|version`) and items. */
  questionnaireResponse: Record<string, unknown>
  identifier?: { system: string; value: string }
  ifNoneExist?: string
  /** Entries after the three (DocumentReferences and Binaries, or what a test means to be refused). */
  more?: unknown[]
}

/**
 * A transaction Bundle (docs/decisions/056-fhir-writes.md) as an EHR builds one: a Patient, a
 * ServiceRequest (active order, subject the Patient) and a completed QuestionnaireResponse,
 * each POSTed, with what the test gives merged in.
 */
export function transactionBundle(parts: Parts) {
  const post = (url: string, more: Record<string, unknown> = {}) => ({ method: 'POST', url, ...more })
  return {
    resourceType: 'Bundle' as const,
    type: 'transaction',
    ...(parts.identifier && { identifier: parts.identifier }),
    entry: [
      { fullUrl: FULL_URLS.Patient, resource: { resourceType: 'Patient', ...parts.patient }, request: post('Patient') },
      {
        fullUrl: FULL_URLS.ServiceRequest,
        resource: { resourceType: 'ServiceRequest', status: 'active', intent: 'order', subject: { reference: FULL_URLS.Patient }, ...parts.serviceRequest },
        request: post('ServiceRequest', parts.ifNoneExist ? { ifNoneExist: parts.ifNoneExist } : {}),
      },
      {
        fullUrl: FULL_URLS.QuestionnaireResponse,
        resource: { resourceType: 'QuestionnaireResponse', status: 'completed', ...parts.questionnaireResponse },
        request: post('QuestionnaireResponse'),
      },
      ...(parts.more ?? []),
    ],
  }
}

/** A QuestionnaireResponse's questionnaire and items answering every required field of the clinic's current form (values that are PHI-shaped, not real). */
export async function requiredAnswers(request: APIRequestContext, headers: Record<string, string>) {
  const form = (await (await request.get('/api/v1/intake-form', { headers })).json()).data as {
    version: number
    fields: { key: string; type: string; required: boolean; options?: string[]; format?: string }[]
  }
  const { url } = (await (await request.get(`/fhir/R4/Questionnaire/intake-${form.version}`, { headers })).json()) as { url: string }
  const answer = (f: (typeof form.fields)[number]) =>
    f.format
      ? { valueString: '4821-093-771-KD' }
      : f.type === 'checkbox'
        ? { valueBoolean: true }
        : f.type === 'number'
          ? { valueDecimal: 1 }
          : f.type === 'date'
            ? { valueDate: '1980-02-03' }
            : { valueString: { phone: '(416) 555-0123', email: 'p@example.test', select: f.options?.[0] ?? '' }[f.type] ?? `PHI ${f.key}` }
  return { questionnaire: `${url}|${form.version}`, item: form.fields.filter((f) => f.required).map((f) => ({ linkId: f.key, answer: [answer(f)] })) }
}

/** A file the clinic's staff attach over the API; its document id. */
export async function attachDocument(referralId: string, name: string, bytes: string) {
  const form = new FormData()
  form.append('documents', new File([bytes], name))
  const headers = bearer(await token('staff@northside.test'))
  const sent = await fetch(`${APP_URL}/api/v1/referrals/${referralId}/documents`, { method: 'POST', headers, body: form })
  expect(sent.status, await sent.clone().text()).toBe(201)
  const listed = await fetch(`${APP_URL}/api/v1/referrals/${referralId}/documents`, { headers })
  return (await listed.json<{ data: { id: string }[] }>()).data.at(-1)!.id
}

export const FHIR_JSON = { 'Content-Type': 'application/fhir+json' }

/** The transaction Bundle the FHIR write specs send (docs/decisions/056-fhir-writes.md), as an EHR builds one. */
type Field = { key: string; type: string; required: boolean; options?: string[]; format?: string }

/** What a field gets when the test has nothing better for it (as the API fixture's referralBody). */
function sample(field: Field): unknown {
  if (field.format) return unique.card
  return (
    { date: '1980-02-03', phone: '(416) 555-0123', email: 'p@example.test', number: 1, checkbox: true, select: field.options?.[0] ?? '' }[field.type] ??
    `FHIR ${field.key}`
  )
}
let unique = uniquePatient()

function answer(field: Field, value: unknown) {
  if (field.type === 'checkbox') return { valueBoolean: value === true }
  if (field.type === 'number') return { valueDecimal: Number(value) }
  if (field.type === 'date') return { valueDate: String(value) }
  return { valueString: String(value) }
}

/** The Bundle as the tests change it (one shape for its three kinds of entry). */
type Entry = {
  fullUrl: string
  resource: {
    resourceType: string
    identifier?: { system: string; value: string }[]
    name?: unknown[]
    status?: string
    priority?: string
    subject?: { reference: string }
    questionnaire?: string
    item?: { linkId: string; item: { linkId: string; answer: unknown[] }[] }[]
  }
  request: { method: string; url: string; ifNoneExist?: string }
}
export type TransactionBundle = { resourceType: 'Bundle'; type: string; identifier?: unknown; entry: Entry[] }

/** The fields the Patient and ServiceRequest carry in this Bundle (the answers leave them out). */
const CARRIED = ['patient_last_name', 'patient_first_name', 'patient_dob', 'health_card_number', 'urgency', 'reason']

/**
 * A transaction Bundle for the clinic's current form, as an EHR would build it: the patient in
 * the Patient, the urgency and reason in the ServiceRequest, the rest answered in the
 * QuestionnaireResponse against the Questionnaire read over FHIR.
 */
export async function newBundle(request: APIRequestContext, access: string, order: string = randomUUID()) {
  unique = uniquePatient()
  const form = (await (await request.get('/api/v1/intake-form', { headers: bearer(access) })).json()).data as { version: number; fields: Field[] }
  const questionnaire = await fhir<Json & { url: string; version: string }>(
    await request.get(`/fhir/R4/Questionnaire/intake-${form.version}`, { headers: bearer(access) }),
  )
  const values: Record<string, unknown> = {}
  for (const field of form.fields) if (field.required) values[field.key] = sample(field)
  Object.assign(values, {
    patient_first_name: unique.first,
    patient_last_name: unique.last,
    patient_dob: unique.dob,
    health_card_number: unique.card,
    urgency: 'urgent',
    reason: `Knee pain after a fall (${unique.last})`,
  })
  const items = form.fields
    .filter((f) => values[f.key] !== undefined && !CARRIED.includes(f.key))
    .map((f) => ({ linkId: f.key, answer: [answer(f, values[f.key])] }))
  const identifier = { system: 'urn:oid:2.16.840.1.113883.3.999.1', value: order }
  const bundle = transactionBundle({
    patient: {
      identifier: [{ system: 'https://fhir.infoway-inforoute.ca/NamingSystem/ca-on-patient-hcn', value: unique.card }],
      name: [{ use: 'official', family: unique.last, given: [unique.first] }],
      birthDate: unique.dob,
    },
    serviceRequest: { identifier: [identifier], priority: 'urgent', reasonCode: [{ text: values.reason }] },
    ifNoneExist: `identifier=${identifier.system}|${identifier.value}`,
    questionnaireResponse: {
      questionnaire: `${questionnaire.url}|${questionnaire.version}`,
      subject: { reference: FULL_URLS.Patient },
      basedOn: [{ reference: FULL_URLS.ServiceRequest }],
      item: [{ linkId: 'answers', item: items }],
    },
  })
  expect(await fhirProblems(bundle), 'the test sends valid R4').toEqual([])
  return { bundle: bundle as TransactionBundle, values, patient: unique }
}

export type TransactionResponse = Json & { type: string; entry: { fullUrl: string; response: { status: string; location: string } }[] }

/** Posts a Bundle; the referral's id from the response's locations (all three the same). */
export async function send(request: APIRequestContext, access: string, bundle: unknown, status = 200) {
  const response = await request.post('/fhir/R4', { headers: { ...bearer(access), ...FHIR_JSON }, data: bundle })
  const body = await fhir<TransactionResponse>(response, status)
  expect(body.type).toBe('transaction-response')
  const ids = body.entry.map((e) => e.response.location.split('/')[1]!)
  expect(new Set(ids).size).toBe(1)
  return { id: ids[0]!, body, requestId: response.headers()['x-request-id']! }
}
