/** Access tokens from the local provider (the headless CLI client) and the API's error shape, for the API specs. */
import { randomUUID } from 'node:crypto'
import { expect, type APIRequestContext, type APIResponse } from '@playwright/test'
import { IDP_URL } from '../../playwright.config'
import { DEMO_TENANT_ID } from '../../scripts/lib/demo-accounts'
import { CLI_CLIENT_ID, CLI_REDIRECT_URI, getTokensFor } from '../../scripts/lib/idp-login'

export const ISSUER = `${IDP_URL}/${DEMO_TENANT_ID}/v2.0`
export const tokensFor = (email: string) => getTokensFor({ issuer: ISSUER, email, clientId: CLI_CLIENT_ID, redirectUri: CLI_REDIRECT_URI })
export const bearer = (token: string) => ({ Authorization: `Bearer ${token}` })
// Access tokens live 20 s here (+60 s skew): each test gets its own.
export const token = async (email: string) => (await tokensFor(email)).access_token

export type ApiErrorBody = { error: string; code: string; details: { fields: Record<string, string[]> } & Record<string, unknown> }

export async function expectError(response: APIResponse, status: number, code: string): Promise<ApiErrorBody> {
  expect(response.status(), await response.text()).toBe(status)
  expect(response.headers()['content-type']).toContain('application/json')
  const body = (await response.json()) as ApiErrorBody
  expect(body).toMatchObject({ code, error: expect.any(String) })
  expect(body).toHaveProperty('details')
  return body
}

/** Values for every required field of the clinic's current form (whatever its version). */
export async function referralBody(request: APIRequestContext, access: string) {
  const form = (await (await request.get('/api/v1/intake-form', { headers: bearer(access) })).json()).data
  const data: Record<string, string | boolean | number> = {}
  for (const f of form.fields as { key: string; type: string; required: boolean; options?: string[] }[]) {
    if (!f.required) continue
    data[f.key] = { date: '1980-02-03', phone: '(416) 555-0123', email: 'p@example.test', number: 1, checkbox: true, select: f.options?.[0] ?? '' }[f.type] ?? `API ${f.key}`
  }
  data.patient_last_name = `Api${randomUUID().slice(0, 8)}`
  return { formVersion: form.version as number, data }
}

/** What no error a user or client sees may carry: a stack frame, an exception's name, an SQL or network error. */
export const LEAKS = /\bat \S+ \(|\bat async\b|node_modules|\.ts:\d+|\bError:|PhiDecryptError|ECONNREFUSED|WebSocket|Neon|postgres|SELECT |decrypt/i
