/**
 * FHIR R4 at /fhir/R4 over real HTTP against the built app in workerd, with real access tokens
 * from the local provider (as tests/e2e/api.spec.ts). Every resource and every error the server
 * returns is checked against the R4 specification by two validators (tests/support/fhir-validate.ts).
 */
import { randomUUID } from 'node:crypto'
import { generateKeyPair, SignJWT, type JWK } from 'jose'
import { fhirProblems } from '../support/fhir-validate'
import { auditOfRequest, bearer, expect, ISSUER, test, token, tokensFor, spareRateLimits, FHIR_ACCOUNTS } from './fixtures'
import { fhir, newReferral, outcome, type Json } from './fhir-fixtures'

type Bundle = Json & { total?: number; link: { relation: string; url: string }[]; entry?: { fullUrl: string; resource: Json & { id: string } }[] }

test.describe('FHIR R4', () => {
  test.beforeEach(({ owner }) => spareRateLimits(owner, FHIR_ACCOUNTS))

  // Loading the validators' definitions blocks this worker for seconds: done before any request,
  // or a kept-alive connection the server closed meanwhile is reused and reset.
  test.beforeAll(async () => {
    expect(await fhirProblems({ resourceType: 'Basic', code: { text: 'warm-up' } })).toEqual([])
  })

  test('metadata: a valid CapabilityStatement listing exactly what is served; a search without a token or with a forged one is 401', async ({ request }) => {
    const headers = bearer(await token('staff@northside.test'))
    const cs = await fhir<Json & { fhirVersion: string; rest: { resource: { type: string; interaction: { code: string }[] }[] }[] }>(
      await request.get('/fhir/R4/metadata', { headers }),
    )
    expect(cs).toMatchObject({ resourceType: 'CapabilityStatement', fhirVersion: '4.0.1', format: ['json'] })
    expect(Object.fromEntries(cs.rest[0]!.resource.map((r) => [r.type, r.interaction.map((i) => i.code)]))).toEqual({
      ServiceRequest: ['read', 'search-type'],
      Task: ['read', 'update', 'patch', 'search-type'],
      Patient: ['read'],
      Questionnaire: ['read'],
      Communication: ['read', 'create', 'search-type'],
      QuestionnaireResponse: ['read'],
      Practitioner: ['read'],
      PractitionerRole: ['read'],
      Organization: ['read'],
      DocumentReference: ['read', 'search-type'],
      Binary: ['read'],
      AuditEvent: ['read', 'search-type'],
    })

    // metadata itself needs no token (decision 057, tests/e2e/fhir-reads.spec.ts); a search does.
    const none = await request.get('/fhir/R4/ServiceRequest')
    await outcome(none, 401, 'login')
    expect(none.headers()['www-authenticate']).toMatch(/^Bearer /)
    // A token signed with another key under the provider's published kid.
    const tokens = await tokensFor('staff@northside.test')
    const claims = JSON.parse(Buffer.from(tokens.access_token.split('.')[1]!, 'base64url').toString())
    const discovery = await (await fetch(`${ISSUER}/.well-known/openid-configuration`)).json<{ jwks_uri: string }>()
    const published = (await (await fetch(discovery.jwks_uri)).json<{ keys: JWK[] }>()).keys[0]!
    const { privateKey } = await generateKeyPair('RS256')
    const forged = await new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: published.kid! }).sign(privateKey)
    const refused = await request.get(`/fhir/R4/ServiceRequest`, { headers: bearer(forged) })
    await outcome(refused, 401, 'login')
    expect(refused.headers()['www-authenticate']).toContain('invalid_token')
    // A superadmin is refused as on the API, in FHIR's shape.
    const superadmin = await outcome(await request.get('/fhir/R4/metadata', { headers: bearer(await token('superadmin@intakepilot.test')) }), 403, 'forbidden')
    expect(superadmin.issue[0]!.diagnostics).toMatch(/superadmin/i)
  })

  test('reads: ServiceRequest, Task, Patient, Questionnaire, QuestionnaireResponse; the Patient read is audited', async ({ request, owner }) => {
    const { id, body } = await newReferral(request)
    const headers = bearer(await token('staff@northside.test'))

    const sr = await fhir<Json & { meta: { tag?: unknown } }>(await request.get(`/fhir/R4/ServiceRequest/${id}`, { headers }))
    expect(sr).toMatchObject({
      resourceType: 'ServiceRequest',
      id,
      status: 'active',
      intent: 'order',
      subject: { reference: `Patient/${id}` },
      supportingInfo: [{ reference: `QuestionnaireResponse/${id}` }],
      reasonCode: [{ text: body.data.reason }],
    })
    expect(sr.meta.tag).toBeUndefined()

    const task = await fhir(await request.get(`/fhir/R4/Task/${id}`, { headers }))
    expect(task).toMatchObject({
      status: 'requested',
      intent: 'order',
      focus: { reference: `ServiceRequest/${id}` },
      businessStatus: { coding: [{ system: 'http://hl7.org/fhir/us/bser/CodeSystem/TaskBusinessStatusCS', code: '2.0' }] },
    })

    const read = await request.get(`/fhir/R4/Patient/${id}`, { headers })
    const patient = await fhir(read)
    expect(patient).toMatchObject({
      resourceType: 'Patient',
      id,
      name: [{ family: body.data.patient_last_name }],
      identifier: [{ system: 'https://fhir.infoway-inforoute.ca/NamingSystem/ca-on-patient-hcn', value: body.data.health_card_number }],
      birthDate: body.data.patient_dob,
    })
    // Audited as the page's read: one referral.read row for this request, naming the referral and nothing of the patient.
    const rows = (await auditOfRequest(owner, read.headers()['x-request-id']!)).filter((r) => r.action !== 'record.write')
    expect(rows.map((r) => [r.action, r.entityId, r.outcome])).toEqual([['referral.read', id, 'success']])
    expect(JSON.stringify(rows)).not.toContain(String(body.data.patient_last_name))

    const qr = await fhir<Json & { questionnaire: string; item: { item: { linkId: string }[] }[] }>(
      await request.get(`/fhir/R4/QuestionnaireResponse/${id}`, { headers }),
    )
    expect(qr).toMatchObject({ status: 'completed', subject: { reference: `Patient/${id}` } })
    expect(qr.item.flatMap((g) => g.item.map((i) => i.linkId))).toEqual(expect.arrayContaining(['patient_last_name', 'health_card_number', 'reason']))
    const q = await fhir<Json & { url: string; version: string }>(await request.get(`/fhir/R4/Questionnaire/intake-${body.formVersion}`, { headers }))
    expect(`${q.url}|${q.version}`).toBe(qr.questionnaire)
    // A referrer reads the form too, and their own referral.
    const referrer = bearer(await token('referrer@northside.test'))
    await fhir(await request.get(`/fhir/R4/Questionnaire/intake-${body.formVersion}`, { headers: referrer }))
    await fhir(await request.get(`/fhir/R4/Task/${id}`, { headers: referrer }))
  })

  test("another clinic's token finds nothing (404, never 403); a colleague referrer neither", async ({ request }) => {
    const { id } = await newReferral(request)
    const callers: [string, string][] = [
      ['stranger clinic', 'staff@lakeview.test'],
      ['colleague referrer', 'referrer2@northside.test'],
    ]
    for (const [who, email] of callers) {
      const headers = bearer(await token(email))
      for (const kind of ['ServiceRequest', 'Task', 'Patient', 'QuestionnaireResponse']) {
        await test.step(`${who}: ${kind}`, async () => {
          await outcome(await request.get(`/fhir/R4/${kind}/${id}`, { headers }), 404, 'not-found')
        })
      }
      const tasks = await fhir<Bundle>(await request.get(`/fhir/R4/Task?focus=ServiceRequest/${id}`, { headers }))
      expect(tasks).toMatchObject({ type: 'searchset', total: 0 })
      expect(tasks.entry ?? []).toEqual([])
    }
  })

  test('bad requests are OperationOutcomes with the right status, never a 500', async ({ request }) => {
    const headers = bearer(await token('staff@northside.test'))
    const { id } = await newReferral(request)
    const bad: [string, string][] = [
      ['/fhir/R4/ServiceRequest?status=bogus', 'status'],
      ['/fhir/R4/ServiceRequest?subject=Patient/1', 'subject'],
      ['/fhir/R4/ServiceRequest?_count=1000', '_count'],
      ['/fhir/R4/ServiceRequest?authored=yesterday', 'authored'],
      ['/fhir/R4/ServiceRequest?_cursor=not-ours', '_cursor'],
      ['/fhir/R4/ServiceRequest?_format=xml', '_format'],
      ['/fhir/R4/ServiceRequest?patient.identifier=1234567890', 'patient.identifier'],
      ['/fhir/R4/Task?business-status=9.9', 'business-status'],
      ['/fhir/R4/Task?focus=Patient/x', 'focus'],
      [`/fhir/R4/Patient/${id}?_elements=name`, '_elements'],
    ]
    for (const [path, parameter] of bad) {
      await test.step(path, async () => {
        const body = await outcome(await request.get(path, { headers }), 400, parameter === '_format' ? 'not-supported' : expect.any(String))
        expect(body.issue.flatMap((i) => i.expression ?? [])).toContain(parameter)
      })
    }
    // The health card put in a URL is refused, and not repeated back.
    const card = await request.get('/fhir/R4/ServiceRequest?patient.identifier=1234567890', { headers })
    expect(await card.text()).not.toContain('1234567890')

    await outcome(await request.get('/fhir/R4/Observation/1', { headers }), 404, 'not-found')
    await outcome(await request.get(`/fhir/R4/Patient/${randomUUID()}`, { headers }), 404, 'not-found')
    await outcome(await request.get('/fhir/R4/Patient/not-an-id', { headers }), 404, 'not-found')
    await outcome(await request.get('/fhir/R4/Questionnaire/intake-99999', { headers }), 404, 'not-found')
    const write = await request.put(`/fhir/R4/ServiceRequest/${id}`, { headers, data: { resourceType: 'ServiceRequest' } })
    await outcome(write, 405, 'not-supported')
    await outcome(await request.post('/fhir/R4/ServiceRequest/_search', { headers, data: { status: 'active' } }), 415, 'not-supported')
  })

  test('Task follows the workflow: a decline is rejected, BSeR 4.0, with its reason category; searches find it', async ({ request }) => {
    const { id } = await newReferral(request)
    const staff = bearer(await token('staff@northside.test'))
    const version = (await (await request.get(`/api/v1/referrals/${id}`, { headers: staff })).json()).data.version
    const moved = await request.patch(`/api/v1/referrals/${id}`, {
      headers: staff,
      data: { status: 'declined', reason: 'Outside our catchment area', reasonCode: 'criteria_not_met', version },
    })
    expect(moved.status(), await moved.text()).toBe(200)
    const task = await fhir(await request.get(`/fhir/R4/Task/${id}`, { headers: staff }))
    expect(task).toMatchObject({
      status: 'rejected',
      businessStatus: { coding: [{ code: '4.0', display: 'Service Request Declined' }] },
      statusReason: { coding: [{ code: 'criteria_not_met' }], text: 'Referral criteria not met' },
    })
    // The free-text reason is the patient's business: not in the Task.
    expect(JSON.stringify(task)).not.toContain('catchment')
    const found = await fhir<Bundle>(await request.get(`/fhir/R4/Task?focus=ServiceRequest/${id}&status=rejected&business-status=4.0`, { headers: staff }))
    expect(found.entry!.map((e) => e.resource.id)).toEqual([id])
    expect(found.entry![0]!.fullUrl).toMatch(new RegExp(`/fhir/R4/Task/${id}$`))
    const none = await fhir<Bundle>(await request.get(`/fhir/R4/Task?focus=ServiceRequest/${id}&status=requested`, { headers: staff }))
    expect(none.total).toBe(0)
    const revoked = await fhir<Bundle>(await request.get('/fhir/R4/ServiceRequest?status=revoked&_lastUpdated=ge2026-01-01&_count=100', { headers: staff }))
    expect(revoked.entry!.map((e) => e.resource.id)).toContain(id)
    for (const entry of revoked.entry!) expect(entry.resource.status).toBe('revoked')
  })

  test('search pages on the keyset to the end; entries carry no PHI; _search finds a patient by health card', async ({ request }) => {
    const { id, body } = await newReferral(request)
    const staff = bearer(await token('staff@northside.test'))
    const seen: string[] = []
    let url: string | undefined = '/fhir/R4/ServiceRequest?authored=ge2020-01-01&_count=50'
    let total: number | undefined
    for (let pages = 0; url && pages < 200; pages++) {
      const page: Bundle = await fhir<Bundle>(await request.get(url, { headers: staff }))
      total ??= page.total
      for (const entry of page.entry ?? []) {
        seen.push(entry.resource.id)
        // A search result is the order without its reason: tagged SUBSETTED.
        expect(entry.resource.reasonCode).toBeUndefined()
        expect((entry.resource.meta as { tag: { code: string }[] }).tag[0]!.code).toBe('SUBSETTED')
      }
      url = page.link.find((l) => l.relation === 'next')?.url
    }
    expect(url, 'reached the last page').toBeUndefined()
    expect(new Set(seen).size).toBe(seen.length)
    expect(seen).toContain(id)
    // Others write referrals meanwhile: the count taken first is at most what was paged through.
    expect(seen.length).toBeGreaterThanOrEqual(total ?? 0)

    const card = String(body.data.health_card_number)
    const searched = await request.post('/fhir/R4/ServiceRequest/_search?_count=5', { headers: staff, form: { 'patient.identifier': card, status: 'active' } })
    const bundle = await fhir<Bundle>(searched)
    expect(bundle.entry!.map((e) => e.resource.id)).toEqual([id])
    expect(bundle.total).toBe(1)
    expect(await searched.text()).not.toContain(card)
    // A referrer may not search patients.
    await outcome(
      await request.post('/fhir/R4/ServiceRequest/_search', { headers: bearer(await token('referrer@northside.test')), form: { 'patient.identifier': card } }),
      403,
      'forbidden',
    )
  })
})
