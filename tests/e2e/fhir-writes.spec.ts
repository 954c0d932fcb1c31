/**
 * FHIR R4 writes (docs/decisions/056-fhir-writes.md) over real HTTP against the built app in
 * workerd, with real tokens from the local provider: a transaction Bundle made into a referral by
 * the intake form's own code, idempotent; Task moves through the page's workflow, each allowed
 * and refused; only the sender cancels. Every resource and every error is checked against R4 by
 * two validators (tests/support/fhir-validate.ts).
 */
import { execFile } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { promisify } from 'node:util'
import { and, asc, eq, sql } from 'drizzle-orm'
import { auditLogs, outboxEvents, referralEvents, referrals } from '../../app/db/schema'
import { canMove, NEXT_STATUSES } from '../../app/referrals/workflow'
import { BSER_BUSINESS_STATUS, WORKFLOW } from '../../app/fhir/codes'
import type { ReferralStatus } from '../../app/db/enums'
import { fhirProblems } from '../support/fhir-validate'
import { APP_URL, auditOfRequest, bearer, E2E, expect, go, ISSUER, test, token, type Owner, spareRateLimits, FHIR_ACCOUNTS, userByEmail } from './fixtures'
import { getAppToken } from '../../scripts/lib/idp-login'
import { FHIR_JSON, fhir, newBundle, outcome, send, type Json, type Outcome, type TransactionBundle as Bundle, type TransactionResponse } from './fhir-fixtures'

const REFERRER = 'referrer@northside.test'
const STAFF = 'staff@northside.test'

const expressions = (body: Outcome) => body.issue.flatMap((i) => i.expression ?? [])

const referralRow = async (owner: Owner, id: string) => (await owner.select().from(referrals).where(eq(referrals.id, id)))[0]!

/** Moves a referral straight in the database (as the owner) to a status a test starts from, with a version bump. */
async function putAt(owner: Owner, id: string, status: ReferralStatus) {
  await owner
    .update(referrals)
    .set({ status, version: sql`${referrals.version} + 1` })
    .where(eq(referrals.id, id))
}

test.describe('FHIR R4 writes', () => {
  test.beforeEach(({ owner }) => spareRateLimits(owner, FHIR_ACCOUNTS))

  test.beforeAll(async () => {
    expect(await fhirProblems({ resourceType: 'Basic', code: { text: 'warm-up' } })).toEqual([])
  })

  test('round trip: a transaction Bundle in; ServiceRequest, Task, Patient and QuestionnaireResponse out; the page shows the same', async ({
    request,
    owner,
    signedInAs,
  }) => {
    const referrer = await token(REFERRER)
    const { bundle, values, patient } = await newBundle(request, referrer)
    const { id, body, requestId } = await send(request, referrer, bundle, 200)
    expect(body.entry.map((e) => e.response)).toEqual([
      { status: '201 Created', location: `Patient/${id}` },
      { status: '201 Created', location: `ServiceRequest/${id}` },
      { status: '201 Created', location: `QuestionnaireResponse/${id}` },
    ])
    // Written as the form writes it: sealed (no clear name in the row), blind-indexed, one create row naming FHIR.
    const row = await referralRow(owner, id)
    expect(row).toMatchObject({ status: 'received', priority: 'urgent' })
    expect(row.healthCardIndex).toBeTruthy()
    expect(JSON.stringify(row.formData)).not.toContain(patient.last)
    const rows = (await auditOfRequest(owner, requestId)).filter((r) => r.action !== 'record.write')
    expect(rows.map((r) => [r.action, r.entityId, r.outcome, (r.details as { fhir?: boolean }).fhir])).toEqual([['referral.create', id, 'success', true]])
    expect(JSON.stringify(rows)).not.toContain(patient.last)

    const staff = bearer(await token(STAFF))
    const sr = await fhir(await request.get(`/fhir/R4/ServiceRequest/${id}`, { headers: staff }))
    expect(sr).toMatchObject({
      status: 'active',
      intent: 'order',
      priority: 'urgent',
      reasonCode: [{ text: values.reason }],
      subject: { reference: `Patient/${id}` },
    })
    const task = await fhir(await request.get(`/fhir/R4/Task/${id}`, { headers: staff }))
    expect(task).toMatchObject({ status: 'requested', businessStatus: { coding: [{ code: '2.0' }] }, focus: { reference: `ServiceRequest/${id}` } })
    const p = await fhir(await request.get(`/fhir/R4/Patient/${id}`, { headers: staff }))
    expect(p).toMatchObject({ name: [{ family: patient.last, given: [patient.first] }], birthDate: patient.dob, identifier: [{ value: patient.card }] })
    const qr = await fhir<Json & { item: { item: { linkId: string; answer: Record<string, unknown>[] }[] }[] }>(
      await request.get(`/fhir/R4/QuestionnaireResponse/${id}`, { headers: staff }),
    )
    const answered = Object.fromEntries(qr.item.flatMap((g) => g.item.map((i) => [i.linkId, Object.values(i.answer[0]!)[0]])))
    expect(answered).toMatchObject({ patient_last_name: patient.last, health_card_number: patient.card, reason: values.reason, urgency: 'urgent' })

    // The page shows the same referral.
    const page = await signedInAs(STAFF, `/referrals/${id}`)
    await expect(page.getByRole('main')).toContainText(patient.last)
    await expect(page.getByRole('main')).toContainText(String(values.reason))
    await expect(page.getByRole('main')).toContainText(row.referenceNumber)
  })

  test('idempotent: the same Bundle, or the same ServiceRequest identifier (If-None-Exist), gives the first referral back', async ({ request, owner }) => {
    const referrer = await token(REFERRER)
    const order = randomUUID()
    const { bundle } = await newBundle(request, referrer, order)
    const first = await send(request, referrer, bundle)
    const again = await send(request, referrer, bundle)
    expect(again.id).toBe(first.id)
    expect(again.body.entry.map((e) => e.response.status)).toEqual(['200 OK', '200 OK', '200 OK'])
    // Another Bundle (another patient even) under the same order identifier: still the first referral.
    const { bundle: other } = await newBundle(request, referrer, order)
    expect((await send(request, referrer, other)).id).toBe(first.id)
    // Only If-None-Exist names it (the ServiceRequest carries no identifier of its own).
    const { bundle: bare } = await newBundle(request, referrer, order)
    delete (bare.entry[1]!.resource as { identifier?: unknown }).identifier
    expect((await send(request, referrer, bare)).id).toBe(first.id)
    // The Bundle's identifier serves when nothing else does.
    const { bundle: byBundle } = await newBundle(request, referrer)
    delete (byBundle.entry[1]!.resource as { identifier?: unknown }).identifier
    delete (byBundle.entry[1]!.request as { ifNoneExist?: unknown }).ifNoneExist
    Object.assign(byBundle, { identifier: { system: 'urn:ietf:rfc:3986', value: `urn:uuid:${randomUUID()}` } })
    const once = await send(request, referrer, byBundle)
    expect((await send(request, referrer, byBundle)).id).toBe(once.id)
    const created = await owner.select().from(auditLogs).where(eq(auditLogs.entityId, first.id))
    expect(created.filter((r) => r.action === 'referral.create')).toHaveLength(1)
    // Another referrer's Bundle with the same order number is theirs, not the first.
    const colleague = await token('referrer2@northside.test')
    expect((await send(request, colleague, (await newBundle(request, colleague, order)).bundle)).id).not.toBe(first.id)
  })

  test('a Bundle the clinic cannot take is an OperationOutcome naming the place, never a value sent, never a 500', async ({ request }) => {
    const referrer = await token(REFERRER)
    const headers = { ...bearer(referrer), ...FHIR_JSON }
    const post = (data: unknown) => request.post('/fhir/R4', { headers, data })
    const { bundle, patient } = await newBundle(request, referrer)
    const secrets = [patient.last, patient.card, patient.first]
    const variant = (change: (b: Bundle) => void) => {
      const copy = structuredClone(bundle)
      change(copy)
      return copy
    }
    const cases: [string, unknown, number, string, string][] = [
      ['a batch', variant((b) => (b.type = 'batch')), 400, 'not-supported', 'Bundle.type'],
      ['no Patient', variant((b) => b.entry.splice(0, 1)), 400, 'required', 'Bundle.entry'],
      ['a PUT entry', variant((b) => (b.entry[0]!.request.method = 'PUT')), 400, 'not-supported', 'Bundle.entry[0].request'],
      ['an Observation', variant((b) => b.entry.push({ ...b.entry[0]!, resource: { resourceType: 'Observation' } })), 400, 'not-supported', 'Bundle.entry[3]'],
      ['subject elsewhere', variant((b) => (b.entry[1]!.resource.subject!.reference = 'Patient/123')), 400, 'invalid', 'ServiceRequest.subject'],
      ['a draft order', variant((b) => (b.entry[1]!.resource.status = 'draft')), 400, 'value', 'ServiceRequest.status'],
      [
        "another clinic's form",
        variant((b) => (b.entry[2]!.resource.questionnaire = 'https://elsewhere.test/form|1')),
        400,
        'value',
        'QuestionnaireResponse.questionnaire',
      ],
      [
        'no identifier anywhere',
        variant((b) => {
          delete (b.entry[1]!.resource as { identifier?: unknown }).identifier
          delete (b.entry[1]!.request as { ifNoneExist?: unknown }).ifNoneExist
        }),
        400,
        'required',
        'Bundle.identifier',
      ],
      [
        'a chained If-None-Exist',
        variant((b) => (b.entry[1]!.request.ifNoneExist = 'patient.identifier=x')),
        400,
        'not-supported',
        'Bundle.entry[1].request.ifNoneExist',
      ],
      [
        'an unknown question',
        variant((b) => b.entry[2]!.resource.item![0]!.item.push({ linkId: 'shoe_size', answer: [{ valueString: patient.last }] })),
        422,
        'not-found',
        'QuestionnaireResponse.item[0].item[' + String(bundle.entry[2]!.resource.item![0]!.item.length) + ']',
      ],
      [
        'a Patient that disagrees',
        variant((b) => b.entry[2]!.resource.item![0]!.item.push({ linkId: 'patient_last_name', answer: [{ valueString: 'Other' }] })),
        422,
        'invariant',
        'Patient',
      ],
      [
        'a required answer missing',
        variant((b) => (b.entry[0]!.resource.name = [])),
        422,
        'invalid',
        "QuestionnaireResponse.item.where(linkId='patient_last_name')",
      ],
      [
        'a bad health card',
        variant((b) => (b.entry[0]!.resource.identifier![0]!.value = 'not-a-card')),
        422,
        'invalid',
        "QuestionnaireResponse.item.where(linkId='health_card_number')",
      ],
      ['asap', variant((b) => (b.entry[1]!.resource.priority = 'asap')), 422, 'not-supported', 'ServiceRequest.priority'],
    ]
    for (const [what, data, status, code, expression] of cases) {
      await test.step(what, async () => {
        const body = await outcome(await post(data), status, expect.any(String), secrets)
        expect(body.issue.map((i) => i.code)).toContain(code)
        expect(expressions(body)).toContain(expression)
      })
    }
    await outcome(
      await post(variant((b) => (b.entry[2]!.resource.questionnaire = b.entry[2]!.resource.questionnaire!.replace(/\|\d+$/, '|99999')))),
      409,
      'conflict',
    )
    await outcome(await request.post('/fhir/R4', { headers: { ...bearer(referrer), 'Content-Type': 'text/plain' }, data: 'hi' }), 415, 'not-supported')
    await outcome(await request.post('/fhir/R4', { headers, data: '{"resourceType":' }), 400, 'invalid')
    await outcome(await post({ resourceType: 'Patient' }), 400, 'invalid')
    await outcome(await request.get('/fhir/R4', { headers: bearer(referrer) }), 405, 'not-supported')
    // Staff enter referrals on the page (with how it came); a referrer sends them. No token: 401.
    await outcome(await request.post('/fhir/R4', { headers: { ...bearer(await token(STAFF)), ...FHIR_JSON }, data: bundle }), 403, 'forbidden')
    await outcome(await request.post('/fhir/R4', { headers: FHIR_JSON, data: bundle }), 401, 'login')
  })

  test('every Task move: each one the workflow allows is made (status, businessStatus, event, audit); every other is refused', async ({ request, owner }) => {
    test.setTimeout(180_000)
    const referrer = await token(REFERRER)
    // The clinic's admin (staff's permissions): ~45 requests in a minute stay clear of the per-user rate limit other specs' staff share.
    const staff = bearer(await token('admin@northside.test'))
    const { id } = await send(request, referrer, (await newBundle(request, referrer)).bundle)
    // The Task as read once: what a move may not change stays the same whatever the status (meta, reasons and stage left out).
    const {
      meta: _meta,
      businessStatus: _stage,
      statusReason: _why,
      lastModified: _at,
      ...task
    } = await fhir<Json>(await request.get(`/fhir/R4/Task/${id}`, { headers: staff }))
    const TASK_FOR: Partial<Record<ReferralStatus, string>> = {
      in_review: 'received',
      info_requested: 'on-hold',
      accepted: 'accepted',
      scheduled: 'in-progress',
      closed: 'completed',
      declined: 'rejected',
    }
    const body = (to: ReferralStatus): Json => ({
      ...task,
      status: TASK_FOR[to]!,
      ...(to === 'declined'
        ? { statusReason: { text: 'Outside our scope', coding: [{ system: `${APP_URL}/fhir/R4/CodeSystem/referral-status-reason`, code: 'outside_scope' }] } }
        : {}),
      ...(to === 'scheduled' ? { executionPeriod: { start: '2027-01-15T14:30:00Z' } } : {}),
    })
    const froms = Object.keys(NEXT_STATUSES).filter((s) => s !== 'forwarded') as ReferralStatus[]
    for (const from of froms) {
      for (const to of Object.keys(TASK_FOR) as ReferralStatus[]) {
        if (to === from) continue
        await test.step(`${from} → ${to}`, async () => {
          await putAt(owner, id, from)
          const { version } = await referralRow(owner, id)
          const put = await request.put(`/fhir/R4/Task/${id}`, { headers: { ...staff, ...FHIR_JSON }, data: body(to) })
          if (NEXT_STATUSES[from].includes(to)) {
            const after = await fhir<Json & { status: string; businessStatus: { coding: { code: string }[] } }>(put)
            expect(after.status).toBe(WORKFLOW[to].task)
            expect(after.businessStatus.coding[0]!.code).toBe(WORKFLOW[to].business)
            expect(put.headers()['etag']).toBe(`W/"${version + 1}"`)
            expect((await referralRow(owner, id)).status).toBe(to)
            const rows = (await auditOfRequest(owner, put.headers()['x-request-id']!)).filter((r) => r.action !== 'record.write')
            expect(rows.map((r) => [r.action, r.outcome, (r.details as { fhir?: boolean; to?: string }).to, (r.details as { fhir?: boolean }).fhir])).toEqual([
              ['referral.status', 'success', to, true],
            ])
          } else {
            const refused = await outcome(put, 422, 'business-rule')
            expect(expressions(refused)).toEqual(['Task.status'])
            expect((await referralRow(owner, id)).status).toBe(from)
          }
        })
      }
    }
  })

  test('Task updates: PATCH with a JSON Patch; versions; reasons and dates; staff do not cancel; a referrer makes no other move', async ({
    request,
    owner,
  }) => {
    const referrer = await token(REFERRER)
    const staff = bearer(await token(STAFF))
    const { id } = await send(request, referrer, (await newBundle(request, referrer)).bundle)
    const patch = (ops: unknown, headers: Record<string, string> = {}) =>
      request.patch(`/fhir/R4/Task/${id}`, { headers: { ...staff, 'Content-Type': 'application/json-patch+json', ...headers }, data: ops })
    const read = await request.get(`/fhir/R4/Task/${id}`, { headers: staff })
    expect(read.headers()['etag']).toBe('W/"1"')

    // A stale If-Match, a failed test, a bad pointer: nothing moves.
    await outcome(await patch([{ op: 'replace', path: '/status', value: 'received' }], { 'If-Match': 'W/"7"' }), 412, 'conflict')
    await outcome(
      await patch([
        { op: 'test', path: '/status', value: 'accepted' },
        { op: 'replace', path: '/status', value: 'received' },
      ]),
      409,
      'conflict',
    )
    await outcome(await patch([{ op: 'replace', path: '/nothing/here', value: 1 }]), 400, 'invalid')
    await outcome(await patch({ op: 'replace' }), 400, 'invalid')
    await outcome(await patch([{ op: 'move', from: '/status', path: '/x' }]), 400, 'not-supported')
    // Only status, statusReason and executionPeriod are the client's.
    const owned = await outcome(await patch([{ op: 'replace', path: '/priority', value: 'stat' }]), 422, 'not-supported')
    expect(expressions(owned)).toEqual(['Task.priority'])
    await outcome(await patch([{ op: 'replace', path: '/status', value: 'draft' }]), 422, 'not-supported')
    await outcome(
      await patch([
        { op: 'replace', path: '/status', value: 'received' },
        { op: 'replace', path: '/businessStatus/coding/0/code', value: '7.0' },
      ]),
      422,
      'invalid',
    )
    expect((await referralRow(owner, id)).status).toBe('received')

    // The move, as a patch carrying If-Match.
    const moved = await patch([{ op: 'replace', path: '/status', value: 'received' }], { 'If-Match': 'W/"1"' })
    expect((await fhir<Json & { status: string }>(moved)).status).toBe('received')
    // A decline without a reason the referrer can read, or with a cancel's category, is refused.
    const noReason = await outcome(await patch([{ op: 'replace', path: '/status', value: 'rejected' }]), 422, 'required')
    expect(expressions(noReason)).toEqual(['Task.statusReason.text'])
    const system = `${APP_URL}/fhir/R4/CodeSystem/referral-status-reason`
    const wrongKind = await outcome(
      await patch([
        { op: 'add', path: '/status', value: 'rejected' },
        { op: 'add', path: '/statusReason', value: { text: 'No', coding: [{ system, code: 'referrer_withdrew' }] } },
      ]),
      422,
      'code-invalid',
    )
    expect(expressions(wrongKind)).toEqual(['Task.statusReason.coding'])
    // Booking needs a date; a date alone books the day.
    await patch([{ op: 'replace', path: '/status', value: 'accepted' }])
    const noDate = await outcome(await patch([{ op: 'replace', path: '/status', value: 'in-progress' }]), 422, 'required')
    expect(expressions(noDate)).toEqual(['Task.executionPeriod.start'])
    await outcome(
      await patch([
        { op: 'replace', path: '/status', value: 'in-progress' },
        { op: 'add', path: '/executionPeriod', value: { start: 'soon' } },
      ]),
      422,
      'invalid',
    )
    await fhir(
      await patch([
        { op: 'replace', path: '/status', value: 'in-progress' },
        { op: 'add', path: '/executionPeriod', value: { start: '2027-01-15T14:30:00Z' } },
      ]),
    )
    const events = await owner
      .select()
      .from(referralEvents)
      .where(eq(referralEvents.referralId, id))
      .orderBy(asc(referralEvents.createdAt), asc(referralEvents.id))
    expect(events.filter((e) => e.type === 'status').map((e) => e.data.to)).toEqual(['in_review', 'accepted', 'scheduled'])

    // Staff may not cancel: the sender does (refusal recorded), staff decline.
    const cancel = await patch([
      { op: 'replace', path: '/status', value: 'cancelled' },
      { op: 'add', path: '/statusReason', value: { text: 'Patient moved' } },
    ])
    const refused = await outcome(cancel, 403, 'forbidden')
    expect(refused.issue[0]!.diagnostics).toMatch(/only the sender of a referral/i)
    const rows = (await auditOfRequest(owner, cancel.headers()['x-request-id']!)).filter((r) => r.action !== 'record.write')
    expect(rows.map((r) => [r.action, r.outcome, r.entityId])).toEqual([['referral.status', 'denied', id]])
    expect((await referralRow(owner, id)).status).toBe('scheduled')

    // A referrer makes no move but their cancel (a recorded 403; the cancel has a test of its own); another clinic finds nothing (404); a bad id is 404.
    const mine = bearer(referrer)
    await outcome(
      await request.put(`/fhir/R4/Task/${id}`, { headers: { ...mine, ...FHIR_JSON }, data: { resourceType: 'Task', id, status: 'completed' } }),
      403,
      'forbidden',
    )
    const stranger = bearer(await token('staff@lakeview.test'))
    await outcome(
      await request.put(`/fhir/R4/Task/${id}`, { headers: { ...stranger, ...FHIR_JSON }, data: { resourceType: 'Task', id, status: 'completed' } }),
      404,
      'not-found',
    )
    await outcome(await request.put('/fhir/R4/Task/not-an-id', { headers: { ...staff, ...FHIR_JSON }, data: { resourceType: 'Task' } }), 404, 'not-found')
    // A PUT of another resource, or of an id not the address's: refused.
    await outcome(await request.put(`/fhir/R4/Task/${id}`, { headers: { ...staff, ...FHIR_JSON }, data: { resourceType: 'Patient' } }), 422, 'invalid')
    await outcome(await request.delete(`/fhir/R4/Task/${id}`, { headers: staff }), 405, 'not-supported')
    // A browser client may send the update: PUT and If-Match pass CORS, and it may read the ETag.
    const preflight = await request.fetch(`/fhir/R4/Task/${id}`, {
      method: 'OPTIONS',
      headers: { Origin: E2E.corsOrigin, 'Access-Control-Request-Method': 'PUT', 'Access-Control-Request-Headers': 'authorization, content-type, if-match' },
    })
    expect(preflight.headers()).toMatchObject({
      'access-control-allow-methods': expect.stringContaining('PUT'),
      'access-control-allow-headers': expect.stringContaining('If-Match'),
    })
    const cors = await request.get(`/fhir/R4/Task/${id}`, { headers: { ...staff, Origin: E2E.corsOrigin } })
    expect(cors.headers()['access-control-expose-headers']).toContain('ETag')
  })

  test('the sender cancels by PUT: a reason, businessStatus 6.0, the event, audit and outbox of any move; nothing else of theirs moves; a colleague or another clinic finds nothing', async ({
    request,
    owner,
  }) => {
    const referrer = await token(REFERRER)
    const mine = bearer(referrer)
    const { id } = await send(request, referrer, (await newBundle(request, referrer)).bundle)
    const task = await fhir<Json>(await request.get(`/fhir/R4/Task/${id}`, { headers: mine }))
    const system = `${APP_URL}/fhir/R4/CodeSystem/referral-status-reason`
    const put = (data: unknown, headers: Record<string, string> = {}, as = mine) =>
      request.put(`/fhir/R4/Task/${id}`, { headers: { ...as, ...FHIR_JSON, ...headers }, data })
    const patch = (ops: unknown, headers: Record<string, string> = {}) =>
      request.patch(`/fhir/R4/Task/${id}`, { headers: { ...mine, 'Content-Type': 'application/json-patch+json', ...headers }, data: ops })
    const cancel = (statusReason: unknown = { text: 'Patient moved away' }) => ({ ...task, status: 'cancelled', statusReason })
    const untouched = async () => {
      expect(await referralRow(owner, id)).toMatchObject({ status: 'received', version: 1 })
      expect((await owner.select().from(referralEvents).where(eq(referralEvents.referralId, id))).filter((e) => e.type === 'status')).toEqual([])
    }

    // Every other move of the sender's, and a PUT of the Task as read: a recorded 403.
    const others: [string, Record<string, unknown>][] = [
      ['requested', {}],
      ['received', {}],
      ['accepted', {}],
      ['rejected', { statusReason: { text: 'Not needed' } }],
      ['completed', {}],
    ]
    for (const [status, extra] of others) {
      await test.step(`the sender moves it to ${status}`, async () => {
        const answer = await put({ ...task, status, ...extra })
        const refused = await outcome(answer, 403, 'forbidden')
        expect(refused.issue[0]!.diagnostics).toMatch(/may only cancel it/)
        const rows = (await auditOfRequest(owner, answer.headers()['x-request-id']!)).filter((r) => r.action !== 'record.write')
        expect(rows.map((r) => [r.action, r.outcome, r.entityId])).toEqual([['referral.status', 'denied', id]])
      })
    }
    await outcome(await patch([{ op: 'replace', path: '/status', value: 'on-hold' }]), 403, 'forbidden')

    // A cancel asks for the reason the clinic reads, and a category (when given) of the cancel's own.
    const noReason = await outcome(await put(cancel({})), 422, 'required')
    expect(expressions(noReason)).toEqual(['Task.statusReason.text'])
    expect(noReason.issue[0]!.diagnostics).toMatch(/a cancel needs a reason the clinic can read/)
    const declines = await outcome(await put(cancel({ text: 'Moved', coding: [{ system, code: 'outside_scope' }] })), 422, 'code-invalid')
    expect(expressions(declines)).toEqual(['Task.statusReason.coding'])
    // Versions hold for the sender as for the clinic.
    await outcome(await put(cancel(), { 'If-Match': 'W/"9"' }), 412, 'conflict')
    await outcome(await put({ ...cancel(), meta: { ...(task.meta as object), versionId: '9' } }), 409, 'conflict')
    await outcome(
      await patch([
        { op: 'test', path: '/status', value: 'accepted' },
        { op: 'replace', path: '/status', value: 'cancelled' },
      ]),
      409,
      'conflict',
    )
    // Another referrer of the clinic, a referrer of another clinic: not there (404), nothing in the answer of it.
    for (const email of ['referrer2@northside.test', 'referrer@lakeview.test']) {
      await outcome(await put(cancel(), {}, bearer(await token(email))), 404, 'not-found', ['Patient moved away'])
    }
    await untouched()

    // The cancel: the Task reads cancelled, stage 6.0 with its category; the order is revoked.
    const done = await put(cancel({ text: 'Patient moved away', coding: [{ system, code: 'patient_declined' }] }), { 'If-Match': 'W/"1"' })
    const after = await fhir<Json & { status: string; businessStatus: { coding: { system: string; code: string }[] } }>(done)
    expect(after).toMatchObject({
      status: 'cancelled',
      businessStatus: { coding: [{ system: BSER_BUSINESS_STATUS, code: '6.0' }] },
      statusReason: { coding: [{ system, code: 'patient_declined' }] },
    })
    expect(done.headers()['etag']).toBe('W/"2"')
    const row = await referralRow(owner, id)
    expect(row).toMatchObject({ status: 'cancelled', version: 2 })
    expect(row.closedAt).toBeInstanceOf(Date)
    const sender = await userByEmail(owner, REFERRER)
    const events = await owner
      .select()
      .from(referralEvents)
      .where(and(eq(referralEvents.referralId, id), eq(referralEvents.type, 'status')))
    expect(events.map((e) => [e.data, e.actorId, e.visibleToReferrer])).toEqual([
      [{ from: 'received', to: 'cancelled', reasonCode: 'patient_declined' }, sender.id, true],
    ])
    expect(JSON.stringify(events)).not.toContain('moved away')
    const rows = (await auditOfRequest(owner, done.headers()['x-request-id']!)).filter((r) => r.action !== 'record.write')
    expect(rows.map((r) => [r.action, r.outcome, r.actorRole, r.details])).toEqual([
      ['referral.status', 'success', 'referrer', { from: 'received', to: 'cancelled', reasonCode: 'patient_declined', fhir: true }],
    ])
    // Announced as any status change is (webhooks, the live queue): ids and states only.
    const announced = await owner
      .select()
      .from(outboxEvents)
      .where(and(eq(outboxEvents.referralId, id), eq(outboxEvents.topic, 'referral.status_changed')))
    expect(announced.map((e) => e.data)).toEqual([expect.objectContaining({ from: 'received', to: 'cancelled', status: 'cancelled', actorId: sender.id })])
    const staff = bearer(await token(STAFF))
    expect(await fhir(await request.get(`/fhir/R4/Task/${id}`, { headers: staff }))).toMatchObject({
      status: 'cancelled',
      businessStatus: { coding: [{ code: '6.0' }] },
    })
    expect(await fhir(await request.get(`/fhir/R4/ServiceRequest/${id}`, { headers: staff }))).toMatchObject({ status: 'revoked' })

    // Once cancelled, cancelling again (the Task as now read) is a move the workflow refuses.
    const again = await outcome(await put({ ...after, statusReason: { text: 'Patient moved away' } }), 422, 'business-rule')
    expect(expressions(again)).toEqual(['Task.status'])
    expect((await referralRow(owner, id)).version).toBe(2)
  })

  test('the sender cancels by PATCH from every status the workflow lets move to cancelled; from any other it is 422', async ({ request, owner }) => {
    const referrer = await token(REFERRER)
    const { id } = await send(request, referrer, (await newBundle(request, referrer)).bundle)
    const froms = Object.keys(NEXT_STATUSES).filter((s) => s !== 'forwarded') as ReferralStatus[]
    for (const from of froms) {
      await test.step(`${from} → cancelled`, async () => {
        await putAt(owner, id, from)
        const { version } = await referralRow(owner, id)
        const answer = await request.patch(`/fhir/R4/Task/${id}`, {
          headers: { ...bearer(referrer), 'Content-Type': 'application/json-patch+json', 'If-Match': `W/"${version}"` },
          data: [
            { op: 'replace', path: '/status', value: 'cancelled' },
            { op: 'add', path: '/statusReason', value: { text: `Withdrawn while ${from}` } },
          ],
        })
        if (canMove(from, 'cancelled')) {
          expect(await fhir(answer)).toMatchObject({ status: 'cancelled', businessStatus: { coding: [{ code: '6.0' }] } })
          expect(await referralRow(owner, id)).toMatchObject({ status: 'cancelled', version: version + 1 })
        } else {
          expect(expressions(await outcome(answer, 422, 'business-rule'))).toEqual(['Task.status'])
          expect(await referralRow(owner, id)).toMatchObject({ status: from, version })
        }
      })
    }
  })

  test('Communication: the clinic asks and the referrer answers over FHIR; each reads the thread (audited); others find nothing', async ({
    request,
    owner,
  }) => {
    const referrer = await token(REFERRER)
    const mine = { ...bearer(referrer), ...FHIR_JSON }
    const staff = { ...bearer(await token(STAFF)), ...FHIR_JSON }
    const { id } = await send(request, referrer, (await newBundle(request, referrer)).bundle)
    const message = (text: string, extra: Record<string, unknown> = {}) => ({
      resourceType: 'Communication',
      status: 'completed',
      basedOn: [{ reference: `ServiceRequest/${id}` }],
      payload: [{ contentString: text }],
      ...extra,
    })
    type Communication = Json & { id: string; inResponseTo?: { reference: string }[]; payload: { contentString: string }[] }

    // The clinic's question puts the referral on hold, as the page's does.
    const asked = await request.post('/fhir/R4/Communication', { headers: staff, data: message('Please send the X-ray report') })
    const question = await fhir<Communication>(asked, 201)
    expect(asked.headers()['location']).toMatch(new RegExp(`/fhir/R4/Communication/${question.id}$`))
    expect(question).toMatchObject({ category: [{ text: 'Question from the clinic' }], payload: [{ contentString: 'Please send the X-ray report' }] })
    expect(await fhir(await request.get(`/fhir/R4/Task/${id}`, { headers: staff }))).toMatchObject({ status: 'on-hold' })

    // The referrer reads the thread and answers the question.
    const threadOf = async (headers: Record<string, string>) =>
      await fhir<Json & { total: number; entry: { resource: Communication }[] }>(
        await request.get(`/fhir/R4/Communication?based-on=ServiceRequest/${id}`, { headers }),
      )
    expect((await threadOf(mine)).entry.map((e) => e.resource.id)).toEqual([question.id])
    const replied = await request.post('/fhir/R4/Communication', {
      headers: mine,
      data: message('Attached at the practice; faxing it today', { inResponseTo: [{ reference: `Communication/${question.id}` }] }),
    })
    const reply = await fhir<Communication>(replied, 201)
    expect(reply.inResponseTo).toEqual([{ reference: `Communication/${question.id}` }])
    const written = (await auditOfRequest(owner, replied.headers()['x-request-id']!)).filter((r) => r.action !== 'record.write')
    expect(written.map((r) => [r.action, r.entityId, r.outcome, r.details])).toEqual([['referral.update', id, 'success', { event: 'reply', fhir: true }]])

    // Staff read it back, as the page shows it: one referral.read row, none of the text in it.
    const read = await request.get(`/fhir/R4/Communication/${reply.id}`, { headers: staff })
    expect(await fhir(read)).toMatchObject({
      id: reply.id,
      inResponseTo: [{ reference: `Communication/${question.id}` }],
      payload: [{ contentString: 'Attached at the practice; faxing it today' }],
      category: [{ text: 'Reply from the referrer' }],
    })
    const rows = (await auditOfRequest(owner, read.headers()['x-request-id']!)).filter((r) => r.action !== 'record.write')
    expect(rows.map((r) => [r.action, r.entityId, r.outcome])).toEqual([['referral.read', id, 'success']])
    expect(JSON.stringify(rows)).not.toContain('faxing')
    expect((await threadOf(staff)).entry.map((e) => e.resource.id)).toEqual([question.id, reply.id])

    // Another clinic, a colleague referrer: nothing there (404), refusals recorded.
    for (const email of ['staff@lakeview.test', 'referrer2@northside.test']) {
      const headers = { ...bearer(await token(email)), ...FHIR_JSON }
      await outcome(await request.get(`/fhir/R4/Communication/${reply.id}`, { headers }), 404, 'not-found', ['faxing'])
      await outcome(await request.get(`/fhir/R4/Communication?based-on=ServiceRequest/${id}`, { headers }), 404, 'not-found')
      if (email.startsWith('referrer')) await outcome(await request.post('/fhir/R4/Communication', { headers, data: message('Me too') }), 404, 'not-found')
    }

    // What the server would not keep is refused, named.
    const bad: [string, unknown, string, string][] = [
      ['no referral', { ...message('x'), basedOn: undefined }, 'required', 'Communication.basedOn'],
      ['a time of its own', message('x', { sent: '2026-01-01T00:00:00Z' }), 'not-supported', 'Communication.sent'],
      ['an attachment', { ...message('x'), payload: [{ contentAttachment: { url: 'http://x.test' } }] }, 'required', 'Communication.payload'],
      ['too long', message('x'.repeat(4001)), 'too-long', 'Communication.payload[0].contentString'],
      ['a draft', message('x', { status: 'preparation' }), 'value', 'Communication.status'],
      ['no such question', message('x', { inResponseTo: [{ reference: `Communication/${randomUUID()}` }] }), 'not-found', 'Communication.inResponseTo'],
      ['a reply as the question', message('x', { inResponseTo: [{ reference: `Communication/${reply.id}` }] }), 'not-found', 'Communication.inResponseTo'],
    ]
    for (const [what, data, code, expression] of bad) {
      await test.step(what, async () => {
        const body = await outcome(await request.post('/fhir/R4/Communication', { headers: mine, data }), 422, expect.any(String))
        expect(body.issue.map((i) => i.code)).toContain(code)
        expect(expressions(body)).toContain(expression)
      })
    }
    for (const query of ['', '?based-on=Patient/1', `?based-on=ServiceRequest/${id}&sent=ge2020-01-01`]) {
      await outcome(await request.get(`/fhir/R4/Communication${query}`, { headers: mine }), 400, expect.any(String))
    }
    await outcome(await request.get('/fhir/R4/Communication/not-an-id', { headers: mine }), 404, 'not-found')
    await outcome(await request.put(`/fhir/R4/Communication/${reply.id}`, { headers: mine, data: reply }), 405, 'not-supported')
  })

  test('done when: `npm run token`, the Bundle `npm run fhir:bundle` prints, in, the referral in the queue, declined on the page, the Task read with businessStatus 4.0', async ({
    signedInAs,
  }) => {
    const run = promisify(execFile)
    const { stdout } = await run('npx', ['tsx', 'scripts/token.ts', REFERRER], { env: { ...process.env, IDP_PORT: String(E2E.idpPort) } })
    const access = stdout.trim()
    const page = await signedInAs(STAFF, '/queue')
    // The Bundle `npm run fhir:bundle` prints, sent as curl would send the file.
    const printed = await run('npx', ['tsx', 'scripts/fhir-bundle.ts', '--token', access, '--app-url', APP_URL])
    const bundle = JSON.parse(printed.stdout) as Json
    expect(await fhirProblems(bundle), 'the printed Bundle is valid R4').toEqual([])
    const sent = await fetch(`${APP_URL}/fhir/R4`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${access}`, 'Content-Type': 'application/fhir+json' },
      body: printed.stdout,
    })
    expect(sent.status).toBe(200)
    const id = (await sent.json<TransactionResponse>()).entry[0]!.response.location.split('/')[1]!

    const order = await (
      await fetch(`${APP_URL}/fhir/R4/ServiceRequest/${id}`, { headers: { Authorization: `Bearer ${access}` } })
    ).json<{
      identifier: { value: string }[]
    }>()
    await go(page, `/queue?ref=${order.identifier[0]!.value}`)
    await expect(page.getByRole('main')).toContainText('Haddad, Amira')
    await go(page, `/referrals/${id}`)
    const panel = page.getByRole('region', { name: 'Work this referral' })
    await panel.getByRole('link', { name: 'Decline…' }).click()
    const confirm = panel.getByRole('form', { name: 'Decline this referral?' })
    await confirm.getByLabel('Kind of reason').selectOption('outside_scope')
    await confirm.getByLabel('Reason (the referrer sees it)').fill('We do not see knees')
    await confirm.getByRole('button', { name: 'Decline referral' }).click()
    await expect(page.getByText('Status changed to Declined.')).toBeVisible()

    const task = await fetch(`${APP_URL}/fhir/R4/Task/${id}`, { headers: { Authorization: `Bearer ${access}` } })
    const body = await task.json<Json>()
    expect(await fhirProblems(body)).toEqual([])
    expect(body).toMatchObject({
      status: 'rejected',
      businessStatus: { coding: [{ code: '4.0', display: 'Service Request Declined' }] },
      statusReason: { coding: [{ code: 'outside_scope' }] },
    })
  })

  test('an EHR system cancels a referral it sent, as the sender; the clinic, the clinic’s referrers and other EHRs may not', async ({ request, owner }) => {
    const ehr = (await getAppToken({ issuer: ISSUER, clientId: 'northside-ehr', clientSecret: 'northside-ehr-secret' })).access_token
    const { bundle } = await newBundle(request, ehr)
    const { id } = await send(request, ehr, bundle, 200)
    const cancel = [
      { op: 'replace', path: '/status', value: 'cancelled' },
      { op: 'add', path: '/statusReason', value: { text: 'Sent to the wrong clinic' } },
    ]
    const patch = (access: string) =>
      request.patch(`/fhir/R4/Task/${id}`, { headers: { ...bearer(access), 'Content-Type': 'application/json-patch+json' }, data: cancel })
    // Not the clinic (it declines), and not a referrer of the clinic: they did not send it.
    await outcome(await patch(await token(STAFF)), 403, 'forbidden')
    await outcome(await patch(await token(REFERRER)), 404, 'not-found')
    expect((await referralRow(owner, id)).status).toBe('received')

    const task = await fhir<Json & { status: string; businessStatus: { coding: { code: string }[] } }>(await patch(ehr))
    expect(task.status).toBe('cancelled')
    expect(task.businessStatus.coding[0]!.code).toBe('6.0')
    expect((await referralRow(owner, id)).status).toBe('cancelled')
    const rows = await owner
      .select()
      .from(auditLogs)
      .where(and(eq(auditLogs.entityId, id), eq(auditLogs.action, 'referral.status'), eq(auditLogs.outcome, 'success')))
    expect(rows).toHaveLength(1)
    expect(rows[0]).toMatchObject({ actorRole: 'integration', details: { fhir: true, to: 'cancelled' } })
    // Again: the workflow refuses a second cancel.
    await outcome(await patch(ehr), 422, 'business-rule')
  })
})
