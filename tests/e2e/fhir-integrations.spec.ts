/**
 * EHR systems with app-only tokens (docs/decisions/058-ehr-integrations-app-only-tokens.md), over
 * real HTTP against the built app in workerd: the local provider's client-credentials grant (as
 * Entra's), a clinic admin registering the app on the integrations page, the FHIR reads and the
 * API under that integration's own actor, its audit rows, and a revoke that refuses its tokens at
 * once. Every FHIR answer, errors included, is checked by two validators (tests/support/fhir-validate.ts).
 */
import { execFile } from 'node:child_process'
import { randomBytes, randomUUID } from 'node:crypto'
import { promisify } from 'node:util'
import type { APIRequestContext, Page } from '@playwright/test'
import { and, eq } from 'drizzle-orm'
import { auditLogs, ehrIntegrations, referrals } from '../../app/db/schema'
import { DEMO_TENANT_ID } from '../../scripts/lib/demo-accounts'
import { getAppToken } from '../../scripts/lib/idp-login'
import {
  auditOfRequest,
  bearer,
  clinicBySlug,
  E2E,
  expect,
  go,
  IDP_URL,
  ISSUER,
  referralBody,
  test,
  token,
  type Owner,
  spareRateLimits,
  FHIR_ACCOUNTS,
} from './fixtures'
import { fhirProblems } from '../support/fhir-validate'
import { fhir, outcome, type Json } from './fhir-fixtures'

type Bundle = Json & { total?: number; entry?: { resource: Json & { id: string; status?: string } }[] }

type App = { clientId: string; clientSecret: string }

/** An EHR's app registered at the provider with these app roles, as a tenant admin does in Entra. */
async function appAtProvider(roles: string[]): Promise<App> {
  const app = { clientId: `ehr-${randomUUID()}`, clientSecret: randomBytes(24).toString('base64url') }
  const response = await fetch(`${IDP_URL}/__dev/apps`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ ...app, roles: roles.join(' ') }),
  })
  expect(response.status, await response.text()).toBe(200)
  return app
}

const appToken = async (app: App) => (await getAppToken({ issuer: ISSUER, ...app })).access_token

/** The clinic admin registers the app on the integrations page, ticking what it may do. */
async function registerOnPage(page: Page, app: App, name: string, options: { read?: boolean; submit?: boolean } = { read: true }) {
  await go(page, '/admin/integrations')
  const section = page.getByRole('region', { name: 'EHR systems' })
  await section.getByLabel('Name').fill(name)
  await section.getByLabel(/Application \(client\) ID/).fill(app.clientId)
  await expect(section.getByLabel(/Directory \(tenant\) ID/)).toHaveValue(DEMO_TENANT_ID)
  await section.getByLabel(/Referral\.Read/).setChecked(!!options.read)
  await section.getByLabel(/Referral\.Submit/).setChecked(!!options.submit)
  await section.getByRole('button', { name: 'Register EHR system' }).click()
}

/** A referral sent by referrer@<clinic> over the API. */
async function newReferral(request: APIRequestContext, clinic = 'northside') {
  const referrer = await token(`referrer@${clinic}.test`)
  const created = await request.post('/api/v1/referrals', {
    headers: { ...bearer(referrer), 'Idempotency-Key': randomUUID() },
    data: await referralBody(request, referrer),
  })
  expect(created.status(), await created.text()).toBe(201)
  return (await created.json()).data.id as string
}

const integrationNamed = async (owner: Owner, clientId: string) => (await owner.select().from(ehrIntegrations).where(eq(ehrIntegrations.clientId, clientId)))[0]

test.describe('EHR integrations: app-only tokens', () => {
  test.beforeEach(({ owner }) => spareRateLimits(owner, FHIR_ACCOUNTS))

  // Loading the validators' definitions blocks this worker for seconds: done before any request.
  test.beforeAll(async () => {
    expect(await fhirProblems({ resourceType: 'Basic', code: { text: 'warm-up' } })).toEqual([])
  })

  test('registered by a clinic admin, an EHR reads its clinic through FHIR as an actor of its own; revoked, its token is refused at once', async ({
    request,
    owner,
    signedInAs,
  }) => {
    const app = await appAtProvider(['Referral.Read', 'Referral.Submit'])
    const id = await newReferral(request)
    const lakeviewId = await newReferral(request, 'lakeview')

    // Not registered with any clinic: a valid token of a known app is still refused.
    const unregistered = await outcome(await request.get('/fhir/R4/Task', { headers: bearer(await appToken(app)) }), 401, 'login')
    expect(unregistered.issue[0]!.diagnostics).not.toContain(app.clientId)

    const admin = await signedInAs('admin@northside.test', '/admin/integrations')
    await registerOnPage(admin, app, 'Front desk EHR')
    await expect(admin.getByText('Front desk EHR is registered.')).toBeVisible()
    const listed = admin.getByRole('region', { name: 'EHR systems' }).getByRole('listitem').filter({ hasText: 'Front desk EHR' })
    await expect(listed).toContainText('Active, reads referrals')
    await expect(listed).toContainText(app.clientId)
    const registered = (await integrationNamed(owner, app.clientId))!
    const northside = await clinicBySlug(owner, 'northside')
    expect(registered).toMatchObject({ clinicId: northside.id, roles: ['Referral.Read'], status: 'active', idpTenantId: DEMO_TENANT_ID })

    const headers = bearer(await appToken(app))
    // Who it is: the integration, its clinic, and only what its registration allows (Read, not the token's Submit too).
    const me = await request.get('/api/v1/me', { headers })
    expect(me.status(), await me.text()).toBe(200)
    expect((await me.json()).data).toMatchObject({
      id: registered.id,
      role: 'integration',
      displayName: 'Front desk EHR',
      clinicId: northside.id,
      appRoles: ['Referral.Read'],
      permissions: ['read:referral:any', 'read:intake-form:any'],
    })

    // Searches: the clinic's referrals and Tasks, one referral.list row naming the integration as actor.
    const search = await request.get('/fhir/R4/ServiceRequest?_count=5', { headers })
    const page = await fhir<Bundle>(search)
    expect(page).toMatchObject({ resourceType: 'Bundle', type: 'searchset' })
    expect(page.entry!.length).toBe(5)
    const listRows = await auditOfRequest(owner, search.headers()['x-request-id']!)
    expect(listRows.map((r) => [r.action, r.actorId, r.actorRole, r.clinicId])).toEqual([['referral.list', registered.id, 'integration', northside.id]])
    const tasks = await fhir<Bundle>(await request.get(`/fhir/R4/Task?focus=ServiceRequest/${id}`, { headers }))
    expect(tasks.entry!.map((e) => e.resource.id)).toEqual([id])

    // Reads: the ServiceRequest (PHI: audited as a read by the integration), the Task, the Patient.
    const read = await request.get(`/fhir/R4/ServiceRequest/${id}`, { headers })
    expect((await fhir<Json & { id: string }>(read)).id).toBe(id)
    const readRows = (await auditOfRequest(owner, read.headers()['x-request-id']!)).filter((r) => r.action !== 'record.write')
    expect(readRows.map((r) => [r.action, r.entityId, r.actorId, r.actorRole, r.outcome])).toEqual([
      ['referral.read', id, registered.id, 'integration', 'success'],
    ])
    expect((await fhir<Json>(await request.get(`/fhir/R4/Task/${id}`, { headers }))).resourceType).toBe('Task')
    expect((await fhir<Json>(await request.get(`/fhir/R4/Patient/${id}`, { headers }))).resourceType).toBe('Patient')
    // A system's read marks nothing opened: turnaround counts people.
    const [row] = await owner.select({ firstOpenedAt: referrals.firstOpenedAt }).from(referrals).where(eq(referrals.id, id))
    expect(row!.firstOpenedAt).toBeNull()
    // The API's list and record answer it too.
    const apiList = await request.get('/api/v1/referrals', { headers })
    expect(apiList.status(), await apiList.text()).toBe(200)
    expect((await request.get(`/api/v1/referrals/${id}`, { headers })).status()).toBe(200)

    // Bound to its clinic: another clinic's referral is not found, and the miss is recorded as the integration's.
    const stranger = await request.get(`/fhir/R4/ServiceRequest/${lakeviewId}`, { headers })
    await outcome(stranger, 404, 'not-found')
    const strangerRows = await auditOfRequest(owner, stranger.headers()['x-request-id']!)
    expect(strangerRows.map((r) => [r.action, r.actorId, r.outcome, r.clinicId])).toEqual([['referral.read', registered.id, 'denied', northside.id]])
    await outcome(await request.get(`/fhir/R4/Task/${lakeviewId}`, { headers }), 404, 'not-found')
    // What its roles do not allow: the clinic's audit trail, a person's submission (recorded 403s).
    expect((await request.get('/api/v1/audit-logs', { headers })).status()).toBe(403)
    const submitted = await request.post('/api/v1/referrals', { headers: { ...headers, 'Idempotency-Key': randomUUID() }, data: { formVersion: 1, data: {} } })
    expect(submitted.status()).toBe(403)

    // The clinic's audit viewer names it, by its registration's name and as an integration.
    await go(admin, `/admin/audit?actor=${registered.id}`)
    const byIt = admin.getByRole('row').filter({ hasText: 'referral.read' }).first()
    await expect(byIt).toContainText('Front desk EHR')
    await expect(byIt).toContainText('integration')

    // Revoked on the page: the same, unexpired token is refused on its next request.
    await go(admin, '/admin/integrations')
    await admin.getByRole('button', { name: 'Revoke: Front desk EHR' }).click()
    await expect(admin.getByText('Revoked: its tokens are refused from now on.')).toBeVisible()
    await expect(admin.getByRole('region', { name: 'EHR systems' }).getByRole('listitem').filter({ hasText: 'Front desk EHR' })).toContainText('Revoked')
    const refused = await request.get('/fhir/R4/ServiceRequest?_count=1', { headers })
    await outcome(refused, 401, 'login')
    expect(refused.headers()['www-authenticate']).toContain('invalid_token')
    expect((await request.get('/api/v1/me', { headers })).status()).toBe(401)
    // The registration and the revoke are in the clinic's trail, as the admin's.
    const trail = await owner
      .select()
      .from(auditLogs)
      .where(and(eq(auditLogs.entityType, 'integration'), eq(auditLogs.entityId, registered.id)))
    expect(trail.every((r) => r.actorRole === 'admin' && r.clinicId === northside.id)).toBe(true)
    expect(trail.map((r) => r.action).sort()).toEqual(['integration.create', 'integration.revoke'])
  })

  test('an app may use only the roles both Entra granted and its registration allows; a token without one is refused in words', async ({
    request,
    signedInAs,
  }) => {
    // Entra granted Submit only; the clinic allows Read only: nothing in common.
    const submitOnly = await appAtProvider(['Referral.Submit'])
    const admin = await signedInAs('admin@northside.test', '/admin/integrations')
    await registerOnPage(admin, submitOnly, 'Submit-only EHR')
    await expect(admin.getByText('Submit-only EHR is registered.')).toBeVisible()
    const none = await outcome(await request.get('/fhir/R4/Task', { headers: bearer(await appToken(submitOnly)) }), 403, 'forbidden')
    expect(none.issue[0]!.diagnostics).toMatch(/app role/)

    // Submit on both sides: it may not read referrals (a recorded 403, in FHIR's shape).
    const sender = await appAtProvider(['Referral.Read', 'Referral.Submit'])
    await registerOnPage(admin, sender, 'Sending EHR', { submit: true })
    await expect(admin.getByText('Sending EHR is registered.')).toBeVisible()
    const headers = bearer(await appToken(sender))
    await outcome(await request.get('/fhir/R4/ServiceRequest', { headers }), 403, 'forbidden')
    await outcome(await request.get(`/fhir/R4/Task/${randomUUID()}`, { headers }), 403, 'forbidden')
    const form = await request.get('/api/v1/intake-form', { headers })
    expect(form.status(), await form.text()).toBe(200)
  })

  test('the register form refuses bad input next to its fields, and one app cannot serve two clinics', async ({ owner, signedInAs }) => {
    // Without JavaScript: the server's own answer, next to each field.
    const plain = await signedInAs('admin@northside.test', '/admin/integrations', { javaScriptEnabled: false })
    const section = plain.getByRole('region', { name: 'EHR systems' })
    await section.getByLabel(/Application \(client\) ID/).fill('has a space')
    await section.getByLabel(/Directory \(tenant\) ID/).fill('nope')
    await section.getByLabel(/Referral\.Read/).setChecked(false)
    await section.getByRole('button', { name: 'Register EHR system' }).click()
    await expect(section.getByText('Enter a name for the system').first()).toBeVisible()
    await expect(section.getByText(/letters, digits, dots, dashes and underscores only/).first()).toBeVisible()
    await expect(section.getByText(/Enter the directory \(tenant\) ID as Entra shows it/).first()).toBeVisible()
    await expect(section.getByLabel(/Application \(client\) ID/)).toHaveAttribute('aria-invalid', 'true')
    // The fields right, and nothing ticked: that is said too, and nothing is registered.
    await section.getByLabel('Name').fill('Nothing-ticked EHR')
    await section.getByLabel(/Application \(client\) ID/).fill(`ehr-${randomUUID()}`)
    await section.getByLabel(/Directory \(tenant\) ID/).fill(DEMO_TENANT_ID)
    await section.getByLabel(/Referral\.Read/).setChecked(false)
    await section.getByRole('button', { name: 'Register EHR system' }).click()
    await expect(section.getByText('Choose at least one thing the system may do').first()).toBeVisible()
    expect(await owner.select().from(ehrIntegrations).where(eq(ehrIntegrations.name, 'Nothing-ticked EHR'))).toEqual([])

    const admin = await signedInAs('admin@northside.test', '/admin/integrations')
    const app = await appAtProvider(['Referral.Read'])
    await registerOnPage(admin, app, 'Shared EHR')
    await expect(admin.getByText('Shared EHR is registered.')).toBeVisible()
    const other = await signedInAs('admin@lakeview.test', '/admin/integrations')
    await registerOnPage(other, app, 'Shared EHR')
    await expect(other.locator('#register-ehr-clientId-error')).toContainText('already registered, with this clinic or another')
    const rows = await owner.select().from(ehrIntegrations).where(eq(ehrIntegrations.clientId, app.clientId))
    expect(rows.map((r) => r.clinicId)).toEqual([(await clinicBySlug(owner, 'northside')).id])
  })

  test('npm run token -- --client northside-ehr prints a token the seeded Northside EHR reads with', async ({ request }) => {
    const { stdout } = await promisify(execFile)('npx', ['tsx', 'scripts/token.ts', '--client', 'northside-ehr'], {
      env: { ...process.env, IDP_PORT: String(E2E.idpPort) },
    })
    const headers = bearer(stdout.trim())
    const tasks = await fhir<Bundle>(await request.get('/fhir/R4/Task?_count=2', { headers }))
    expect(tasks.entry!.length).toBe(2)
  })
})
