/**
 * EHR systems with app-only tokens (docs/decisions/058-ehr-integrations-app-only-tokens.md), over
 * real HTTP against the built app in workerd: the local provider's client-credentials grant (as
 * Entra's), a clinic admin registering the app on the integrations page, the FHIR reads and the
 * API under that integration's own actor, its audit rows, and a revoke that refuses its tokens at
 * once; with Referral.Submit, referrals it sends as transaction Bundles (docs/decisions/061-referrals-from-ehr-integrations.md).
 * Every FHIR answer, errors included, is checked by two validators (tests/support/fhir-validate.ts).
 */
import { execFile } from 'node:child_process'
import { randomBytes, randomUUID } from 'node:crypto'
import { promisify } from 'node:util'
import type { APIRequestContext, Page } from '@playwright/test'
import { and, eq } from 'drizzle-orm'
import { auditLogs, ehrIntegrations, referralDocuments, referralEvents, referrals } from '../../app/db/schema'
import { NO_REFERRER_TO_ASK } from '../../app/referrals/workflow'
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
import { attachDocument, FHIR_JSON, fhir, newBundle, outcome, send, type Json, type TransactionResponse } from './fhir-fixtures'

type Bundle = Json & { total?: number; entry?: { resource: Json & { id: string; status?: string } }[] }

type App = { clientId: string; clientSecret: string }

const PDF = '%PDF-1.4\n1 0 obj <<>> endobj\n%%EOF\n'

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
  test('with Referral.Submit it sends a referral as a transaction Bundle, made as the intake form makes one; staff see the EHR as its sender; it reads it all back', async ({
    request,
    owner,
    signedInAs,
  }) => {
    const app = await appAtProvider(['Referral.Read', 'Referral.Submit'])
    const name = `Sending EHR ${randomUUID().slice(0, 6)}`
    const admin = await signedInAs('admin@northside.test', '/admin/integrations')
    await registerOnPage(admin, app, name, { read: true, submit: true })
    await expect(admin.getByText(`${name} is registered.`)).toBeVisible()
    await expect(admin.getByRole('region', { name: 'EHR systems' }).getByRole('listitem').filter({ hasText: name })).toContainText(
      'Active, reads referrals and sends referrals',
    )
    const registered = (await integrationNamed(owner, app.clientId))!
    const northside = await clinicBySlug(owner, 'northside')
    const access = await appToken(app)
    const headers = bearer(access)

    // The Bundle is built from the Questionnaire the EHR reads with its own token.
    const { bundle, patient } = await newBundle(request, access)
    const sent = await send(request, access, bundle)
    expect(sent.body.entry.map((e) => e.response.status)).toEqual(['201 Created', '201 Created', '201 Created'])
    const [row] = await owner.select().from(referrals).where(eq(referrals.id, sent.id))
    expect(row).toMatchObject({
      clinicId: northside.id,
      submittedBy: null,
      submittedByIntegration: registered.id,
      submittedByIntegrationName: name,
      priority: 'urgent',
    })
    // Sealed and indexed as the form's: no name in the clear, blind indexes for the duplicate check.
    expect(JSON.stringify(row!.formData)).not.toContain(patient.last)
    expect(row!.healthCardIndex).toMatch(/^[A-Za-z0-9+/]{43}=$/)
    const events = await owner.select().from(referralEvents).where(eq(referralEvents.referralId, sent.id))
    expect(events.map((e) => [e.type, e.actorId, e.visibleToReferrer])).toEqual([['created', null, true]])
    // Its trail names the integration: the create and the write triggers' rows alike.
    const trail = await auditOfRequest(owner, sent.requestId)
    expect(trail.filter((r) => r.action === 'referral.create').map((r) => [r.entityId, r.outcome, r.details])).toEqual([[sent.id, 'success', { fhir: true }]])
    expect(trail.map((r) => [r.actorId, r.actorRole, r.clinicId])).toEqual(trail.map(() => [registered.id, 'integration', northside.id]))

    // Idempotent per sender: the same Bundle is the same referral; a referrer's with the same order number is theirs.
    const again = await send(request, access, bundle)
    expect(again.id).toBe(sent.id)
    expect(again.body.entry[0]!.response.status).toBe('200 OK')
    const referrer = await token('referrer@northside.test')
    const order = (bundle.entry[1]!.resource.identifier ?? [])[0]!.value
    expect((await send(request, referrer, (await newBundle(request, referrer, order)).bundle)).id).not.toBe(sent.id)

    // The same patient again, under another order number: a new referral, marked as a possible duplicate of the first.
    const twice = structuredClone(bundle)
    const next = { system: 'urn:oid:2.16.840.1.113883.3.999.1', value: randomUUID() }
    twice.entry[1]!.resource.identifier = [next]
    twice.entry[1]!.request.ifNoneExist = `identifier=${next.system}|${next.value}`
    const duplicate = await send(request, access, twice)
    const [second] = await owner.select().from(referrals).where(eq(referrals.id, duplicate.id))
    expect(second).toMatchObject({ possibleDuplicateOf: sent.id, healthCardIndex: row!.healthCardIndex })

    // Staff: the queue names the EHR as the referrer; the referral says where it came from and that there is no one to ask.
    const staffPage = await signedInAs('staff@northside.test', '/queue')
    const queued = staffPage.getByRole('row').filter({ hasText: row!.referenceNumber })
    await expect(queued).toContainText(patient.last)
    await expect(queued).toContainText(name)
    await go(staffPage, `/referrals/${sent.id}`)
    await expect(staffPage.getByTestId('sent-by-integration')).toHaveText(`Sent by ${name}, an EHR system, over FHIR`)
    await expect(staffPage.getByLabel('Ask the referrer')).toHaveCount(0)
    await expect(staffPage.getByText(NO_REFERRER_TO_ASK)).toBeVisible()
    // Nor by the API or FHIR: refused in words, nothing written.
    const staffHeaders = bearer(await token('staff@northside.test'))
    const asked = await request.post(`/api/v1/referrals/${sent.id}/events`, { headers: staffHeaders, data: { type: 'message', body: 'Any imaging?' } })
    expect(asked.status(), await asked.text()).toBe(409)
    expect((await asked.json()).error).toBe(NO_REFERRER_TO_ASK)
    const question = {
      resourceType: 'Communication',
      status: 'completed',
      basedOn: [{ reference: `ServiceRequest/${sent.id}` }],
      payload: [{ contentString: 'Any imaging?' }],
    }
    const refused = await outcome(
      await request.post('/fhir/R4/Communication', { headers: { ...staffHeaders, ...FHIR_JSON }, data: question }),
      422,
      'business-rule',
    )
    expect(refused.issue[0]!.expression).toEqual(['Communication.basedOn'])
    expect(await owner.select().from(referralEvents).where(eq(referralEvents.referralId, sent.id))).toHaveLength(1)

    // Read back by the EHR: every resource of the referral, each read recorded as the integration's.
    const documentId = await attachDocument(sent.id, `Consult ${randomUUID().slice(0, 6)}.pdf`, PDF)
    const order_ = await fhir<Json & { requester: { reference: string }; supportingInfo: { reference: string }[] }>(
      await request.get(`/fhir/R4/ServiceRequest/${sent.id}`, { headers }),
    )
    expect(order_.requester.reference).toBe(`PractitionerRole/${sent.id}`)
    expect(order_.supportingInfo).toContainEqual({ reference: `DocumentReference/${documentId}` })
    const paths = [
      `Task/${sent.id}`,
      `Patient/${sent.id}`,
      `QuestionnaireResponse/${sent.id}`,
      `Practitioner/${sent.id}`,
      `PractitionerRole/${sent.id}`,
      `Organization/${sent.id}`,
      `Questionnaire/intake-${row!.formVersion}`,
      `Communication?based-on=ServiceRequest/${sent.id}`,
      `DocumentReference/${documentId}`,
      `DocumentReference?related=ServiceRequest/${sent.id}`,
    ]
    for (const path of paths) {
      const read = await request.get(`/fhir/R4/${path}`, { headers })
      const body = await fhir<Json>(read)
      expect(body.resourceType, path).toBe(path.includes('?') ? 'Bundle' : path.split('/')[0])
      const rows = await auditOfRequest(owner, read.headers()['x-request-id']!)
      expect(
        rows.every((r) => r.actorId === registered.id && r.actorRole === 'integration'),
        path,
      ).toBe(true)
    }
    const file = await request.get(`/fhir/R4/Binary/${documentId}`, { headers })
    expect(file.status()).toBe(200)
    expect((await file.body()).toString()).toBe(PDF)
    const download = (await auditOfRequest(owner, file.headers()['x-request-id']!)).filter((r) => r.action !== 'record.write')
    expect(download.map((r) => [r.action, r.entityId, r.actorId, r.actorRole])).toEqual([['document.read', sent.id, registered.id, 'integration']])
    // The audit trail stays the clinic admins': a recorded 403.
    await outcome(await request.get('/fhir/R4/AuditEvent', { headers }), 403, 'forbidden')
    // The API names the sender too.
    const record = await request.get(`/api/v1/referrals/${sent.id}`, { headers })
    expect((await record.json()).data).toMatchObject({ submittedBy: null, submittedByIntegration: { id: registered.id, name } })
  })

  test('with Referral.Submit only, its Bundle’s document is kept as the EHR’s, a repeat names it, and it cannot read it back', async ({
    request,
    owner,
    signedInAs,
  }) => {
    const app = await appAtProvider(['Referral.Submit'])
    const name = `Sending-only EHR ${randomUUID().slice(0, 6)}`
    const admin = await signedInAs('admin@northside.test', '/admin/integrations')
    await registerOnPage(admin, app, name, { submit: true })
    await expect(admin.getByText(`${name} is registered.`)).toBeVisible()
    const registered = (await integrationNamed(owner, app.clientId))!
    const access = await appToken(app)
    const { bundle } = await newBundle(request, access)
    bundle.entry.push({
      fullUrl: `urn:uuid:${randomUUID()}`,
      resource: {
        resourceType: 'DocumentReference',
        status: 'current',
        subject: { reference: bundle.entry[0]!.fullUrl },
        context: { related: [{ reference: bundle.entry[1]!.fullUrl }] },
        content: [{ attachment: { contentType: 'application/pdf', title: 'Referral letter.pdf', data: Buffer.from(PDF).toString('base64') } }],
      },
      request: { method: 'POST', url: 'DocumentReference' },
    } as (typeof bundle.entry)[number])
    const post = () => request.post('/fhir/R4', { headers: { ...bearer(access), ...FHIR_JSON }, data: bundle })
    const first = await fhir<TransactionResponse>(await post())
    expect(first.entry.map((e) => e.response.status)).toEqual(['201 Created', '201 Created', '201 Created', '201 Created'])
    const id = first.entry[0]!.response.location.split('/')[1]!
    const documentId = first.entry[3]!.response.location.split('/')[1]!
    const rows = await owner.select().from(referralDocuments).where(eq(referralDocuments.referralId, id))
    expect(rows.map((r) => [r.id, r.uploadedBy, r.uploadedByIntegration, r.attachedWith])).toEqual([[documentId, null, registered.id, 'referral']])

    // The repeat finds the first referral's document (it sees what it sent), and keeps no second one.
    const again = await fhir<TransactionResponse>(await post())
    expect(again.entry.map((e) => e.response)).toEqual(first.entry.map((e) => ({ ...e.response, status: '200 OK' })))
    expect(await owner.select({ id: referralDocuments.id }).from(referralDocuments).where(eq(referralDocuments.referralId, id))).toHaveLength(1)

    // Reading it needs Referral.Read: a recorded refusal, the document's name nowhere in it.
    const headers = bearer(access)
    for (const path of [`DocumentReference/${documentId}`, `Binary/${documentId}`]) {
      const refused = await request.get(`/fhir/R4/${path}`, { headers })
      await outcome(refused, 403, 'forbidden', ['Referral letter'])
      const trail = await auditOfRequest(owner, refused.headers()['x-request-id']!)
      expect(
        trail.map((r) => [r.action, r.actorId, r.outcome]),
        path,
      ).toEqual([['document.read', registered.id, 'denied']])
    }
  })

  test('sending is refused, and recorded, for an EHR without Referral.Submit, a revoked one, another clinic’s form, and another clinic’s EHR sees nothing of it', async ({
    request,
    owner,
    signedInAs,
  }) => {
    const admin = await signedInAs('admin@northside.test', '/admin/integrations')
    const reader = await appAtProvider(['Referral.Read', 'Referral.Submit'])
    await registerOnPage(admin, reader, 'Reading EHR', { read: true })
    await expect(admin.getByText('Reading EHR is registered.')).toBeVisible()
    const sender = await appAtProvider(['Referral.Submit'])
    await registerOnPage(admin, sender, 'Sender EHR', { submit: true })
    await expect(admin.getByText('Sender EHR is registered.')).toBeVisible()
    const readerRow = (await integrationNamed(owner, reader.clientId))!
    const senderAccess = await appToken(sender)
    const { bundle } = await newBundle(request, senderAccess)
    const post = (access: string, body: unknown) => request.post('/fhir/R4', { headers: { ...bearer(access), ...FHIR_JSON }, data: body })
    const created = async () => (await owner.select({ id: referrals.id }).from(referrals).where(eq(referrals.submittedByIntegration, readerRow.id))).length

    // Referral.Read only: a recorded 403, nothing made.
    const readOnly = await post(await appToken(reader), bundle)
    await outcome(readOnly, 403, 'forbidden')
    const denied = await auditOfRequest(owner, readOnly.headers()['x-request-id']!)
    expect(denied.map((r) => [r.action, r.actorId, r.actorRole, r.outcome])).toEqual([['referral.create', readerRow.id, 'integration', 'denied']])
    expect(await created()).toBe(0)

    // Another clinic's form (its Questionnaire's canonical), or a version this clinic never had: refused, nothing made.
    const lakeview = await clinicBySlug(owner, 'lakeview')
    const northside = await clinicBySlug(owner, 'northside')
    const foreign = structuredClone(bundle)
    const qr = foreign.entry[2]!.resource
    qr.questionnaire = qr.questionnaire!.replace(`/clinics/${northside.id}/`, `/clinics/${lakeview.id}/`)
    const wrongForm = await outcome(await post(senderAccess, foreign), 400, 'value')
    expect(wrongForm.issue[0]!.expression).toEqual(['QuestionnaireResponse.questionnaire'])
    const unknown = structuredClone(bundle)
    unknown.entry[2]!.resource.questionnaire = `${qr.questionnaire.split('|')[0]!.replace(lakeview.id, northside.id)}|999999`
    await outcome(await post(senderAccess, unknown), 409, 'conflict')

    // It sends; then another clinic's EHR cannot find it, and the miss is recorded as that EHR's.
    const { id } = await send(request, senderAccess, bundle)
    const lakeAdmin = await signedInAs('admin@lakeview.test', '/admin/integrations')
    const stranger = await appAtProvider(['Referral.Read'])
    await registerOnPage(lakeAdmin, stranger, 'Lakeview EHR')
    await expect(lakeAdmin.getByText('Lakeview EHR is registered.')).toBeVisible()
    const strangerRow = (await integrationNamed(owner, stranger.clientId))!
    const miss = await request.get(`/fhir/R4/ServiceRequest/${id}`, { headers: bearer(await appToken(stranger)) })
    await outcome(miss, 404, 'not-found')
    expect((await auditOfRequest(owner, miss.headers()['x-request-id']!)).map((r) => [r.actorId, r.clinicId, r.outcome])).toEqual([
      [strangerRow.id, lakeview.id, 'denied'],
    ])
    // Submit without Read: it may not read back even what it sent (a recorded 403).
    await outcome(await request.get(`/fhir/R4/ServiceRequest/${id}`, { headers: bearer(senderAccess) }), 403, 'forbidden')

    // Revoked: its token is refused before anything is read or written.
    await go(admin, '/admin/integrations')
    await admin.getByRole('button', { name: 'Revoke: Sender EHR' }).click()
    await expect(admin.getByText('Revoked: its tokens are refused from now on.')).toBeVisible()
    const { bundle: later } = await newBundle(request, await token('referrer@northside.test'))
    await outcome(await post(senderAccess, later), 401, 'login')
  })
})
