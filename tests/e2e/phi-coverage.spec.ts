/**
 * PHI-route coverage (DESIGN §5, §7): every route module that shows PHI says so with
 * `handle.phi`, and this spec visits each one, as every role, for real, and checks the audit
 * trail: one row for each access, a refusal for each role that may not look.
 *
 * The list of PHI routes comes from the built server bundle, so there is one source: a new
 * route marked `phi` fails here until COVERAGE says how to visit it.
 */
import { execFileSync } from 'node:child_process'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { expect, test, type APIRequestContext, type APIResponse, type Browser } from '@playwright/test'
import { and, desc, eq } from 'drizzle-orm'
import { auditLogs, clinics, referrals, users } from '../../app/db/schema'
import { ownerDatabase } from './db'
import { signIn } from './support'

// Per group of tests, not per module: a worker may run this file's tests in several groups.
let db: ReturnType<typeof ownerDatabase>
test.beforeAll(() => {
  db = ownerDatabase()
})
test.afterAll(() => db.end())

type Role = 'staff' | 'admin' | 'referrer'
type Fixtures = { clinicId: string; userIds: Record<Role, string>; own: string; others: string }
type ReadAction = 'referral.read' | 'referral.list' | 'referral.print'
type Visit = {
  as: Role
  what: string
  send: (request: APIRequestContext) => Promise<APIResponse>
  status: 200 | 403 | 404
  /** The one read row this access must write; null: nothing may be recorded as read. */
  row: { action: ReadAction; entityId: string | null; outcome: 'success' | 'denied'; details?: Record<string, unknown> } | null
}

const EMAILS: Record<Role, string> = { staff: 'staff@northside.test', admin: 'admin@northside.test', referrer: 'referrer@northside.test' }
const HOME: Record<Role, string> = { staff: '/queue', admin: '/queue', referrer: '/my-referrals' }
const get = (path: string) => (request: APIRequestContext) => request.get(path, { maxRedirects: 0 })

/** Route id -> how each role visits it, and what the trail must then say. */
const COVERAGE: Record<string, (fx: Fixtures) => Visit[]> = {
  'routes/_app.queue': () => [
    { as: 'staff', what: 'the queue', send: get('/queue'), status: 200, row: { action: 'referral.list', entityId: null, outcome: 'success', details: { search: false } } },
    { as: 'admin', what: 'the queue', send: get('/queue'), status: 200, row: { action: 'referral.list', entityId: null, outcome: 'success', details: { search: false } } },
    {
      as: 'staff',
      what: 'a patient search (posted as the browser does, single fetch)',
      send: (request) => request.post('/queue.data', { form: { healthCard: '0000-000-000-XX' }, maxRedirects: 0 }),
      status: 200,
      row: { action: 'referral.list', entityId: null, outcome: 'success', details: { search: true } },
    },
    { as: 'referrer', what: 'the queue', send: get('/queue'), status: 403, row: null },
  ],
  'routes/_app.referrals.$id': (fx) => [
    { as: 'staff', what: 'a referral', send: get(`/referrals/${fx.own}`), status: 200, row: { action: 'referral.read', entityId: fx.own, outcome: 'success' } },
    { as: 'admin', what: 'a referral', send: get(`/referrals/${fx.others}`), status: 200, row: { action: 'referral.read', entityId: fx.others, outcome: 'success' } },
    { as: 'referrer', what: 'their own referral', send: get(`/referrals/${fx.own}`), status: 200, row: { action: 'referral.read', entityId: fx.own, outcome: 'success' } },
    { as: 'referrer', what: "another referrer's referral", send: get(`/referrals/${fx.others}`), status: 404, row: { action: 'referral.read', entityId: fx.others, outcome: 'denied' } },
  ],
  'routes/_app.referrals.$id_.print': (fx) => [
    { as: 'staff', what: 'a print view', send: get(`/referrals/${fx.own}/print`), status: 200, row: { action: 'referral.print', entityId: fx.own, outcome: 'success' } },
    { as: 'referrer', what: "another referrer's print view", send: get(`/referrals/${fx.others}/print`), status: 404, row: { action: 'referral.print', entityId: fx.others, outcome: 'denied' } },
  ],
  'routes/_app.my-referrals': () => [
    { as: 'referrer', what: 'their referrals', send: get('/my-referrals'), status: 200, row: { action: 'referral.list', entityId: null, outcome: 'success' } },
    { as: 'staff', what: "a referrer's list", send: get('/my-referrals'), status: 403, row: null },
  ],
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

async function fixtures(): Promise<Fixtures> {
  const [clinic] = await db.db.select().from(clinics).where(eq(clinics.slug, 'northside'))
  const members = await db.db.select().from(users).where(eq(users.clinicId, clinic!.id))
  const id = (email: string) => members.find((m) => m.email === email)!.id
  const latestBy = async (email: string) => {
    const [row] = await db.db
      .select({ id: referrals.id })
      .from(referrals)
      .where(and(eq(referrals.clinicId, clinic!.id), eq(referrals.submittedBy, id(email))))
      .orderBy(desc(referrals.receivedAt))
      .limit(1)
    return row!.id
  }
  return {
    clinicId: clinic!.id,
    userIds: { staff: id(EMAILS.staff), admin: id(EMAILS.admin), referrer: id(EMAILS.referrer) },
    own: await latestBy(EMAILS.referrer),
    others: await latestBy('referrer2@northside.test'),
  }
}

async function signedIn(browser: Browser, role: Role) {
  const context = await browser.newContext()
  const page = await context.newPage()
  await signIn(page, EMAILS[role])
  await expect(page).toHaveURL(HOME[role])
  return { context, request: page.request }
}

test('the PHI routes in the build are exactly the routes this spec covers', () => {
  expect(new Set(phiRoutesInBuild())).toEqual(new Set(Object.keys(COVERAGE)))
})

for (const [routeId, visitsFor] of Object.entries(COVERAGE)) {
  test(`${routeId}: each access is recorded once, as itself; each refusal is refused`, async ({ browser }) => {
    const fx = await fixtures()
    const visits = visitsFor(fx)
    const sessions = new Map<Role, Awaited<ReturnType<typeof signedIn>>>()
    try {
      for (const visit of visits) {
        if (!sessions.has(visit.as)) sessions.set(visit.as, await signedIn(browser, visit.as))
        const response = await visit.send(sessions.get(visit.as)!.request)
        const label = `${visit.as} -> ${visit.what}`
        expect(response.status(), label).toBe(visit.status)
        const requestId = response.headers()['x-request-id']
        expect(requestId, label).toMatch(/^[0-9a-f-]{36}$/)

        // The rows this one request wrote (other tests write concurrently; request ids are unique).
        // Only reads are counted: a write made while opening (first opened at) may be audited too.
        const rows = await db.db.select().from(auditLogs).where(eq(auditLogs.requestId, requestId!))
        const reads = rows.filter((r) => r.action === 'referral.read' || r.action === 'referral.list' || r.action === 'referral.print')
        if (!visit.row) {
          expect(reads, label).toEqual([])
          continue
        }
        expect(reads, label).toHaveLength(1)
        const [read] = reads
        expect(read, label).toMatchObject({
          clinicId: fx.clinicId,
          actorId: fx.userIds[visit.as],
          actorRole: visit.as,
          action: visit.row.action,
          entityType: 'referral',
          entityId: visit.row.entityId,
          outcome: visit.row.outcome,
        })
        if (visit.row.details) expect(read!.details, label).toMatchObject(visit.row.details)
        if (visit.row.action === 'referral.list') expect(Array.isArray(read!.details?.ids), label).toBe(true)
      }
    } finally {
      for (const session of sessions.values()) await session.context.close()
    }
  })
}
