/**
 * Documents in a FHIR transaction (docs/decisions/062-documents-in-a-fhir-transaction.md), over
 * real HTTP against the built app in workerd: DocumentReferences with their bytes inline or in a
 * Binary of the Bundle are kept with the referral, as the intake form's files are (sealed in R2,
 * one document.attach row), read back as DocumentReference and Binary, not kept twice by a
 * repeat, and refused with nothing stored (no referral, no document row, no R2 object) when any
 * one breaks a rule; an EHR integration's are kept the same way, named by the integration
 * (docs/decisions/063-documents-from-ehr-integrations.md). In the storage project: it counts the R2 blobs on disk (document-files.ts).
 * Every answer and error is checked by both validators (fhir-fixtures.ts).
 */
import { randomUUID } from 'node:crypto'
import type { APIRequestContext } from '@playwright/test'
import { count, eq, sql } from 'drizzle-orm'
import { z } from 'zod'
import { DocumentSchema } from '../../app/api/schemas'
import { clinics, ehrIntegrations, referralDocuments, referrals } from '../../app/db/schema'
import { findDemoApp } from '../../scripts/lib/demo-accounts'
import { getAppToken } from '../../scripts/lib/idp-login'
import { bigPdf, blobCount, ELF, marker, MB, pdf } from './document-files'
import { fhir, FULL_URLS, outcome, requiredAnswers, transactionBundle, type Json } from './fhir-fixtures'
import { auditOfRequest, bearer, expect, FHIR_ACCOUNTS, go, ISSUER, spareRateLimits, test, token, type Owner } from './fixtures'

const REFERRER = 'referrer@northside.test'
const STAFF = 'staff@northside.test'
const FHIR_JSON = { 'Content-Type': 'application/fhir+json' }
/** The seeded Northside EHR (Referral.Read and Referral.Submit): an app-only token, as an EHR gets one. */
const ehrToken = async () => (await getAppToken({ issuer: ISSUER, ...findDemoApp('northside-ehr')! })).access_token
/** A 1×1 PNG. */
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==', 'base64')

type Attachment = Record<string, unknown>
/** A DocumentReference entry of this Bundle's patient and referral. */
const documentEntry = (attachment: Attachment, more: Record<string, unknown> = {}) => ({
  fullUrl: `urn:uuid:${randomUUID()}`,
  resource: {
    resourceType: 'DocumentReference',
    status: 'current',
    subject: { reference: FULL_URLS.Patient },
    context: { related: [{ reference: FULL_URLS.ServiceRequest }] },
    content: [{ attachment }],
    ...more,
  },
  request: { method: 'POST', url: 'DocumentReference' },
})
const binaryEntry = (fullUrl: string, bytes: Buffer, contentType: string) => ({
  fullUrl,
  resource: { resourceType: 'Binary', contentType, data: bytes.toString('base64') },
  request: { method: 'POST', url: 'Binary' },
})
const inline = (bytes: Buffer, contentType: string, title?: string) => documentEntry({ contentType, data: bytes.toString('base64'), ...(title && { title }) })

/** A referral with `documents` after its three resources, under a fresh identifier. */
async function bundleWith(request: APIRequestContext, access: string, documents: unknown[]) {
  return transactionBundle({
    identifier: { system: 'urn:ietf:rfc:3986', value: `urn:uuid:${randomUUID()}` },
    questionnaireResponse: await requiredAnswers(request, bearer(access)),
    more: documents,
  })
}

type TransactionResponse = Json & { entry: { fullUrl?: string; response: { status: string; location?: string } }[] }
const post = (request: APIRequestContext, access: string, bundle: unknown) =>
  request.post('/fhir/R4', { headers: { ...bearer(access), ...FHIR_JSON }, data: bundle })

/** What a refusal must leave as it was: referrals, document rows, R2 objects. */
async function stored(owner: Owner) {
  const [r] = await owner.select({ n: count() }).from(referrals)
  const [d] = await owner.select({ n: count() }).from(referralDocuments)
  return { referrals: r!.n, documents: d!.n, blobs: blobCount() }
}

/**
 * Sends a Bundle with a letter (a PDF inline) and a picture (a PNG in a Binary entry) and checks
 * the answer: an entry per request entry, each 201 with its location. The ids, the Bundle and its
 * answer, and what was stored before it (to count what it added).
 */
async function sendLetterAndPicture(
  request: APIRequestContext,
  owner: Owner,
  access: string,
  letter: Buffer,
  names: { letter: string; picture: string; binary: string },
) {
  const bundle = await bundleWith(request, access, [
    inline(letter, 'application/pdf', names.letter),
    documentEntry({ contentType: 'image/png', url: names.binary, title: names.picture }),
    binaryEntry(names.binary, PNG, 'image/png'),
  ])
  const before = await stored(owner)
  const sent = await post(request, access, bundle)
  const body = await fhir<TransactionResponse>(sent)
  const id = body.entry[0]!.response.location!.split('/')[1]!
  const [letterId, pictureId] = [body.entry[3]!, body.entry[4]!].map((e) => e.response.location!.split('/')[1]!)
  expect(body.entry.map((e) => e.response)).toEqual([
    { status: '201 Created', location: `Patient/${id}` },
    { status: '201 Created', location: `ServiceRequest/${id}` },
    { status: '201 Created', location: `QuestionnaireResponse/${id}` },
    { status: '201 Created', location: `DocumentReference/${letterId}` },
    { status: '201 Created', location: `DocumentReference/${pictureId}` },
    { status: '201 Created', location: `Binary/${pictureId}` },
  ])
  return { id, letterId: letterId!, pictureId: pictureId!, before, bundle, sent, body }
}

test.describe('documents in a FHIR transaction @storage', () => {
  test.describe.configure({ mode: 'serial' })
  test.beforeEach(({ owner }) => spareRateLimits(owner, FHIR_ACCOUNTS))

  test('a PDF inline and a PNG in a Binary: kept with the referral, listed, read back byte for byte, attached once and audited as FHIR', async ({
    request,
    owner,
  }) => {
    const referrer = await token(REFERRER)
    const secret = marker()
    const letter = pdf(secret)
    const { id, letterId, pictureId, before, bundle, sent, body } = await sendLetterAndPicture(request, owner, referrer, letter, {
      letter: 'Consult letter.pdf',
      picture: 'knee.png',
      binary: 'urn:uuid:8c1d0b2e-0000-4000-8000-00000000b1b1',
    })

    // Stored as the form stores them: rows of the referral, sealed chunks in R2, the name encrypted.
    const rows = await owner.select().from(referralDocuments).where(eq(referralDocuments.referralId, id))
    expect(rows.map((r) => [r.id, r.contentType, Number(r.sizeBytes), r.attachedWith]).sort()).toEqual(
      [
        [letterId, 'application/pdf', letter.length, 'referral'],
        [pictureId, 'image/png', PNG.length, 'referral'],
      ].sort(),
    )
    expect(JSON.stringify(rows)).not.toContain('Consult')
    const after = await stored(owner)
    expect(after).toMatchObject({ referrals: before.referrals + 1, documents: before.documents + 2 })
    expect(after.blobs).toBe(before.blobs + 2)

    // One document.attach row, with the referral's create, both marked FHIR, no name in them.
    const audit = (await auditOfRequest(owner, sent.headers()['x-request-id']!)).filter((r) => r.action !== 'record.write').reverse()
    expect(audit.map((r) => [r.action, r.entityId, r.outcome])).toEqual([
      ['referral.create', id, 'success'],
      ['document.attach', id, 'success'],
    ])
    expect(audit[1]!.details).toEqual({ documentIds: expect.arrayContaining([letterId, pictureId]), with: 'referral', fhir: true })
    expect(audit[0]!.details).toMatchObject({ fhir: true })
    expect(JSON.stringify(audit)).not.toContain('Consult')

    // Read back by the clinic: the ServiceRequest lists them, each DocumentReference and Binary is what was sent.
    const staff = bearer(await token(STAFF))
    const sr = await fhir<Json & { supportingInfo: { reference: string }[] }>(await request.get(`/fhir/R4/ServiceRequest/${id}`, { headers: staff }))
    expect(sr.supportingInfo.map((s) => s.reference)).toEqual(expect.arrayContaining([`DocumentReference/${letterId}`, `DocumentReference/${pictureId}`]))
    const reference = await fhir<Json & { content: { attachment: Attachment }[] }>(
      await request.get(`/fhir/R4/DocumentReference/${letterId}`, { headers: staff }),
    )
    expect(reference).toMatchObject({
      status: 'current',
      subject: { reference: `Patient/${id}` },
      context: { related: [{ reference: `ServiceRequest/${id}` }] },
    })
    expect(reference.content[0]!.attachment).toMatchObject({ contentType: 'application/pdf', size: letter.length, title: 'Consult letter.pdf' })
    for (const [documentId, bytes, type] of [
      [letterId, letter, 'application/pdf'],
      [pictureId, PNG, 'image/png'],
    ] as const) {
      const binary = await request.get(`/fhir/R4/Binary/${documentId}`, { headers: staff })
      expect(binary.status()).toBe(200)
      expect(binary.headers()['content-type']).toBe(type)
      expect(Buffer.from(await binary.body()).equals(bytes)).toBe(true)
    }

    // A repeat gives the first referral and its documents back, and keeps no second copy.
    const again = await fhir<TransactionResponse>(await post(request, referrer, bundle))
    expect(again.entry.map((e) => e.response)).toEqual(body.entry.map((e) => ({ ...e.response, status: '200 OK' })))
    expect(await stored(owner)).toEqual(after)
  })

  test('a repeat that carries a document the first did not: the first referral back, that document not kept and said so', async ({ request, owner }) => {
    const referrer = await token(REFERRER)
    const bundle = await bundleWith(request, referrer, [inline(pdf(marker()), 'application/pdf')])
    const first = await fhir<TransactionResponse>(await post(request, referrer, bundle))
    const before = await stored(owner)
    bundle.entry.push(inline(pdf(marker()), 'application/pdf'))
    const again = await fhir<TransactionResponse>(await post(request, referrer, bundle))
    expect(again.entry.slice(0, 4).map((e) => e.response)).toEqual(first.entry.map((e) => ({ ...e.response, status: '200 OK' })))
    expect(again.entry[4]!.response).toMatchObject({
      status: '200 OK',
      outcome: { resourceType: 'OperationOutcome', issue: [{ severity: 'warning', code: 'duplicate' }] },
    })
    expect(again.entry[4]!.response.location).toBeUndefined()
    expect(await stored(owner)).toEqual(before)
  })

  test('refused, with the place named and no value repeated, and nothing stored: no referral, no document row, no R2 object', async ({ request, owner }) => {
    const referrer = await token(REFERRER)
    const title = `Letter for ${marker()}.pdf`
    const letter = pdf(marker())
    const at = (i: number, rest = '') => `Bundle.entry[${i}]${rest}`
    const cases: [string, unknown[], number, string, string][] = [
      [
        'a url outside the Bundle',
        [documentEntry({ contentType: 'application/pdf', url: 'https://elsewhere.test/letter.pdf', title })],
        400,
        'invalid',
        at(3, '.resource.content[0].attachment.url'),
      ],
      [
        'a Binary no DocumentReference names',
        [inline(letter, 'application/pdf', title), binaryEntry('urn:uuid:b', letter, 'application/pdf')],
        400,
        'not-supported',
        at(4),
      ],
      [
        'bad base64',
        [documentEntry({ contentType: 'application/pdf', data: `${letter.toString('base64')}!`, title })],
        400,
        'invalid',
        at(3, '.resource.content[0].attachment.data'),
      ],
      ['a type not taken', [inline(letter, 'application/zip', title)], 422, 'not-supported', at(3, '.resource.content[0].attachment.contentType')],
      // file-type decides, as on the form: these are staged, found out and deleted.
      [
        'a PNG declared a PDF',
        [inline(letter, 'application/pdf'), inline(PNG, 'application/pdf', title)],
        422,
        'invalid',
        at(4, '.resource.content[0].attachment.data'),
      ],
      ['a program declared a PDF', [inline(ELF, 'application/pdf', title)], 422, 'invalid', at(3, '.resource.content[0].attachment.data')],
      [
        'a PDF in a Binary declared a PNG',
        [documentEntry({ url: 'urn:uuid:b', title: 'x.png' }), binaryEntry('urn:uuid:b', letter, 'image/png')],
        422,
        'invalid',
        at(4, '.resource.data'),
      ],
      [
        'a file over 10 MB, judged from its base64',
        [inline(Buffer.alloc(10 * MB + 1, 'a'), 'text/plain', title)],
        422,
        'too-long',
        at(3, '.resource.content[0].attachment.data'),
      ],
      ['more than 50 documents', Array.from({ length: 51 }, () => inline(Buffer.from('a note'), 'text/plain')), 422, 'too-long', 'Bundle.entry'],
    ]
    for (const [what, documents, status, code, expression] of cases) {
      await test.step(what, async () => {
        const before = await stored(owner)
        const refused = await outcome(await post(request, referrer, await bundleWith(request, referrer, documents)), status, code, [title, 'elsewhere.test'])
        expect(refused.issue.flatMap((i) => i.expression ?? [])).toContain(expression)
        expect(await stored(owner)).toEqual(before)
      })
    }
  })

  test('a document with a form that does not validate: the referral is refused and the document, sealed already, is gone', async ({ request, owner }) => {
    const referrer = await token(REFERRER)
    const bundle = await bundleWith(request, referrer, [inline(pdf(marker()), 'application/pdf')])
    const answers = (bundle.entry[2] as { resource: unknown }).resource as { item: { linkId: string; answer: unknown[] }[] }
    answers.item = answers.item.slice(1) // a required answer left out
    const before = await stored(owner)
    await outcome(await post(request, referrer, bundle), 422, 'invalid')
    expect(await stored(owner)).toEqual(before)
  })

  test('an EHR integration’s Bundle with a PDF inline and a PNG in a Binary: kept, named by the integration for staff, read back by it, audited under it', async ({
    request,
    owner,
    signedInAs,
  }) => {
    const [ehr] = await owner.select().from(ehrIntegrations).where(eq(ehrIntegrations.clientId, 'northside-ehr'))
    expect(ehr).toMatchObject({ status: 'active', roles: ['Referral.Read', 'Referral.Submit'] })
    const access = await ehrToken()
    const letter = pdf(marker())
    const { id, letterId, pictureId, before, bundle, sent, body } = await sendLetterAndPicture(request, owner, access, letter, {
      letter: 'EHR letter.pdf',
      picture: 'ehr-knee.png',
      binary: 'urn:uuid:8c1d0b2e-0000-4000-8000-00000000e4e4',
    })

    // Kept with the referral, sent by the integration and uploaded by it: no person of the clinic.
    const [referral] = await owner.select().from(referrals).where(eq(referrals.id, id))
    expect(referral).toMatchObject({ submittedBy: null, submittedByIntegration: ehr!.id, submittedByIntegrationName: 'Northside EHR' })
    const rows = await owner.select().from(referralDocuments).where(eq(referralDocuments.referralId, id))
    expect(rows.map((r) => [r.id, r.contentType, r.attachedWith, r.uploadedBy, r.uploadedByIntegration]).sort()).toEqual(
      [
        [letterId, 'application/pdf', 'referral', null, ehr!.id],
        [pictureId, 'image/png', 'referral', null, ehr!.id],
      ].sort(),
    )
    const after = await stored(owner)
    expect(after).toEqual({ referrals: before.referrals + 1, documents: before.documents + 2, blobs: before.blobs + 2 })

    // Its trail names the integration, the create and the attach alike, no file name in it.
    const trail = await auditOfRequest(owner, sent.headers()['x-request-id']!)
    expect(trail.filter((r) => r.action === 'document.attach').map((r) => [r.entityId, r.outcome, r.details])).toEqual([
      [id, 'success', { documentIds: expect.arrayContaining([letterId, pictureId]), with: 'referral', fhir: true }],
    ])
    expect(trail.map((r) => [r.actorId, r.actorRole])).toEqual(trail.map(() => [ehr!.id, 'integration']))
    expect(JSON.stringify(trail)).not.toContain('EHR letter')

    // Staff see both as the EHR's: on the referral page, its Documents tab and its print view.
    const page = await signedInAs(STAFF, `/referrals/${id}`)
    for (const view of [`/referrals/${id}`, `/referrals/${id}/documents`, `/referrals/${id}/print`]) {
      await go(page, view)
      const listed = page.getByTestId('document')
      await expect(listed, view).toHaveCount(2)
      await expect(listed.filter({ hasText: 'EHR letter.pdf' }), view).toContainText('(Northside EHR)')
      await expect(listed.filter({ hasText: 'ehr-knee.png' }), view).toContainText('(Northside EHR)')
    }
    // The API's list gives the integration as the uploader.
    const listedByApi = await request.get(`/api/v1/referrals/${id}/documents`, { headers: bearer(await token(STAFF)) })
    expect(listedByApi.status(), await listedByApi.text()).toBe(200)
    // As the OpenAPI document describes the list.
    const listed = z.array(DocumentSchema).parse((await listedByApi.json()).data)
    expect(listed.map((d) => d.uploadedBy)).toEqual([ehr!.id, ehr!.id])

    // With Referral.Read it reads them back: the DocumentReference, and each Binary byte for byte.
    const headers = bearer(access)
    const reference = await fhir<Json & { content: { attachment: Attachment }[] }>(await request.get(`/fhir/R4/DocumentReference/${letterId}`, { headers }))
    expect(reference).toMatchObject({ subject: { reference: `Patient/${id}` }, context: { related: [{ reference: `ServiceRequest/${id}` }] } })
    expect(reference.content[0]!.attachment).toMatchObject({ contentType: 'application/pdf', size: letter.length, title: 'EHR letter.pdf' })
    for (const [documentId, bytes] of [
      [letterId, letter],
      [pictureId, PNG],
    ] as const) {
      const binary = await request.get(`/fhir/R4/Binary/${documentId}`, { headers })
      expect(binary.status()).toBe(200)
      expect(Buffer.from(await binary.body()).equals(bytes)).toBe(true)
      // Each read is recorded under the integration, as staff's are.
      const read = (await auditOfRequest(owner, binary.headers()['x-request-id']!)).filter((r) => r.action === 'document.read')
      expect(read.map((r) => [r.actorId, r.actorRole, r.entityId, r.outcome, r.details])).toEqual([
        [ehr!.id, 'integration', id, 'success', expect.objectContaining({ documentId, download: true })],
      ])
    }

    // A repeat is the first referral with its documents, nothing kept twice.
    const again = await fhir<TransactionResponse>(await post(request, access, bundle))
    expect(again.entry.map((e) => e.response)).toEqual(body.entry.map((e) => ({ ...e.response, status: '200 OK' })))
    expect(await stored(owner)).toEqual(after)
  })

  test('an EHR integration’s refused document stores nothing: no referral, no document row, no R2 object', async ({ request, owner }) => {
    const access = await ehrToken()
    const title = `Letter for ${marker()}.pdf`
    await test.step('a program declared a PDF', async () => {
      const before = await stored(owner)
      const refused = await outcome(await post(request, access, await bundleWith(request, access, [inline(ELF, 'application/pdf', title)])), 422, 'invalid', [
        title,
      ])
      expect(refused.issue.flatMap((i) => i.expression ?? [])).toContain('Bundle.entry[3].resource.content[0].attachment.data')
      expect(await stored(owner)).toEqual(before)
    })
    await test.step('a form that does not validate, its document sealed already', async () => {
      const bundle = await bundleWith(request, access, [inline(pdf(marker()), 'application/pdf', title)])
      const answers = (bundle.entry[2] as { resource: unknown }).resource as { item: { linkId: string; answer: unknown[] }[] }
      answers.item = answers.item.slice(1) // a required answer left out
      const before = await stored(owner)
      await outcome(await post(request, access, bundle), 422, 'invalid', [title])
      expect(await stored(owner)).toEqual(before)
    })
  })

  test('the largest file a form may attach (10 MB) comes in one Bundle; a Bundle over the body limit (16 MB) is 413 before it is read', async ({
    request,
    owner,
    playwright,
  }) => {
    const referrer = await token(REFERRER)
    const big = bigPdf(10 * MB, marker())
    const before = await stored(owner)
    const body = await fhir<TransactionResponse>(await post(request, referrer, await bundleWith(request, referrer, [inline(big, 'application/pdf')])))
    const documentId = body.entry[3]!.response.location!.split('/')[1]!
    const [row] = await owner.select().from(referralDocuments).where(eq(referralDocuments.id, documentId))
    expect(Number(row!.sizeBytes)).toBe(big.length)
    expect((await stored(owner)).blobs).toBeGreaterThan(before.blobs + 30) // 256 KB chunks

    // Its own client: the 413 closes the connection (tests/e2e/api.spec.ts).
    const alone = await playwright.request.newContext({ baseURL: test.info().project.use.baseURL })
    const past = await bundleWith(request, referrer, [inline(Buffer.alloc(9 * MB, 'a'), 'text/plain'), inline(Buffer.alloc(3 * MB + 1, 'a'), 'text/plain')])
    const middle = await stored(owner)
    await outcome(await post(alone, referrer, past), 413, 'too-costly')
    await alone.dispose()
    expect(await stored(owner)).toEqual(middle)
  })

  test.describe('a clinic that lowered its limits', () => {
    let settings: unknown
    test.beforeAll(async ({ owner }) => {
      const [clinic] = await owner.select().from(clinics).where(eq(clinics.slug, 'northside'))
      settings = clinic!.settings
      await owner
        .update(clinics)
        .set({ settings: sql`${clinics.settings} || ${JSON.stringify({ documentLimits: { fileBytes: MB, referralBytes: Math.floor(1.5 * MB) } })}::jsonb` })
        .where(eq(clinics.slug, 'northside'))
    })
    test.afterAll(async ({ owner }) => {
      await owner
        .update(clinics)
        .set({ settings: settings as never })
        .where(eq(clinics.slug, 'northside'))
    })

    test('its own limits, a file’s and a referral’s, refuse the Bundle before its documents are read', async ({ request, owner }) => {
      const referrer = await token(REFERRER)
      const before = await stored(owner)
      const oneFile = await bundleWith(request, referrer, [inline(Buffer.alloc(MB + 1, 'a'), 'text/plain')])
      const file = await outcome(await post(request, referrer, oneFile), 422, 'too-long')
      expect(file.issue[0]!.diagnostics).toContain('larger than 1 MB')
      const two = await bundleWith(request, referrer, [inline(Buffer.alloc(0.9 * MB, 'a'), 'text/plain'), inline(Buffer.alloc(0.9 * MB, 'a'), 'text/plain')])
      const together = await outcome(await post(request, referrer, two), 422, 'too-long')
      expect(together.issue[0]!.diagnostics).toContain('1.5 MB')
      expect(await stored(owner)).toEqual(before)
    })
  })
})
