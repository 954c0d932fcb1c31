/**
 * The FHIR reads beside the referral's own four resources (decision 057): the referrer and
 * their practice, the referral's documents and their files, the clinic's audit trail, the
 * CapabilityStatement without a token, and paging to the end of a clinic of a few thousand
 * referrals. Over real HTTP against the built app, with real tokens from the local provider;
 * every resource and every error is checked by two validators (tests/support/fhir-validate.ts).
 */
import { randomUUID } from 'node:crypto'
import type { APIResponse } from '@playwright/test'
import { and, count, eq, sql } from 'drizzle-orm'
import { DEMO_TENANT_ID, findDemoAccount } from '../../scripts/lib/demo-accounts'
import { clinics, referrals, users } from '../../app/db/schema'
import { fhirProblems } from '../support/fhir-validate'
import { APP_URL, auditOfRequest, bearer, expect, test, token, type Owner, spareRateLimits, FHIR_ACCOUNTS } from './fixtures'
import { attachDocument as attach, fhir, newReferral, outcome, type Json } from './fhir-fixtures'

type Bundle = Json & { total?: number; link: { relation: string; url: string }[]; entry?: { fullUrl: string; resource: Json & { id: string } }[] }

/** The rows a request wrote, besides its own trigger rows. */
const rowsOf = async (owner: Owner, response: APIResponse) =>
  (await auditOfRequest(owner, response.headers()['x-request-id']!)).filter((r) => r.action !== 'record.write')

const PDF = '%PDF-1.4\n1 0 obj <<>> endobj\n%%EOF\n'

test.describe('FHIR R4: the other reads', () => {
  test.beforeEach(({ owner }) => spareRateLimits(owner, FHIR_ACCOUNTS))

  // Loading the validators' definitions blocks this worker for seconds: done before any request.
  test.beforeAll(async () => {
    expect(await fhirProblems({ resourceType: 'Basic', code: { text: 'warm-up' } })).toEqual([])
  })

  test('metadata needs no token and lists every resource served; everything else still does', async ({ request }) => {
    const cs = await fhir<Json & { rest: { resource: { type: string; interaction: { code: string }[] }[] }[] }>(await request.get('/fhir/R4/metadata'))
    expect(cs).toMatchObject({ resourceType: 'CapabilityStatement', fhirVersion: '4.0.1', kind: 'instance' })
    const served = Object.fromEntries(cs.rest[0]!.resource.map((r) => [r.type, r.interaction.map((i) => i.code)]))
    expect(served).toMatchObject({
      Practitioner: ['read'],
      PractitionerRole: ['read'],
      Organization: ['read'],
      DocumentReference: ['read', 'search-type'],
      Binary: ['read'],
      AuditEvent: ['read', 'search-type'],
    })
    // With a token it is the same statement; without one, nothing else answers.
    const signedIn = await fhir(await request.get('/fhir/R4/metadata', { headers: bearer(await token('staff@northside.test')) }))
    expect(signedIn).toEqual(cs)
    for (const path of ['/fhir/R4/ServiceRequest', `/fhir/R4/Practitioner/${randomUUID()}`, '/fhir/R4/AuditEvent', `/fhir/R4/Binary/${randomUUID()}`]) {
      await test.step(path, async () => {
        await outcome(await request.get(path), 401, 'login')
      })
    }
    // A bad token on metadata is refused like anywhere else: it is verified when it is sent.
    await outcome(await request.get('/fhir/R4/metadata', { headers: bearer('not-a-token') }), 401, 'login')
    await outcome(await request.get('/fhir/R4/metadata?_format=xml'), 400, 'not-supported')
  })

  test('the referrer and their practice: the order points at the PractitionerRole, which points at both', async ({ request }) => {
    const { id, body } = await newReferral(request)
    for (const email of ['staff@northside.test', 'referrer@northside.test']) {
      const headers = bearer(await token(email))
      await test.step(email, async () => {
        const sr = await fhir<Json & { requester: { reference: string; display: string } }>(await request.get(`/fhir/R4/ServiceRequest/${id}`, { headers }))
        expect(sr.requester).toMatchObject({ reference: `PractitionerRole/${id}`, identifier: { value: body.data.clinician_billing_number } })
        const role = await fhir(await request.get(`/fhir/R4/${sr.requester.reference}`, { headers }))
        expect(role).toMatchObject({
          resourceType: 'PractitionerRole',
          id,
          practitioner: { reference: `Practitioner/${id}`, display: body.data.clinician_name },
          organization: { reference: `Organization/${id}`, display: body.data.clinician_practice },
          telecom: [{ system: 'phone', value: body.data.clinician_phone }],
        })
        expect(await fhir(await request.get(`/fhir/R4/Practitioner/${id}`, { headers }))).toMatchObject({
          resourceType: 'Practitioner',
          name: [{ text: body.data.clinician_name }],
          identifier: [{ type: { text: 'Billing number' }, value: body.data.clinician_billing_number }],
        })
        expect(await fhir(await request.get(`/fhir/R4/Organization/${id}`, { headers }))).toMatchObject({
          resourceType: 'Organization',
          name: body.data.clinician_practice,
        })
      })
    }
  })

  test('documents: the order lists them; DocumentReference reads and searches and Binary downloads are audited as the page’s', async ({ request, owner }) => {
    const { id } = await newReferral(request)
    const name = `Consult note ${randomUUID().slice(0, 6)}.pdf`
    const documentId = await attach(id, name, PDF)
    const staff = bearer(await token('staff@northside.test'))

    const sr = await fhir<Json & { supportingInfo: { reference: string }[] }>(await request.get(`/fhir/R4/ServiceRequest/${id}`, { headers: staff }))
    expect(sr.supportingInfo).toEqual([{ reference: `QuestionnaireResponse/${id}` }, { reference: `DocumentReference/${documentId}` }])

    const read = await request.get(`/fhir/R4/DocumentReference/${documentId}`, { headers: staff })
    const doc = await fhir(read)
    expect(doc).toMatchObject({
      resourceType: 'DocumentReference',
      id: documentId,
      status: 'current',
      subject: { reference: `Patient/${id}` },
      context: { related: [{ reference: `ServiceRequest/${id}` }] },
      content: [
        {
          attachment: {
            contentType: 'application/pdf',
            size: PDF.length,
            title: name,
            url: expect.stringMatching(new RegExp(`/fhir/R4/Binary/${documentId}$`)),
          },
        },
      ],
    })
    const readRows = await rowsOf(owner, read)
    expect(readRows.map((r) => [r.action, r.entityId, r.outcome, r.details])).toEqual([['document.read', id, 'success', { documentId, download: false }]])
    // The name is PHI: in the answer for the reader, never in the trail.
    expect(JSON.stringify(readRows)).not.toContain(name)

    for (const query of [`related=ServiceRequest/${id}`, `patient=Patient/${id}`, `subject=${encodeURIComponent(`${APP_URL}/fhir/R4/Patient/${id}`)}`]) {
      await test.step(query, async () => {
        const searched = await request.get(`/fhir/R4/DocumentReference?${query}`, { headers: staff })
        const bundle = await fhir<Bundle>(searched)
        expect(bundle).toMatchObject({ type: 'searchset', total: 1 })
        expect(bundle.entry!.map((e) => [e.fullUrl.endsWith(`/DocumentReference/${documentId}`), e.resource.id])).toEqual([[true, documentId]])
        const rows = await rowsOf(owner, searched)
        expect(rows.map((r) => [r.action, r.entityId, r.outcome, r.details])).toEqual([['document.list', id, 'success', { documentIds: [documentId] }]])
      })
    }

    // Binary is the file itself, as the page's download: the same bytes, type, headers and row.
    const file = await request.get(`/fhir/R4/Binary/${documentId}`, { headers: staff })
    expect(file.status()).toBe(200)
    expect(file.headers()['content-type']).toBe('application/pdf')
    expect(file.headers()['content-disposition']).toMatch(/^attachment;/)
    expect(file.headers()['cache-control']).toContain('no-store')
    expect((await file.body()).toString()).toBe(PDF)
    expect((await rowsOf(owner, file)).map((r) => [r.action, r.entityId, r.details])).toEqual([['document.read', id, { documentId, download: true }]])
    // The referrer reads the file they sent too.
    const theirs = await request.get(`/fhir/R4/Binary/${documentId}`, { headers: bearer(await token('referrer@northside.test')) })
    expect((await theirs.body()).toString()).toBe(PDF)

    // A client that takes only FHIR JSON is told the file is served as itself, before anything is read.
    const asJson = await request.get(`/fhir/R4/Binary/${documentId}`, { headers: { ...staff, Accept: 'application/fhir+json' } })
    await outcome(asJson, 406, 'not-supported')
    expect(await rowsOf(owner, asJson)).toEqual([])

    // Refusals, each recorded once and never repeating what was typed.
    await outcome(await request.get('/fhir/R4/DocumentReference', { headers: staff }), 400, 'invalid')
    await outcome(await request.get(`/fhir/R4/DocumentReference?related=ServiceRequest/${id}&patient=Patient/${id}`, { headers: staff }), 400, 'invalid')
    await outcome(await request.get(`/fhir/R4/DocumentReference?related=ServiceRequest/${id}&_sort=date`, { headers: staff }), 400, expect.any(String))
    await outcome(await request.get('/fhir/R4/DocumentReference?related=Patient/Smith', { headers: staff }), 400, 'invalid')
    const typed = await request.get('/fhir/R4/Binary/Smith-1980.pdf', { headers: staff })
    await outcome(typed, 404, 'not-found')
    const typedRows = await rowsOf(owner, typed)
    expect(typedRows.map((r) => [r.action, r.outcome])).toEqual([['document.read', 'denied']])
    expect(JSON.stringify(typedRows)).not.toContain('Smith')
    await outcome(await request.get(`/fhir/R4/DocumentReference/${documentId}?_elements=content`, { headers: staff }), 400, expect.any(String))
    await outcome(
      await request.put(`/fhir/R4/DocumentReference/${documentId}`, { headers: staff, data: { resourceType: 'DocumentReference' } }),
      405,
      'not-supported',
    )
  })

  test("the isolation matrix: another clinic's token and a colleague referrer find none of it (404, recorded)", async ({ request, owner }) => {
    const { id } = await newReferral(request)
    const documentId = await attach(id, 'isolation.pdf', PDF)
    const admin = bearer(await token('admin@northside.test'))
    const audit = await fhir<Bundle>(await request.get('/fhir/R4/AuditEvent?_count=1', { headers: admin }))
    const auditId = audit.entry![0]!.resource.id
    const callers: [string, string][] = [
      ['stranger clinic staff', 'staff@lakeview.test'],
      ['stranger clinic admin', 'admin@lakeview.test'],
      ['colleague referrer', 'referrer2@northside.test'],
    ]
    for (const [who, email] of callers) {
      const headers = bearer(await token(email))
      for (const path of [
        `Practitioner/${id}`,
        `PractitionerRole/${id}`,
        `Organization/${id}`,
        `DocumentReference/${documentId}`,
        `Binary/${documentId}`,
        `DocumentReference?related=ServiceRequest/${id}`,
      ]) {
        await test.step(`${who}: ${path}`, async () => {
          const refused = await request.get(`/fhir/R4/${path}`, { headers })
          await outcome(refused, 404, 'not-found')
          if (path.startsWith('DocumentReference') || path.startsWith('Binary')) {
            expect((await rowsOf(owner, refused)).map((r) => r.outcome)).toEqual(['denied'])
          }
        })
      }
      // The trail is the admins' of its own clinic: another clinic's row does not exist for them; a referrer may not read it.
      await outcome(await request.get(`/fhir/R4/AuditEvent/${auditId}`, { headers }), email.startsWith('admin') ? 404 : 403, expect.any(String))
    }
  })

  test('AuditEvent: the clinic’s trail for admins, each row as the export writes it, paged newest first', async ({ request, owner }) => {
    const { id } = await newReferral(request)
    const admin = bearer(await token('admin@northside.test'))
    const opened = await request.get(`/fhir/R4/Patient/${id}`, { headers: admin })
    expect(opened.status()).toBe(200)
    const [row] = await rowsOf(owner, opened)

    const found = await fhir<Bundle>(await request.get(`/fhir/R4/AuditEvent?subtype=referral.read&outcome=0&date=ge2020-01-01&_count=5`, { headers: admin }))
    expect(found.total).toBeUndefined()
    const event = found.entry!.find((e) => e.resource.id === String(row!.id))?.resource
    expect(event, 'the read just made is among the newest').toBeDefined()
    expect(event).toMatchObject({
      resourceType: 'AuditEvent',
      subtype: [{ system: 'urn:intakepilot:audit-action', code: 'referral.read' }],
      action: 'R',
      outcome: '0',
      agent: [{ who: { identifier: { value: row!.actorId } }, requestor: true }],
      entity: [{ what: { identifier: { value: id } } }],
    })
    for (const entry of found.entry!) expect(entry.resource).toMatchObject({ subtype: [{ code: 'referral.read' }], outcome: '0' })
    // One row read alone is the same event.
    expect(await fhir(await request.get(`/fhir/R4/AuditEvent/${row!.id}`, { headers: admin }))).toEqual(event)

    // Three pages on the keyset: no row twice, each older than the last.
    let url: string | undefined = '/fhir/R4/AuditEvent?_count=20'
    const seen: number[] = []
    for (let pages = 0; url && pages < 3; pages++) {
      const page: Bundle = await fhir<Bundle>(await request.get(url, { headers: admin }))
      seen.push(...page.entry!.map((e) => Number(e.resource.id)))
      url = page.link.find((l) => l.relation === 'next')?.url
    }
    expect(seen).toHaveLength(60)
    expect(new Set(seen).size).toBe(60)

    // Staff and referrers may not read the trail; bad parameters are named.
    for (const email of ['staff@northside.test', 'referrer@northside.test']) {
      await outcome(await request.get('/fhir/R4/AuditEvent', { headers: bearer(await token(email)) }), 403, 'forbidden')
    }
    const bad: [string, string][] = [
      ['subtype=nonsense', 'subtype'],
      ['outcome=success', 'outcome'],
      ['date=yesterday', 'date'],
      ['_cursor=not-ours', '_cursor'],
      ['agent=Practitioner/1', 'agent'],
      ['_count=0', '_count'],
    ]
    for (const [query, parameter] of bad) {
      await test.step(query, async () => {
        const body = await outcome(await request.get(`/fhir/R4/AuditEvent?${query}`, { headers: admin }), 400, expect.any(String))
        expect(body.issue.flatMap((i) => i.expression ?? [])).toContain(parameter)
      })
    }
    await outcome(await request.get('/fhir/R4/AuditEvent/not-a-row', { headers: admin }), 404, 'not-found')
    await outcome(await request.get('/fhir/R4/AuditEvent/99999999999', { headers: admin }), 404, 'not-found')
  })

  test('search pages to the end of a clinic of a few thousand referrals', async ({ request, owner }) => {
    test.slow()
    const clinic = await pagingClinic(owner)
    const headers = bearer(await token(PAGER))
    for (const kind of ['ServiceRequest', 'Task'] as const) {
      await test.step(kind, async () => {
        const seen: string[] = []
        const received: string[] = []
        let url: string | undefined = `/fhir/R4/${kind}?_count=100`
        let first: Bundle | undefined
        let pages = 0
        for (; url && pages < 100; pages++) {
          const page: Bundle = await fhir<Bundle>(await request.get(url, { headers }))
          first ??= page
          for (const entry of page.entry ?? []) {
            seen.push(entry.resource.id)
            received.push(String(entry.resource.authoredOn))
          }
          url = page.link.find((l) => l.relation === 'next')?.url
        }
        expect(url, 'reached the last page').toBeUndefined()
        expect(pages).toBe(Math.ceil(PAGED_REFERRALS / 100))
        expect(seen).toHaveLength(PAGED_REFERRALS)
        expect(new Set(seen).size).toBe(PAGED_REFERRALS)
        expect(new Set(seen)).toEqual(new Set(clinic.ids))
        // Newest first, and the count is left out past 1,000 (counting further is not cheap).
        expect([...received].sort().reverse()).toEqual(received)
        expect(first!.total).toBeUndefined()
      })
    }
    // A filter that leaves fewer than 1,000 gives its total.
    const urgent = await fhir<Bundle>(await request.get('/fhir/R4/ServiceRequest?priority=urgent&_count=1', { headers }))
    expect(urgent.total).toBe(clinic.urgent)
  })
})

const PAGER = 'pager@fhir.test'
const PAGED_REFERRALS = 2500

/**
 * A clinic of its own with PAGED_REFERRALS referrals (no other test sees it), and pager@ as its
 * staff: made once through the owner connection, found again on a retry or a second run.
 * The referrals hold no PHI (searches read none): a reference number, times, a priority.
 */
async function pagingClinic(owner: Owner) {
  const account = findDemoAccount(PAGER)!
  let [staff] = await owner.select().from(users).where(eq(users.email, PAGER))
  if (!staff) {
    const slug = `fhir-paging-${randomUUID().slice(0, 8)}`
    const [clinic] = await owner.insert(clinics).values({ slug, name: 'FHIR Paging Clinic' }).returning()
    ;[staff] = await owner
      .insert(users)
      .values({
        clinicId: clinic!.id,
        email: PAGER,
        displayName: account.name,
        role: 'staff',
        status: 'active',
        idpTenantId: DEMO_TENANT_ID,
        idpObjectId: account.oid,
      })
      .returning()
  }
  const clinicId = staff!.clinicId!
  const [held] = await owner.select({ n: count() }).from(referrals).where(eq(referrals.clinicId, clinicId))
  if (held!.n < PAGED_REFERRALS) {
    await owner.execute(sql`insert into referrals (clinic_id, reference_number, form_version, submitted_by, priority, form_data, received_at)
      select ${clinicId}::uuid, 'PG-' || lpad(i::text, 6, '0'), 1, ${staff!.id}::uuid,
        case when i % 10 = 0 then 'urgent' else 'routine' end, '{}'::jsonb, now() - make_interval(mins => i)
      from generate_series(${held!.n + 1}::int, ${PAGED_REFERRALS}::int) i`)
  }
  const rows = await owner.select({ id: referrals.id, priority: referrals.priority }).from(referrals).where(eq(referrals.clinicId, clinicId))
  const [urgent] = await owner
    .select({ n: count() })
    .from(referrals)
    .where(and(eq(referrals.clinicId, clinicId), eq(referrals.priority, 'urgent')))
  return { id: clinicId, ids: rows.map((r) => r.id), urgent: urgent!.n }
}
