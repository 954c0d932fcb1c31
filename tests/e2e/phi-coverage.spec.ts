/**
 * PHI-route coverage (decision 013): every route module that shows PHI says so with
 * `handle.phi`, pages and API alike, and this spec visits each one, as every role, for real
 * (a signed-in browser for pages, a bearer token for the API), and checks the audit trail:
 * exactly one row for each access, allowed or refused, with the right action, entity and
 * outcome, in the actor's own clinic chain. A refusal (403, or 404 for what is not theirs to
 * see) is a `denied` row that says why and holds ids only.
 *
 * The list of PHI routes comes from the built server bundle, so there is one source: a new
 * route marked `phi` fails here until COVERAGE says how to visit it as each role.
 */
import { execFileSync } from 'node:child_process'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { APIRequestContext, APIResponse } from '@playwright/test'
import { and, desc, eq, ne } from 'drizzle-orm'
import type { AuditAction } from '../../app/audit/audit.server'
import { auditLogs, clinics, referrals, users } from '../../app/db/schema'
import { requiredAnswers, transactionBundle } from './fhir-fixtures'
import { APP_URL, bearer, expect, FHIR_ACCOUNTS, SAME_ORIGIN, spareRateLimits, test, today, token, type Owner, type SignedInAs } from './fixtures'

const ROLES = ['staff', 'admin', 'referrer'] as const
type Role = (typeof ROLES)[number]
/** `foreign`: a referral of another clinic; `own` is the referrer's, `others` another referrer's. */
type Fixtures = { clinicId: string; userIds: Record<Role, string>; own: string; others: string; foreign: string; doc: { referralId: string; id: string } }
type Send = (request: APIRequestContext, headers: Record<string, string>) => Promise<APIResponse>
type Visit = {
  as: Role
  what: string
  /** `fhir`: /fhir/R4, with a bearer token like the API, its refusals OperationOutcomes. */
  via: 'page' | 'api' | 'fhir'
  send: Send
  status: 200 | 201 | 403 | 404
  /**
   * The one row this access must write (a write's own trigger rows aside); `null` for a visit
   * that shows no PHI (a page that only leads to a PHI action): not an access, so no row at all.
   */
  row: { action: AuditAction; entityId: string | null; outcome: 'success' | 'denied'; details?: Record<string, unknown>; entityType?: 'patient' } | null
  /** A list: the ids it returned, which its row must name exactly. */
  shown?: (response: APIResponse) => Promise<string[]>
  /** What the request carried that must never reach the trail (search terms). */
  secret?: string
}

const EMAILS: Record<Role, string> = { staff: 'staff@northside.test', admin: 'admin@northside.test', referrer: 'referrer@northside.test' }
const HOME: Record<Role, string> = { staff: '/queue', admin: '/queue', referrer: '/my-referrals' }
const HEALTH_CARD = '0000-000-000-XX'

const page = (send: Send) => ({ via: 'page' as const, send })
const api = (send: Send) => ({ via: 'api' as const, send })
const get = (path: string) => page((request) => request.get(path, { maxRedirects: 0 }))
const apiGet = (path: string) => api((request, headers) => request.get(path, { headers }))
const fhir = (send: Send) => ({ via: 'fhir' as const, send })
const fhirGet = (path: string) => fhir((request, headers) => request.get(path, { headers }))
const fhirIds = async (response: APIResponse) => ((await response.json()).entry as { resource: { id: string } }[]).map((e) => e.resource.id)
/** A referrer's reply to their referral (app/fhir/communications.server.ts). */
const reply = (referralId: string) => ({
  resourceType: 'Communication',
  status: 'completed',
  basedOn: [{ reference: `ServiceRequest/${referralId}` }],
  payload: [{ contentString: 'A reply for the coverage check' }],
})

/** A transaction Bundle answering every field of the clinic's current form in its QuestionnaireResponse (app/fhir/transaction.ts). */
async function sendTransaction(request: APIRequestContext, headers: Record<string, string>) {
  const data = transactionBundle({
    identifier: { system: 'urn:ietf:rfc:3986', value: `urn:uuid:${crypto.randomUUID()}` },
    questionnaireResponse: await requiredAnswers(request, headers),
  })
  return request.post('/fhir/R4', { headers: { ...headers, 'Content-Type': 'application/fhir+json' }, data })
}
const apiIds = async (response: APIResponse) => ((await response.json()).data as { id: string }[]).map((r) => r.id)
const success = (action: AuditAction, entityId: string | null = null, details?: Record<string, unknown>) => ({
  action,
  entityId,
  outcome: 'success' as const,
  details,
})
const denied = (action: AuditAction, entityId: string | null = null, details?: Record<string, unknown>) => ({
  action,
  entityId,
  outcome: 'denied' as const,
  details,
})
const docPath = (fx: Fixtures, referralId = fx.doc.referralId, tail = '') => `/referrals/${referralId}/documents/${fx.doc.id}${tail}`
/** A forward as the page posts it (a refused one: a forward that went through would close a referral other visits use). */
const forward = (referralId: string) =>
  page((request) =>
    request.post(`/referrals/${referralId}/forward`, {
      form: { toClinic: crypto.randomUUID(), reason: 'Patient Smith moved', version: '1' },
      headers: SAME_ORIGIN,
      maxRedirects: 0,
    }),
  )
/** A patient's accounting (its row names the patient's referrals, so its entity is the patient): posted, as the page and its export do. */
const year = Number(today().slice(0, 4))
const accounting = (path: string) =>
  page((request) => request.post(path, { form: { healthCard: HEALTH_CARD, from: `${year - 1}-01-01`, to: today() }, headers: SAME_ORIGIN, maxRedirects: 0 }))
const ofPatient = <R extends { action: AuditAction }>(row: R) => ({ ...row, entityType: 'patient' as const })
const search = page((request) => request.post('/queue.data', { form: { healthCard: HEALTH_CARD }, headers: SAME_ORIGIN, maxRedirects: 0 }))

/** Route id -> how each role visits it, and what the trail must then say. */
const COVERAGE: Record<string, (fx: Fixtures) => Visit[]> = {
  'routes/_app.queue': () => [
    { as: 'staff', what: 'the queue', ...get('/queue'), status: 200, row: success('referral.list', null, { search: false }) },
    { as: 'admin', what: 'the queue', ...get('/queue'), status: 200, row: success('referral.list', null, { search: false }) },
    {
      as: 'staff',
      what: 'a patient search (posted as the browser does, single fetch)',
      ...search,
      status: 200,
      row: success('referral.list', null, { search: true }),
      secret: HEALTH_CARD,
    },
    { as: 'referrer', what: 'the queue', ...get('/queue'), status: 403, row: denied('referral.list') },
    { as: 'referrer', what: 'a patient search', ...search, status: 403, row: denied('referral.list', null, { search: true }), secret: HEALTH_CARD },
  ],
  'routes/_app.admin.disclosures': () => [
    // The empty form names no patient: not an access. The search is one (disclosures.read), refused or not.
    { as: 'admin', what: 'the accounting of disclosures form', ...get('/admin/disclosures'), status: 200, row: null },
    {
      as: 'admin',
      what: "a patient's accounting",
      ...accounting('/admin/disclosures'),
      status: 200,
      row: ofPatient(success('disclosures.read')),
      secret: HEALTH_CARD,
    },
    { as: 'staff', what: 'the accounting form (a privacy officer’s)', ...get('/admin/disclosures'), status: 403, row: ofPatient(denied('disclosures.read')) },
    {
      as: 'staff',
      what: "a patient's accounting",
      ...accounting('/admin/disclosures'),
      status: 403,
      row: ofPatient(denied('disclosures.read')),
      secret: HEALTH_CARD,
    },
    { as: 'referrer', what: 'the accounting form', ...get('/admin/disclosures'), status: 403, row: ofPatient(denied('disclosures.read')) },
  ],
  'routes/admin.disclosures.export': () => [
    {
      as: 'admin',
      what: "a patient's accounting as CSV",
      ...accounting('/admin/disclosures/export'),
      status: 200,
      row: ofPatient(success('disclosures.export')),
      secret: HEALTH_CARD,
    },
    {
      as: 'staff',
      what: "a patient's accounting as CSV",
      ...accounting('/admin/disclosures/export'),
      status: 403,
      row: ofPatient(denied('disclosures.export')),
      secret: HEALTH_CARD,
    },
    {
      as: 'referrer',
      what: "a patient's accounting as CSV",
      ...accounting('/admin/disclosures/export'),
      status: 403,
      row: ofPatient(denied('disclosures.export')),
      secret: HEALTH_CARD,
    },
  ],
  'routes/_app.referrals.$id': (fx) => [
    { as: 'staff', what: 'a referral', ...get(`/referrals/${fx.own}`), status: 200, row: success('referral.read', fx.own) },
    { as: 'admin', what: 'a referral', ...get(`/referrals/${fx.others}`), status: 200, row: success('referral.read', fx.others) },
    { as: 'referrer', what: 'their own referral', ...get(`/referrals/${fx.own}`), status: 200, row: success('referral.read', fx.own) },
    { as: 'referrer', what: "another referrer's referral", ...get(`/referrals/${fx.others}`), status: 404, row: denied('referral.read', fx.others) },
    { as: 'staff', what: "another clinic's referral", ...get(`/referrals/${fx.foreign}`), status: 404, row: denied('referral.read', fx.foreign) },
    { as: 'admin', what: 'something that is not an id', ...get('/referrals/Smith-1980'), status: 404, row: denied('referral.read'), secret: 'Smith' },
    {
      as: 'referrer',
      what: 'a status change on their own referral (staff work)',
      ...page((request) =>
        request.post(`/referrals/${fx.own}`, { form: { intent: 'status', to: 'accepted', version: '1' }, headers: SAME_ORIGIN, maxRedirects: 0 }),
      ),
      status: 403,
      row: denied('referral.status', fx.own),
    },
  ],
  'routes/_app.referrals.$id_.print': (fx) => [
    { as: 'staff', what: 'a print view', ...get(`/referrals/${fx.own}/print`), status: 200, row: success('referral.print', fx.own) },
    { as: 'admin', what: "another clinic's print view", ...get(`/referrals/${fx.foreign}/print`), status: 404, row: denied('referral.print', fx.foreign) },
    { as: 'referrer', what: 'their own print view', ...get(`/referrals/${fx.own}/print`), status: 200, row: success('referral.print', fx.own) },
    { as: 'referrer', what: "another referrer's print view", ...get(`/referrals/${fx.others}/print`), status: 404, row: denied('referral.print', fx.others) },
  ],
  'routes/_app.referrals.$id_.forward': (fx) => [
    // The page shows the reference, status and the clinics it can go to, no PHI (decision 032):
    // opening it is not an access. Only the forward opens the PHI; it is recorded as referral.forward.
    { as: 'staff', what: 'the forward page', ...get(`/referrals/${fx.own}/forward`), status: 200, row: null },
    {
      as: 'admin',
      what: "another clinic's forward page",
      ...get(`/referrals/${fx.foreign}/forward`),
      status: 404,
      row: denied('referral.forward', fx.foreign),
    },
    {
      as: 'admin',
      what: 'something that is not an id',
      ...get('/referrals/Smith-1980/forward'),
      status: 404,
      row: denied('referral.forward'),
      secret: 'Smith',
    },
    { as: 'referrer', what: 'the forward page (staff work)', ...get(`/referrals/${fx.own}/forward`), status: 403, row: denied('referral.forward', fx.own) },
    {
      as: 'staff',
      what: "forwarding another clinic's referral",
      ...forward(fx.foreign),
      status: 404,
      row: denied('referral.forward', fx.foreign),
      secret: 'Smith',
    },
    {
      as: 'referrer',
      what: 'forwarding their own referral (staff work)',
      ...forward(fx.own),
      status: 403,
      row: denied('referral.forward', fx.own),
      secret: 'Smith',
    },
  ],
  'routes/_app.referrals.$id_.documents': (fx) => [
    { as: 'staff', what: "a referral's documents", ...get(`/referrals/${fx.own}/documents`), status: 200, row: success('document.list', fx.own) },
    { as: 'admin', what: "another clinic's documents", ...get(`/referrals/${fx.foreign}/documents`), status: 404, row: denied('document.list', fx.foreign) },
    { as: 'referrer', what: 'their own documents', ...get(`/referrals/${fx.own}/documents`), status: 200, row: success('document.list', fx.own) },
    { as: 'referrer', what: "another referrer's documents", ...get(`/referrals/${fx.others}/documents`), status: 404, row: denied('document.list', fx.others) },
  ],
  'routes/_app.referrals.$id_.documents_.$documentId': (fx) => [
    {
      as: 'staff',
      what: 'a document page',
      ...get(docPath(fx)),
      status: 200,
      row: success('document.read', fx.doc.referralId, { documentId: fx.doc.id, download: false }),
    },
    { as: 'admin', what: 'the document under another clinic', ...get(docPath(fx, fx.foreign)), status: 404, row: denied('document.read', fx.foreign) },
    { as: 'referrer', what: 'a document of their own', ...get(docPath(fx)), status: 200, row: success('document.read', fx.doc.referralId) },
    {
      as: 'referrer',
      what: "the document under another referrer's referral",
      ...get(docPath(fx, fx.others)),
      status: 404,
      row: denied('document.read', fx.others),
    },
  ],
  'routes/_app.referrals.$id_.documents_.$documentId.content': (fx) => [
    {
      as: 'staff',
      what: "a document's bytes",
      ...get(docPath(fx, undefined, '/content')),
      status: 200,
      row: success('document.read', fx.doc.referralId, { download: false }),
    },
    {
      as: 'admin',
      what: 'a download',
      ...get(docPath(fx, undefined, '/content?download=1')),
      status: 200,
      row: success('document.read', fx.doc.referralId, { download: true }),
    },
    { as: 'referrer', what: 'their own document', ...get(docPath(fx, undefined, '/content')), status: 200, row: success('document.read', fx.doc.referralId) },
    { as: 'referrer', what: "another referrer's", ...get(docPath(fx, fx.others, '/content')), status: 404, row: denied('document.read', fx.others) },
  ],
  'routes/api.v1.referrals.$id.documents': (fx) => [
    { as: 'staff', what: 'the API document list', ...apiGet(`/api/v1/referrals/${fx.own}/documents`), status: 200, row: success('document.list', fx.own) },
    {
      as: 'admin',
      what: "another clinic's over the API",
      ...apiGet(`/api/v1/referrals/${fx.foreign}/documents`),
      status: 404,
      row: denied('document.list', fx.foreign),
    },
    { as: 'referrer', what: 'their own over the API', ...apiGet(`/api/v1/referrals/${fx.own}/documents`), status: 200, row: success('document.list', fx.own) },
    {
      as: 'referrer',
      what: "another referrer's over the API",
      ...apiGet(`/api/v1/referrals/${fx.others}/documents`),
      status: 404,
      row: denied('document.list', fx.others),
    },
  ],
  'routes/api.v1.referrals.$id.documents.$documentId': (fx) => [
    {
      as: 'staff',
      what: 'a file over the API',
      ...apiGet(`/api/v1${docPath(fx)}`),
      status: 200,
      row: success('document.read', fx.doc.referralId, { download: true }),
    },
    {
      as: 'admin',
      what: "a file under another clinic's referral",
      ...apiGet(`/api/v1${docPath(fx, fx.foreign)}`),
      status: 404,
      row: denied('document.read', fx.foreign),
    },
    { as: 'referrer', what: 'their own file over the API', ...apiGet(`/api/v1${docPath(fx)}`), status: 200, row: success('document.read', fx.doc.referralId) },
    { as: 'referrer', what: "another referrer's file", ...apiGet(`/api/v1${docPath(fx, fx.others)}`), status: 404, row: denied('document.read', fx.others) },
  ],
  'routes/_app.my-referrals': () => [
    { as: 'referrer', what: 'their referrals', ...get('/my-referrals'), status: 200, row: success('referral.list') },
    { as: 'staff', what: "a referrer's list", ...get('/my-referrals'), status: 403, row: denied('referral.list') },
    { as: 'admin', what: "a referrer's list", ...get('/my-referrals'), status: 403, row: denied('referral.list') },
  ],
  'routes/api.v1.referrals._index': () => [
    { as: 'staff', what: 'the API list', ...apiGet('/api/v1/referrals'), status: 200, row: success('referral.list', null, { api: true }), shown: apiIds },
    {
      as: 'admin',
      what: 'the API list, most urgent first',
      ...apiGet('/api/v1/referrals?sort=priority&status=all'),
      status: 200,
      row: success('referral.list', null, { api: true }),
      shown: apiIds,
    },
    { as: 'referrer', what: 'their API list', ...apiGet('/api/v1/referrals'), status: 200, row: success('referral.list', null, { api: true }), shown: apiIds },
    {
      as: 'staff',
      what: 'creating a referral (referrers only)',
      ...api((request, headers) => request.post('/api/v1/referrals', { headers, data: {} })),
      status: 403,
      row: denied('referral.create', null, { api: true }),
    },
  ],
  'routes/api.v1.referrals.$id._index': (fx) => [
    { as: 'staff', what: 'a referral over the API', ...apiGet(`/api/v1/referrals/${fx.own}`), status: 200, row: success('referral.read', fx.own) },
    { as: 'admin', what: 'a referral over the API', ...apiGet(`/api/v1/referrals/${fx.others}`), status: 200, row: success('referral.read', fx.others) },
    { as: 'referrer', what: 'their own referral over the API', ...apiGet(`/api/v1/referrals/${fx.own}`), status: 200, row: success('referral.read', fx.own) },
    {
      as: 'referrer',
      what: "another referrer's referral over the API",
      ...apiGet(`/api/v1/referrals/${fx.others}`),
      status: 404,
      row: denied('referral.read', fx.others),
    },
    {
      as: 'staff',
      what: "another clinic's referral over the API",
      ...apiGet(`/api/v1/referrals/${fx.foreign}`),
      status: 404,
      row: denied('referral.read', fx.foreign),
    },
    { as: 'admin', what: 'something that is not an id', ...apiGet('/api/v1/referrals/Smith-1980'), status: 404, row: denied('referral.read'), secret: 'Smith' },
    {
      as: 'referrer',
      what: 'a status change over the API (staff work)',
      ...api((request, headers) => request.patch(`/api/v1/referrals/${fx.own}`, { headers, data: { status: 'accepted', version: 1 } })),
      status: 403,
      row: denied('referral.status', fx.own),
    },
  ],
  'routes/api.v1.referrals.$id.events': (fx) => [
    {
      as: 'staff',
      what: "a referral's history over the API",
      ...apiGet(`/api/v1/referrals/${fx.own}/events`),
      status: 200,
      row: success('referral.read', fx.own),
    },
    {
      as: 'admin',
      what: "another clinic's history over the API",
      ...apiGet(`/api/v1/referrals/${fx.foreign}/events`),
      status: 404,
      row: denied('referral.read', fx.foreign),
    },
    {
      as: 'referrer',
      what: 'their own history over the API',
      ...apiGet(`/api/v1/referrals/${fx.own}/events`),
      status: 200,
      row: success('referral.read', fx.own),
    },
    {
      as: 'referrer',
      what: "another referrer's history over the API",
      ...apiGet(`/api/v1/referrals/${fx.others}/events`),
      status: 404,
      row: denied('referral.read', fx.others),
    },
    {
      as: 'referrer',
      what: 'an internal note over the API (staff work)',
      ...api((request, headers) => request.post(`/api/v1/referrals/${fx.own}/events`, { headers, data: { type: 'note', body: 'Patient Smith called' } })),
      status: 403,
      row: denied('referral.note', fx.own),
      secret: 'Smith',
    },
  ],
  ...Object.fromEntries(
    (['ServiceRequest', 'Patient', 'QuestionnaireResponse'] as const).map((kind) => [
      `routes/fhir.R4.${kind}.$id`,
      (fx: Fixtures): Visit[] => [
        { as: 'staff', what: `a ${kind} over FHIR`, ...fhirGet(`/fhir/R4/${kind}/${fx.own}`), status: 200, row: success('referral.read', fx.own) },
        { as: 'admin', what: `a ${kind} over FHIR`, ...fhirGet(`/fhir/R4/${kind}/${fx.others}`), status: 200, row: success('referral.read', fx.others) },
        { as: 'referrer', what: `their own ${kind} over FHIR`, ...fhirGet(`/fhir/R4/${kind}/${fx.own}`), status: 200, row: success('referral.read', fx.own) },
        {
          as: 'referrer',
          what: `another referrer's ${kind}`,
          ...fhirGet(`/fhir/R4/${kind}/${fx.others}`),
          status: 404,
          row: denied('referral.read', fx.others),
        },
        { as: 'staff', what: `another clinic's ${kind}`, ...fhirGet(`/fhir/R4/${kind}/${fx.foreign}`), status: 404, row: denied('referral.read', fx.foreign) },
        {
          as: 'admin',
          what: 'something that is not an id',
          ...fhirGet(`/fhir/R4/${kind}/Smith-1980`),
          status: 404,
          row: denied('referral.read'),
          secret: 'Smith',
        },
      ],
    ]),
  ),
  // A document over FHIR is found by its own id (docs/decisions/057-fhir-r4-the-other-reads.md): one not theirs is a 404 naming it.
  'routes/fhir.R4.DocumentReference.$id': (fx) => [
    {
      as: 'staff',
      what: 'a DocumentReference',
      ...fhirGet(`/fhir/R4/DocumentReference/${fx.doc.id}`),
      status: 200,
      row: success('document.read', fx.doc.referralId, { documentId: fx.doc.id, download: false }),
    },
    {
      as: 'referrer',
      what: 'their own DocumentReference',
      ...fhirGet(`/fhir/R4/DocumentReference/${fx.doc.id}`),
      status: 200,
      row: success('document.read', fx.doc.referralId),
    },
    {
      as: 'admin',
      what: 'a DocumentReference that is not there',
      ...fhirGet(`/fhir/R4/DocumentReference/${fx.foreign}`),
      status: 404,
      row: denied('document.read', null, { documentId: fx.foreign }),
    },
    {
      as: 'admin',
      what: 'something that is not an id',
      ...fhirGet('/fhir/R4/DocumentReference/Smith-1980'),
      status: 404,
      row: denied('document.read'),
      secret: 'Smith',
    },
  ],
  'routes/fhir.R4.DocumentReference._index': (fx) => [
    {
      as: 'staff',
      what: "a referral's DocumentReferences",
      ...fhirGet(`/fhir/R4/DocumentReference?related=ServiceRequest/${fx.own}`),
      status: 200,
      row: success('document.list', fx.own),
    },
    {
      as: 'admin',
      what: "another clinic's",
      ...fhirGet(`/fhir/R4/DocumentReference?related=ServiceRequest/${fx.foreign}`),
      status: 404,
      row: denied('document.list', fx.foreign),
    },
    {
      as: 'referrer',
      what: 'their own',
      ...fhirGet(`/fhir/R4/DocumentReference?patient=Patient/${fx.own}`),
      status: 200,
      row: success('document.list', fx.own),
    },
    {
      as: 'referrer',
      what: "another referrer's",
      ...fhirGet(`/fhir/R4/DocumentReference?related=ServiceRequest/${fx.others}`),
      status: 404,
      row: denied('document.list', fx.others),
    },
  ],
  'routes/fhir.R4.Binary.$id': (fx) => [
    {
      as: 'staff',
      what: 'a file over FHIR',
      ...fhirGet(`/fhir/R4/Binary/${fx.doc.id}`),
      status: 200,
      row: success('document.read', fx.doc.referralId, { documentId: fx.doc.id, download: true }),
    },
    {
      as: 'admin',
      what: 'a file over FHIR',
      ...fhirGet(`/fhir/R4/Binary/${fx.doc.id}`),
      status: 200,
      row: success('document.read', fx.doc.referralId, { download: true }),
    },
    {
      as: 'referrer',
      what: 'their own file over FHIR',
      ...fhirGet(`/fhir/R4/Binary/${fx.doc.id}`),
      status: 200,
      row: success('document.read', fx.doc.referralId),
    },
    {
      as: 'referrer',
      what: 'a file that is not there',
      ...fhirGet(`/fhir/R4/Binary/${fx.others}`),
      status: 404,
      row: denied('document.read', null, { documentId: fx.others }),
    },
  ],
  // A transaction Bundle is a referral sent (docs/decisions/056-fhir-writes.md): the referrer's create, recorded once; staff are refused.
  'routes/fhir.R4._index': () => [
    ...(['staff', 'admin'] as const).map((as): Visit => ({
      as,
      what: 'a FHIR transaction (referrers only)',
      ...fhir((request, headers) => request.post('/fhir/R4', { headers: { ...headers, 'Content-Type': 'application/fhir+json' }, data: {} })),
      status: 403,
      row: denied('referral.create', null, { fhir: true }),
    })),
    {
      as: 'referrer',
      what: 'a FHIR transaction',
      ...fhir(sendTransaction),
      status: 200,
      row: { ...success('referral.create', null, { fhir: true }), entityId: expect.any(String) as unknown as string },
    },
  ],
  // A referral's questions and replies (docs/decisions/056-fhir-writes.md): read through the referral's door, one referral.read row.
  'routes/fhir.R4.Communication._index': (fx) => {
    const thread = (id: string) => fhirGet(`/fhir/R4/Communication?based-on=ServiceRequest/${id}`)
    return [
      { as: 'staff', what: 'a referral’s messages over FHIR', ...thread(fx.own), status: 200, row: success('referral.read', fx.own) },
      { as: 'admin', what: 'a referral’s messages over FHIR', ...thread(fx.others), status: 200, row: success('referral.read', fx.others) },
      { as: 'referrer', what: 'their own referral’s messages over FHIR', ...thread(fx.own), status: 200, row: success('referral.read', fx.own) },
      { as: 'referrer', what: "another referrer's messages over FHIR", ...thread(fx.others), status: 404, row: denied('referral.read', fx.others) },
      { as: 'staff', what: "another clinic's messages over FHIR", ...thread(fx.foreign), status: 404, row: denied('referral.read', fx.foreign) },
      {
        as: 'referrer',
        what: 'a reply over FHIR',
        ...fhir((request, headers) =>
          request.post('/fhir/R4/Communication', { headers: { ...headers, 'Content-Type': 'application/fhir+json' }, data: reply(fx.own) }),
        ),
        status: 201,
        row: success('referral.update', fx.own, { event: 'reply', fhir: true }),
      },
    ]
  },
  'routes/fhir.R4.Communication.$id': (fx) => {
    // The referrer's reply (posted first) is what staff then read.
    const last = (request: APIRequestContext, headers: Record<string, string>) =>
      request
        .get(`/fhir/R4/Communication?based-on=ServiceRequest/${fx.own}`, { headers })
        .then(async (r) => ((await r.json()) as { entry: { resource: { id: string } }[] }).entry.at(-1)!.resource.id)
    return [
      {
        as: 'referrer',
        what: 'their reply over FHIR',
        ...fhir(async (request, headers) => {
          const posted = await request.post('/fhir/R4/Communication', { headers: { ...headers, 'Content-Type': 'application/fhir+json' }, data: reply(fx.own) })
          return request.get(`/fhir/R4/Communication/${((await posted.json()) as { id: string }).id}`, { headers })
        }),
        status: 200,
        row: success('referral.read', fx.own),
      },
      ...(['staff', 'admin'] as const).map((as): Visit => ({
        as,
        what: 'a reply over FHIR',
        ...fhir(async (request, headers) => request.get(`/fhir/R4/Communication/${await last(request, headers)}`, { headers })),
        status: 200,
        row: success('referral.read', fx.own),
      })),
      {
        as: 'staff',
        what: 'a message that is not there',
        ...fhirGet(`/fhir/R4/Communication/${crypto.randomUUID()}`),
        status: 404,
        row: denied('referral.read', null, { fhir: true }),
      },
    ]
  },
  'routes/fhir.R4.ServiceRequest.[_search]': () => {
    const search = (request: APIRequestContext, headers: Record<string, string>) =>
      request.post('/fhir/R4/ServiceRequest/_search', { headers, form: { 'patient.identifier': HEALTH_CARD } })
    return [
      ...(['staff', 'admin'] as const).map((as): Visit => ({
        as,
        what: 'a FHIR patient search',
        ...fhir(search),
        status: 200,
        row: success('referral.list', null, { search: true, fhir: true }),
        shown: fhirIds,
        secret: HEALTH_CARD,
      })),
      {
        as: 'referrer',
        what: 'a FHIR patient search (staff only)',
        ...fhir(search),
        status: 403,
        row: denied('referral.list', null, { search: true, fhir: true }),
        secret: HEALTH_CARD,
      },
    ]
  },
}

/**
 * The server bundle is built for workerd: Node resolves it the same way only with workerd's
 * export conditions (react-dom/server's Node build has no renderToReadableStream), so the
 * bundle is read in a child process with them.
 */
function phiRoutesInBuild(): string[] {
  const bundle = pathToFileURL(join(process.cwd(), 'build/server/index.js')).href
  const script = `const { routes } = await import(${JSON.stringify(bundle)});
console.log(JSON.stringify(Object.values(routes).filter((r) => r.module.handle?.phi === true).map((r) => r.id)))`
  const output = execFileSync(process.execPath, ['--conditions=workerd', '--conditions=worker', '--conditions=browser', '--input-type=module', '-e', script], {
    encoding: 'utf8',
  })
  return JSON.parse(output.trim().split('\n').at(-1)!) as string[]
}

/** One document on a referral of referrer@ (attached once per worker, by staff over the API). */
let documentOn: Promise<Fixtures['doc']> | undefined
async function attachTo(referralId: string) {
  const form = new FormData()
  form.append('documents', new File(['%PDF-1.4\n%%EOF\n'], 'coverage.pdf'))
  const response = await fetch(`${APP_URL}/api/v1/referrals/${referralId}/documents`, {
    method: 'POST',
    headers: bearer(await token(EMAILS.staff)),
    body: form,
  })
  expect(response.status, await response.clone().text()).toBe(201)
  const listed = await fetch(`${APP_URL}/api/v1/referrals/${referralId}/documents`, { headers: bearer(await token(EMAILS.staff)) })
  const [doc] = (await listed.json<{ data: { id: string }[] }>()).data
  return { referralId, id: doc!.id }
}

async function fixtures(owner: Owner): Promise<Fixtures> {
  const [clinic] = await owner.select().from(clinics).where(eq(clinics.slug, 'northside'))
  const members = await owner.select().from(users).where(eq(users.clinicId, clinic!.id))
  const id = (email: string) => members.find((m) => m.email === email)!.id
  const latest = async (where: ReturnType<typeof and>) => {
    const [row] = await owner.select({ id: referrals.id }).from(referrals).where(where).orderBy(desc(referrals.receivedAt)).limit(1)
    return row!.id
  }
  const own = await latest(and(eq(referrals.clinicId, clinic!.id), eq(referrals.submittedBy, id(EMAILS.referrer))))
  return {
    doc: await (documentOn ??= attachTo(own)),
    clinicId: clinic!.id,
    userIds: { staff: id(EMAILS.staff), admin: id(EMAILS.admin), referrer: id(EMAILS.referrer) },
    own,
    others: await latest(and(eq(referrals.clinicId, clinic!.id), eq(referrals.submittedBy, id('referrer2@northside.test')))),
    foreign: await latest(ne(referrals.clinicId, clinic!.id)),
  }
}

/** How one role calls: a signed-in browser for pages, a fresh bearer token for the API (made on first use). */
function caller(signedInAs: SignedInAs, request: APIRequestContext, role: Role) {
  let signedIn: Promise<APIRequestContext> | undefined
  let access: Promise<string> | undefined
  return {
    async page() {
      signedIn ??= (async () => {
        const tab = await signedInAs(EMAILS[role])
        await expect(tab).toHaveURL(HOME[role])
        return tab.request
      })()
      return signedIn
    },
    async bearer() {
      // Access tokens live 20 s in the e2e stack (+60 s skew): one test's visits fit in that.
      access ??= token(EMAILS[role])
      return bearer(await access)
    },
    api: request,
  }
}

test('the PHI routes in the build are exactly the routes this spec covers, pages and API', () => {
  const inBuild = phiRoutesInBuild()
  expect(new Set(inBuild)).toEqual(new Set(Object.keys(COVERAGE)))
  // Control: the flag is read from the API's resource routes too, not only from pages.
  expect(inBuild).toEqual(expect.arrayContaining(['routes/_app.queue', 'routes/api.v1.referrals._index']))
})

test('every PHI route is visited as every role', async ({ owner }) => {
  const fx = await fixtures(owner)
  for (const [routeId, visitsFor] of Object.entries(COVERAGE)) {
    expect(new Set(visitsFor(fx).map((v) => v.as)), routeId).toEqual(new Set(ROLES))
  }
})

for (const [routeId, visitsFor] of Object.entries(COVERAGE)) {
  test(`${routeId}: each access, allowed or refused, is recorded once, as itself`, async ({ signedInAs, owner, playwright }) => {
    // Some forty routes visit as the same three Northside accounts: each starts with this minute's budget.
    await spareRateLimits(owner, FHIR_ACCOUNTS)
    const fx = await fixtures(owner)
    const visits = visitsFor(fx)
    if (visits.some((v) => v.via === 'page')) test.slow() // three people sign in
    // The API is called without cookies (it never reads them anyway).
    const bare = await playwright.request.newContext({ baseURL: test.info().project.use.baseURL })
    const callers = new Map(ROLES.map((role) => [role, caller(signedInAs, bare, role)]))
    try {
      for (const visit of visits) {
        const as = callers.get(visit.as)!
        const response = visit.via === 'page' ? await visit.send(await as.page(), {}) : await visit.send(as.api, await as.bearer())
        const label = `${visit.as} -> ${visit.what}`
        expect(response.status(), label).toBe(visit.status)
        // A refusal under /api keeps the API's JSON error shape.
        if (visit.via === 'api' && visit.status !== 200) {
          expect(await response.json(), label).toMatchObject({ code: visit.status === 403 ? 'FORBIDDEN' : 'NOT_FOUND', error: expect.any(String) })
        }
        // Under /fhir/R4 it is an OperationOutcome (docs/decisions/046-fhir-r4-read-and-search.md).
        if (visit.via === 'fhir' && visit.status >= 400) {
          expect(await response.json(), label).toMatchObject({
            resourceType: 'OperationOutcome',
            issue: [{ code: visit.status === 403 ? 'forbidden' : 'not-found' }],
          })
        }
        const requestId = response.headers()['x-request-id']
        expect(requestId, label).toMatch(/^[0-9a-f-]{36}$/)

        // The rows this one request wrote (other tests write concurrently; request ids are unique).
        // A write made while opening (first opened at) is recorded by its trigger as well: not counted.
        const rows = await owner.select().from(auditLogs).where(eq(auditLogs.requestId, requestId!))
        const recorded = rows.filter((r) => r.action !== 'record.write')
        if (!visit.row) {
          expect(recorded, label).toEqual([])
          continue
        }
        expect(recorded, label).toHaveLength(1)
        const [row] = recorded
        expect(row, label).toMatchObject({
          clinicId: fx.clinicId,
          actorId: fx.userIds[visit.as],
          actorRole: visit.as,
          action: visit.row.action,
          entityType: visit.row.entityType ?? 'referral',
          entityId: visit.row.entityId,
          outcome: visit.row.outcome,
        })
        // In the chain: numbered and hashed by the database.
        expect(row!.seq, label).toEqual(expect.any(Number))
        expect(row!.hash, label).toMatch(/^[0-9a-f]{64}$/)
        if (visit.row.details) expect(row!.details, label).toMatchObject(visit.row.details)
        if (visit.row.outcome === 'denied') {
          // Why, as a code; and nothing of what was asked for beyond ids.
          expect(row!.details, label).toMatchObject({ reason: visit.status === 403 ? 'forbidden' : 'not_found' })
          expect(row!.details?.ids, label).toBeUndefined()
        } else if (visit.row.action === 'referral.list') {
          const ids = row!.details?.ids
          expect(Array.isArray(ids), label).toBe(true)
          if (visit.shown) expect(ids, label).toEqual(await visit.shown(response))
        }
        if (visit.secret) expect(JSON.stringify(row), label).not.toContain(visit.secret)
      }
    } finally {
      await bare.dispose()
    }
  })
}
