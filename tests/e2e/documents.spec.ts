/**
 * Referral documents end to end (docs/decisions/027-referral-documents.md): attached with a new
 * referral with JavaScript off and on, refused when they break a rule (nothing stored, in R2 or
 * in the database), viewed inline and downloaded by staff (audited, in "Who accessed this"),
 * hidden from other clinics and other referrers, removed with a reason, over the API, and never
 * on disk in plaintext.
 */
import { readFileSync } from 'node:fs'
import { and, eq, sql } from 'drizzle-orm'
import type { Page } from '@playwright/test'
import { auditLogs, clinics, referralDocuments, referrals } from '../../app/db/schema'
import { bigPdf, blobCount, ELF, filesUnder, marker, MB, pdf, r2Folder } from './document-files'
import { bearer, expect, fillReferral, go, referralValues, test, token, uniquePatient, type Owner, type Patient } from './fixtures'

/* ------------------------------------------------------------------ steps */

async function attach(page: Page, files: { name: string; mimeType: string; buffer: Buffer }[], selector = 'input[name=documents]') {
  await page.locator(selector).setInputFiles(files)
}
async function sendReferral(page: Page, patient: Patient, files: { name: string; mimeType: string; buffer: Buffer }[]) {
  await go(page, '/referrals/new')
  await fillReferral(page, referralValues(patient))
  await attach(page, files)
  await page.getByRole('button', { name: 'Send referral' }).click()
}
/** The newest referral of a referrer, created after `since`. */
async function newestReferral(db: Owner, submittedBy: string, since: Date) {
  const rows = await db
    .select()
    .from(referrals)
    .where(and(eq(referrals.submittedBy, submittedBy), sql`${referrals.createdAt} >= ${since.toISOString()}`))
  return rows
}
const documentsOf = (db: Owner, referralId: string) => db.select().from(referralDocuments).where(eq(referralDocuments.referralId, referralId))
const userId = async (db: Owner, email: string) => (await db.execute<{ id: string }>(sql`select id from users where email = ${email}`)).rows[0]!.id

/* ------------------------------------------------------------------ tests */

test('with JavaScript off, a referrer attaches a PDF to a new referral; staff see it inline and download it, both audited', async ({ signedInAs, owner }) => {
  const patient = uniquePatient()
  const secret = marker()
  const referrer = await signedInAs('referrer@northside.test', '/', { javaScriptEnabled: false })
  const since = new Date(Date.now() - 1000)
  await sendReferral(referrer, patient, [{ name: 'consult letter.pdf', mimeType: 'application/pdf', buffer: pdf(secret) }])
  await expect(referrer).toHaveURL(/\/my-referrals\?submitted=/)
  const [referral] = await newestReferral(owner, await userId(owner, 'referrer@northside.test'), since)
  const [doc] = await documentsOf(owner, referral!.id)
  expect(doc).toMatchObject({ contentType: 'application/pdf', sizeBytes: pdf(secret).length, attachedWith: 'referral' })
  // The name is encrypted like any PHI field.
  expect(JSON.stringify(doc!.name)).not.toContain('consult')

  const staff = await signedInAs('staff@northside.test', `/referrals/${referral!.id}`, { javaScriptEnabled: false })
  await expect(staff.getByTestId('document')).toHaveCount(1)
  await staff.getByRole('link', { name: 'consult letter.pdf' }).first().click()
  await expect(staff).toHaveURL(new RegExp(`/referrals/${referral!.id}/documents/${doc!.id}$`))
  await expect(staff.getByRole('heading', { name: 'consult letter.pdf' })).toBeVisible()
  const frame = staff.locator('iframe[title="Document: consult letter.pdf"]')
  await expect(frame).toHaveAttribute('src', `/referrals/${referral!.id}/documents/${doc!.id}/content`)
  // Names and types never in URLs: the document id only.
  expect(staff.url()).not.toContain('consult')

  const inline = await staff.request.get(`/referrals/${referral!.id}/documents/${doc!.id}/content`)
  expect(inline.status()).toBe(200)
  expect(inline.headers()['content-type']).toBe('application/pdf')
  expect(inline.headers()['content-disposition']).toMatch(/^inline;/)
  expect(inline.headers()['content-security-policy']).toContain("default-src 'none'")
  expect(inline.headers()['content-security-policy']).toContain("frame-ancestors 'self'")
  expect(Buffer.from(await inline.body()).equals(pdf(secret))).toBe(true)
  const download = await staff.request.get(`/referrals/${referral!.id}/documents/${doc!.id}/content?download=1`)
  expect(download.headers()['content-disposition']).toMatch(/^attachment;.*consult%20letter\.pdf/)
  expect(Buffer.from(await download.body()).equals(pdf(secret))).toBe(true)

  const reads = await owner
    .select()
    .from(auditLogs)
    .where(and(eq(auditLogs.action, 'document.read'), eq(auditLogs.entityId, referral!.id), eq(auditLogs.outcome, 'success')))
  expect(reads.map((r) => r.details)).toEqual(
    expect.arrayContaining([
      { documentId: doc!.id, download: false },
      { documentId: doc!.id, download: true },
    ]),
  )
  expect(reads.length).toBeGreaterThanOrEqual(3) // the page, the inline bytes, the download
  for (const row of reads) expect(JSON.stringify(row)).not.toContain('consult')

  await go(staff, `/referrals/${referral!.id}/access`)
  await expect(staff.getByTestId('access-row').filter({ hasText: 'Opened a document' }).first()).toBeVisible()

  // The print view lists it.
  await go(staff, `/referrals/${referral!.id}/print`)
  await expect(staff.getByTestId('document')).toHaveText(/consult letter\.pdf/)
})

test('the persisted R2 data holds no plaintext: a unique marker is in no blob on disk @storage', async ({ signedInAs, owner }) => {
  const secret = marker()
  const referrer = await signedInAs('referrer@northside.test', '/', { javaScriptEnabled: false })
  const since = new Date(Date.now() - 1000)
  const text = Buffer.from(`Lab report\n${secret}\n`.repeat(20_000)) // several chunks
  await sendReferral(referrer, uniquePatient(), [{ name: `${secret}.txt`, mimeType: 'text/plain', buffer: text }])
  await expect(referrer).toHaveURL(/\/my-referrals\?submitted=/)
  const [referral] = await newestReferral(owner, await userId(owner, 'referrer@northside.test'), since)
  const [doc] = await documentsOf(owner, referral!.id)
  expect(doc!.chunkCount).toBeGreaterThan(1)
  const files = filesUnder(r2Folder())
  expect(files.length).toBeGreaterThan(0)
  for (const file of files) {
    let bytes: Buffer
    try {
      bytes = readFileSync(file)
    } catch {
      continue // removed since it was listed (a refused upload's staged chunk)
    }
    expect(bytes.includes(Buffer.from(secret)), file).toBe(false)
    expect(bytes.includes(Buffer.from('Lab report')), file).toBe(false)
  }
  // The database has neither the text nor the name.
  const dump = await owner.execute(sql`select row_to_json(d)::text as row from referral_documents d where d.id = ${doc!.id}`)
  expect(JSON.stringify(dump.rows)).not.toContain(secret)
})

test('with JavaScript on, a chosen file can be removed before sending, and the rest goes with progress', async ({ signedInAs, owner }) => {
  const referrer = await signedInAs('referrer@northside.test')
  const since = new Date(Date.now() - 1000)
  await go(referrer, '/referrals/new')
  await fillReferral(referrer, referralValues(uniquePatient()))
  await attach(referrer, [
    { name: 'keep.pdf', mimeType: 'application/pdf', buffer: pdf(marker()) },
    { name: 'drop.pdf', mimeType: 'application/pdf', buffer: pdf(marker()) },
  ])
  await expect(referrer.getByTestId('chosen-file')).toHaveCount(2)
  await referrer.getByRole('button', { name: 'Remove drop.pdf' }).click()
  await expect(referrer.getByTestId('chosen-file')).toHaveCount(1)
  const upload = referrer.waitForRequest((r) => r.url().endsWith('/referrals/new/upload') && r.method() === 'POST')
  await referrer.getByRole('button', { name: 'Send referral' }).click()
  await upload
  await expect(referrer).toHaveURL(/\/my-referrals\?submitted=/)
  const [referral] = await newestReferral(owner, await userId(owner, 'referrer@northside.test'), since)
  const docs = await documentsOf(owner, referral!.id)
  expect(docs).toHaveLength(1)
})

test.describe('refused files: a clear field error, what was typed is kept, nothing is stored @storage', () => {
  const cases = [
    {
      what: 'a PDF renamed .png',
      file: () => ({ name: 'scan.png', mimeType: 'image/png', buffer: pdf(marker()) }),
      error: /is a PDF file, but its name ends in \.png/,
    },
    {
      what: 'an executable renamed .pdf',
      file: () => ({ name: 'report.pdf', mimeType: 'application/pdf', buffer: ELF }),
      error: /is not a PDF, JPEG, PNG, TIFF or plain text file/,
    },
    {
      what: 'a file over 10 MB',
      file: () => ({ name: 'huge.pdf', mimeType: 'application/pdf', buffer: bigPdf(10 * MB + 1, marker()) }),
      error: /larger than 10 MB/,
    },
  ]
  for (const c of cases)
    test(`${c.what}`, async ({ signedInAs, owner }) => {
      const patient = uniquePatient()
      const referrer = await signedInAs('referrer2@northside.test', '/', { javaScriptEnabled: false })
      const since = new Date(Date.now() - 1000)
      const blobs = blobCount()
      await sendReferral(referrer, patient, [c.file()])
      await expect(referrer.getByRole('alert').getByText(c.error)).toBeVisible()
      await expect(referrer.locator('input[name=patient_last_name]')).toHaveValue(patient.last)
      expect(await newestReferral(owner, await userId(owner, 'referrer2@northside.test'), since)).toHaveLength(0)
      expect(blobCount()).toBe(blobs)
    })
})

test.describe('a clinic that lowered its limits @storage', () => {
  test.describe.configure({ mode: 'serial' })
  let before: unknown
  test.beforeAll(async ({ owner }) => {
    const [clinic] = await owner.select().from(clinics).where(eq(clinics.slug, 'riverbend'))
    before = clinic!.settings
    await owner
      .update(clinics)
      .set({ settings: sql`${clinics.settings} || ${JSON.stringify({ documentLimits: { fileBytes: MB, referralBytes: Math.floor(1.5 * MB) } })}::jsonb` })
      .where(eq(clinics.slug, 'riverbend'))
  })
  test.afterAll(async ({ owner }) => {
    await owner
      .update(clinics)
      .set({ settings: before as never })
      .where(eq(clinics.slug, 'riverbend'))
  })

  test('over the referral limit together: refused, none of the files kept', async ({ signedInAs, owner }) => {
    const referrer = await signedInAs('referrer@riverbend.test', '/referrals/new', { javaScriptEnabled: false })
    await expect(referrer.getByText('up to 1 MB a file and 1.5 MB in all')).toBeVisible()
    const since = new Date(Date.now() - 1000)
    const blobs = blobCount()
    const patient = uniquePatient()
    await go(referrer, '/referrals/new')
    const values = referralValues(patient)
    await fillReferral(referrer, values)
    await attach(referrer, [
      { name: 'a.pdf', mimeType: 'application/pdf', buffer: bigPdf(0.9 * MB, marker()) },
      { name: 'b.pdf', mimeType: 'application/pdf', buffer: bigPdf(0.9 * MB, marker()) },
    ])
    await referrer.getByRole('button', { name: 'Send referral' }).click()
    await expect(referrer.getByRole('alert').getByText('Together the files are larger than 1.5 MB')).toBeVisible()
    expect(await newestReferral(owner, await userId(owner, 'referrer@riverbend.test'), since)).toHaveLength(0)
    expect(blobCount()).toBe(blobs)
  })

  test('an admin lowers the limits in the clinic settings, never above the maximum', async ({ signedInAs, owner }) => {
    const admin = await signedInAs('admin@riverbend.test', '/admin/documents', { javaScriptEnabled: false })
    await admin.getByLabel('Largest file (MB)').fill('11')
    await admin.getByRole('button', { name: 'Save' }).click()
    await expect(admin.getByRole('alert').getByText('At most 10 MB', { exact: true })).toBeVisible()
    await admin.getByLabel('Largest file (MB)').fill('2')
    await admin.getByLabel(/documents together \(MB\)/).fill('3')
    await admin.getByRole('button', { name: 'Save' }).click()
    await expect(admin.getByRole('status')).toHaveText('Saved.')
    const [clinic] = await owner.select().from(clinics).where(eq(clinics.slug, 'riverbend'))
    expect(clinic!.settings.documentLimits).toEqual({ fileBytes: 2 * MB, referralBytes: 3 * MB })
    const staff = await signedInAs('staff@riverbend.test', '/admin/documents')
    expect((await staff.request.get('/admin/documents')).status()).toBe(403)
  })
})

test("another clinic's staff and a colleague referrer get 404 for the list and for the file", async ({ signedInAs, owner, request }) => {
  const referrer = await signedInAs('referrer@northside.test', '/', { javaScriptEnabled: false })
  const since = new Date(Date.now() - 1000)
  await sendReferral(referrer, uniquePatient(), [{ name: 'x.pdf', mimeType: 'application/pdf', buffer: pdf(marker()) }])
  await expect(referrer).toHaveURL(/\/my-referrals\?submitted=/)
  const [referral] = await newestReferral(owner, await userId(owner, 'referrer@northside.test'), since)
  const [doc] = await documentsOf(owner, referral!.id)
  const paths = [
    `/referrals/${referral!.id}/documents`,
    `/referrals/${referral!.id}/documents/${doc!.id}`,
    `/referrals/${referral!.id}/documents/${doc!.id}/content`,
  ]
  for (const who of ['staff@lakeview.test', 'referrer2@northside.test']) {
    const page = await signedInAs(who)
    for (const path of paths) expect((await page.request.get(path)).status(), `${who} ${path}`).toBe(404)
    const access = await token(who)
    for (const path of [`/api/v1${paths[0]}`, `/api/v1/referrals/${referral!.id}/documents/${doc!.id}`]) {
      const response = await request.get(path, { headers: bearer(access) })
      expect(response.status(), `${who} ${path}`).toBe(404)
    }
  }
  // The owner's own referrer may.
  expect((await referrer.request.get(paths[2]!)).status()).toBe(200)
})

test('staff attach a document at any time, over the page (JavaScript off) and the API, and remove one with a reason', async ({
  signedInAs,
  owner,
  request,
}) => {
  const referrer = await signedInAs('referrer@northside.test', '/', { javaScriptEnabled: false })
  const since = new Date(Date.now() - 1000)
  await sendReferral(referrer, uniquePatient(), [])
  await expect(referrer).toHaveURL(/\/my-referrals\?submitted=/)
  const [referral] = await newestReferral(owner, await userId(owner, 'referrer@northside.test'), since)
  expect(await documentsOf(owner, referral!.id)).toHaveLength(0)

  const staff = await signedInAs('staff@northside.test', `/referrals/${referral!.id}/documents`, { javaScriptEnabled: false })
  await attach(staff, [{ name: 'faxed original.pdf', mimeType: 'application/pdf', buffer: pdf(marker()) }], 'input#attach-documents')
  await staff.getByRole('button', { name: 'Attach' }).click()
  await expect(staff.getByRole('status')).toHaveText('Document attached.')
  const tab = staff.getByRole('region', { name: 'Documents' })
  await expect(tab.getByTestId('document')).toHaveCount(1)

  const access = await token('staff@northside.test')
  const multipart = { documents: { name: 'lab.png', mimeType: 'image/png', buffer: PNG } }
  const posted = await request.post(`/api/v1/referrals/${referral!.id}/documents`, { headers: bearer(access), multipart })
  expect(posted.status(), await posted.text()).toBe(201)
  const listed = await request.get(`/api/v1/referrals/${referral!.id}/documents`, { headers: bearer(access) })
  const list = (await listed.json()).data as { id: string; name: string; contentType: string }[]
  expect(list.map((d) => [d.name, d.contentType])).toEqual([
    ['faxed original.pdf', 'application/pdf'],
    ['lab.png', 'image/png'],
  ])
  const file = await request.get(`/api/v1/referrals/${referral!.id}/documents/${list[1]!.id}`, { headers: bearer(access) })
  expect(file.headers()['content-type']).toBe('image/png')
  expect(Buffer.from(await file.body()).equals(PNG)).toBe(true)
  const refused = await request.post(`/api/v1/referrals/${referral!.id}/documents`, {
    headers: bearer(access),
    multipart: { documents: { name: 'x.pdf', mimeType: 'application/pdf', buffer: ELF } },
  })
  expect(refused.status()).toBe(400)
  expect(await refused.json()).toMatchObject({ code: expect.any(String), details: { fields: { documents: [expect.stringContaining('is not a PDF')] } } })

  // Removing asks for a reason, then hides it; the row and its bytes stay.
  await go(staff, `/referrals/${referral!.id}/documents/${list[0]!.id}`)
  await staff.getByText('Remove this document').click()
  await staff.getByLabel('Reason (kept with the referral)').fill('Sent to the wrong clinic')
  await staff.getByRole('button', { name: 'Remove' }).click()
  await expect(staff).toHaveURL(new RegExp(`/referrals/${referral!.id}/documents$`))
  await expect(tab.getByTestId('document')).toHaveText([/lab\.png/])
  const [removed] = await owner.select().from(referralDocuments).where(eq(referralDocuments.id, list[0]!.id))
  expect(removed!.removedAt).not.toBeNull()
  expect(JSON.stringify(removed!.removalReason)).not.toContain('wrong clinic')
  const audit = await owner
    .select()
    .from(auditLogs)
    .where(and(eq(auditLogs.action, 'document.remove'), eq(auditLogs.entityId, referral!.id)))
  expect(audit).toHaveLength(1)
  expect((await staff.request.get(`/referrals/${referral!.id}/documents/${list[0]!.id}/content`)).status()).toBe(404)

  // The OpenAPI document describes the three operations.
  const openapi = await (await request.get('/api/v1/openapi.json', { headers: bearer(await token('staff@northside.test')) })).json()
  expect(Object.keys(openapi.paths)).toEqual(expect.arrayContaining(['/referrals/{id}/documents', '/referrals/{id}/documents/{documentId}']))
  expect(openapi.paths['/referrals/{id}/documents'].post.requestBody.content).toHaveProperty('multipart/form-data')
})

test('the referrer replies to the clinic with a document', async ({ signedInAs, owner }) => {
  const referrer = await signedInAs('referrer@northside.test', '/', { javaScriptEnabled: false })
  const since = new Date(Date.now() - 1000)
  await sendReferral(referrer, uniquePatient(), [])
  await expect(referrer).toHaveURL(/\/my-referrals\?submitted=/)
  const [referral] = await newestReferral(owner, await userId(owner, 'referrer@northside.test'), since)
  await go(referrer, `/referrals/${referral!.id}/documents`)
  await referrer.locator('#reply-message').fill('Here is the MRI report you asked for.')
  await attach(referrer, [{ name: 'mri.pdf', mimeType: 'application/pdf', buffer: pdf(marker()) }], 'input#attach-documents')
  await referrer.getByRole('button', { name: 'Send reply' }).click()
  await expect(referrer.getByRole('status')).toHaveText('Document attached.')
  const [doc] = await documentsOf(owner, referral!.id)
  expect(doc).toMatchObject({ attachedWith: 'reply' })
})

const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64')

test('an upload that is not a form, a broken one, or one past any referral: refused with a clear page, nothing kept @storage', async ({ signedInAs }) => {
  const referrer = await signedInAs('referrer@northside.test', '/referrals/new')
  const heading = (html: string) => html.match(/<h1>(.*?)<\/h1>/)?.[1]
  const post = (headers: Record<string, string>, data: Buffer | string) =>
    referrer.request.post('/referrals/new', { headers: { Origin: new URL(referrer.url()).origin, ...headers }, data, maxRedirects: 0 })
  const json = await post({ 'Content-Type': 'application/json' }, '{}')
  expect([json.status(), heading(await json.text())]).toEqual([415, 'This address takes forms only'])
  const broken = await post({ 'Content-Type': 'multipart/form-data; boundary=XyZ' }, '--XyZ\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--Xy')
  expect([broken.status(), heading(await broken.text())]).toEqual([400, 'The form could not be read'])
  // Past the most any referral may carry (51 MB with its form): cut while it streams, a 413 page, nothing kept.
  const blobs = blobCount()
  const head = '--XyZ\r\nContent-Disposition: form-data; name="documents"; filename="huge.pdf"\r\n\r\n%PDF-1.4\n'
  const huge = Buffer.concat([Buffer.from(head), Buffer.alloc(52 * MB, 0x25), Buffer.from('\r\n--XyZ--\r\n')])
  // Refused from its Content-Length before it is read: a 413 page, or the connection cut while the client still sends.
  const tooLarge = await post({ 'Content-Type': 'multipart/form-data; boundary=XyZ' }, huge).catch((error: Error) => error)
  if (tooLarge instanceof Error) expect(tooLarge.message).toMatch(/ECONNRESET|EPIPE|socket hang up/)
  else expect([tooLarge.status(), heading(await tooLarge.text())]).toEqual([413, 'What was sent is too large'])
  expect(blobCount()).toBe(blobs)
})
