/**
 * What the FHIR specs check on every answer: FHIR JSON, valid R4 by both validators
 * (tests/support/fhir-validate.ts), the status expected; an error's OperationOutcome with its issue
 * code and nothing internal in it.
 */
import { randomUUID } from 'node:crypto'
import type { APIRequestContext, APIResponse } from '@playwright/test'
import { fhirProblems } from '../support/fhir-validate'
import { bearer, expect, LEAKS, referralBody, token } from './fixtures'

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
