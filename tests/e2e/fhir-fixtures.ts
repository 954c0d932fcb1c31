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
