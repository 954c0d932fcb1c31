/**
 * The baselines: each page's database work, without the app (no workerd, Remix, HTTP, rendering,
 * decryption of what is shown), from plain Node through the same Neon driver and the same relay.
 *
 * "Same SQL" is kept by calling the app's own query code wherever it takes a transaction:
 * resolveIdentity and requestStarter (session cookie or token -> request_start: the user, the
 * clinic and the rate-limit count in one statement), queuePage, queuePageWithPeople, openReferral,
 * createReferral, intakeFormVersion, openSummaries, recordAudit, createTenantDatabase (the
 * begin + set_config transaction wrapper). What the routes write inline (the detail's people
 * list) is copied from them. Loaders that Remix runs in parallel run in parallel here too, on the request's pool.
 * The bench compares the statements the relay sees from the app and from this code for one
 * request of each page and reports any difference (the app moves; this file must follow).
 *
 * Modes:
 *  - `rls`   as the runtime role (intakepilot_app): row-level security on, exactly the app's SQL.
 *  - `norls` as the owner role (BYPASSRLS, so the policies do not apply), with the tenant
 *            predicate that RLS would have added written into each statement instead
 *            (clinic_id = $clinic), so that both return the same rows: the RLS overhead.
 * Connections:
 *  - per request: a new Pool for every page and ended after it (what the app does on Workers).
 *  - warm: one Pool kept open (no connection set-up), for the pure SQL cost.
 */
import { and, asc, eq, or, type SQL } from 'drizzle-orm'
import { Pool } from '@neondatabase/serverless'
import { drizzle } from 'drizzle-orm/neon-serverless'
import { openSummaries } from '../../app/ai/summaries.server'
import { openDocumentList } from '../../app/documents/documents.server'
import type { AuditEvent } from '../../app/audit/audit.server'
import { auditRequest, recordAudit } from '../../app/audit/audit.server'
import { resolveIdentity } from '../../app/auth/identity.server'
import { phiCipherFromEnv, type PhiCipher } from '../../app/crypto/phi.server'
import { connectDatabase, drizzleFor, useLocalRelay, type Database } from '../../app/db/client.server'
import * as schema from '../../app/db/schema'
import { clinics, referralEvents, referrals, users } from '../../app/db/schema'
import { intakeFormVersion } from '../../app/intake/intake-forms.server'
import { clinicTargets, DEFAULT_PERIOD_WEEKS } from '../../app/dashboard/turnaround'
import { turnaround } from '../../app/dashboard/turnaround.server'
import { clinicTimeZone, DEFAULT_TIME_ZONE } from '../../app/utils/clinic-time'
import { parseQueueView, type QueueView } from '../../app/referrals/queue'
import { queuePage, queuePageWithPeople } from '../../app/referrals/queue.server'
import { createReferral } from '../../app/referrals/create-referral.server'
import { readReferral } from '../../app/referrals/open-referral.server'
import { openFormData, type FormValues } from '../../app/referrals/form-data.server'
import type { Env } from '../../app/utils/env.server'
import { requestStarter } from '../../app/tenancy/request-start.server'
import { createTenantDatabase, NO_SCOPE, type TenantScope, type TenantTx } from '../../app/tenancy/tenant.server'
import '../lib/neon-node'

export type Mode = 'rls' | 'norls'
export type PageKind = 'queue' | 'queue-deep' | 'detail' | 'submit' | 'api-list' | 'turnaround'

export type BaselineInputs = {
  env: Env
  origin: string
  clinicId: string
  /** A signed-in staff user's session cookie header, and who it is. */
  staff: { cookie: string; userId: string; tid: string; oid: string }
  referrer: { cookie: string; userId: string }
  deepCursor: string
  referralIds: string[]
  submission: (i: number) => FormValues
}

export type QueryLog = { sql: string; params: unknown[] }[]

export function connectAs(url: string, wsProxy: string, max: number, log?: QueryLog) {
  useLocalRelay(wsProxy)
  const pool = new Pool({ connectionString: url, max, connectionTimeoutMillis: 5_000 })
  pool.on('error', () => {})
  const logger = log ? { logQuery: (query: string, params: unknown[]) => void log.push({ sql: query, params }) } : undefined
  return { db: drizzleFor(pool, logger), end: () => pool.end() }
}

/** One page's database work on `db`. */
export function pageWork(inputs: BaselineInputs, cipher: PhiCipher = phiCipherFromEnv(inputs.env)) {
  const { env, clinicId } = inputs
  /**
   * The pipeline's first step for a page: the session's user, clinic and rate-limit count (it
   * counts against the same users as the app; the bench clears the counters before app runs).
   */
  const pageIdentity = async (db: Database, cookie: string, path: string) => {
    const request = new Request(`${inputs.origin}${path}`, { headers: { cookie, 'user-agent': 'IntakePilot-bench' } })
    const identity = await resolveIdentity(request, env, createTenantDatabase(db, NO_SCOPE), requestStarter(db, null))
    if (!identity.user || !identity.clinic) throw new Error('baseline: the session did not resolve to a user')
    return { scope: identity.scope, userId: identity.user.id, clinic: identity.clinic, audited: auditRequest(request, crypto.randomUUID()) }
  }
  const audit = (scope: TenantScope, audited: ReturnType<typeof auditRequest>) => (tx: TenantTx, event: AuditEvent) => recordAudit(tx, scope, audited, event)
  /** routes/_app.tsx's loader: a query only for a superadmin's clinic menu (the bench signs in staff). */
  const shell = async (db: Database, scope: TenantScope, mode: Mode) => {
    if (scope.role !== 'superadmin') return
    await createTenantDatabase(db, scope).tenant((tx) =>
      tx
        .select({ id: clinics.id, name: clinics.name, slug: clinics.slug })
        .from(clinics)
        .where(mode === 'norls' ? eq(clinics.id, clinicId) : undefined)
        .orderBy(asc(clinics.name)),
    )
  }
  const queue = async (db: Database, mode: Mode, view: QueueView, api: boolean, me: string, scope: TenantScope, audited: ReturnType<typeof auditRequest>) =>
    createTenantDatabase(db, scope).tenant(async (tx) => {
      const inClinic = mode === 'norls' ? eq(referrals.clinicId, clinicId) : undefined
      // The page reads the clinic's people in the same message (queuePageWithPeople); the API does not.
      const { rows } = api
        ? await queuePage(tx, view, me, DEFAULT_TIME_ZONE, inClinic)
        : await queuePageWithPeople(tx, view, me, clinicId, DEFAULT_TIME_ZONE, inClinic)
      await recordAudit(tx, scope, audited, {
        action: 'referral.list',
        entityType: 'referral',
        details: { ids: rows.map((r) => r.id), ...(api ? { api: true } : { search: false }) },
      })
    })

  const queuePageWork = (cursor?: string) => async (db: Database, mode: Mode) => {
    const path = cursor ? `/queue?cursor=${cursor}` : '/queue'
    const { scope, userId, audited } = await pageIdentity(db, inputs.staff.cookie, path)
    const view = parseQueueView(new URL(`${inputs.origin}${path}`))
    await Promise.all([shell(db, scope, mode), queue(db, mode, view, false, userId, scope, audited)])
  }

  const work: Record<PageKind, (db: Database, mode: Mode, i: number) => Promise<void>> = {
    queue: queuePageWork(),
    'queue-deep': queuePageWork(inputs.deepCursor),
    async detail(db, mode, i) {
      const id = inputs.referralIds[i % inputs.referralIds.length]!
      const { scope, audited } = await pageIdentity(db, inputs.staff.cookie, `/referrals/${id}`)
      const tdb = createTenantDatabase(db, scope)
      await Promise.all([
        shell(db, scope, mode),
        tdb.tenant(async (tx) => {
          // routes/_app.referrals.$id.tsx: the referral with the clinic's people, the saved AI summaries and the documents, in one statement.
          const opened = await readReferral(tx, cipher, audit(scope, audited), {
            id,
            staff: true,
            people: true,
            summaries: true,
            documents: true,
            ...(mode === 'rls' ? {} : { clinicId }),
          })
          if (!opened) throw new Error('baseline: referral not found')
          await openSummaries(cipher, clinicId, opened.storedSummaries)
          await openDocumentList(cipher, opened.storedDocuments)
        }),
      ])
    },
    async submit(db, _mode, i) {
      // The action's statements (createReferral already names the clinic in each one).
      const { scope, userId, clinic, audited } = await pageIdentity(db, inputs.referrer.cookie, '/referrals/new')
      await createTenantDatabase(db, scope).tenant(async (tx) => {
        const form = await intakeFormVersion(tx, clinicId, 1)
        if (!form) throw new Error('baseline: no form version 1')
        await createReferral(tx, cipher, audit(scope, audited), {
          clinic,
          submittedBy: userId,
          form,
          values: inputs.submission(i),
          idempotencyKey: crypto.randomUUID(),
        })
      })
    },
    async turnaround(db, mode) {
      // routes/_app.turnaround.tsx: the whole dashboard in one statement. It names the clinic in
      // every table it reads already, so the norls mode runs the same text.
      const { scope, clinic } = await pageIdentity(db, inputs.staff.cookie, '/turnaround')
      const settings = clinic.settings
      await Promise.all([
        shell(db, scope, mode),
        createTenantDatabase(db, scope).tenant((tx) =>
          turnaround(tx, { clinicId, weeks: DEFAULT_PERIOD_WEEKS, timeZone: clinicTimeZone(settings), targets: clinicTargets(settings) }),
        ),
      ])
    },
    async 'api-list'(db, mode) {
      // resolveApiIdentity's database step (the token check is crypto in the app), then as pages.
      const started = await requestStarter(db, null)({ tid: inputs.staff.tid, oid: inputs.staff.oid })
      const row = started.user
      if (!row || !started.clinic) throw new Error('baseline: request_start found nobody')
      const scope = { clinicId: started.clinic.id, userId: row.id, role: row.role }
      const request = new Request(`${inputs.origin}/api/v1/referrals`, { headers: { 'user-agent': 'IntakePilot-bench' } })
      await queue(db, mode, parseQueueView(new URL(request.url)), true, row.id, scope, auditRequest(request, crypto.randomUUID()))
    },
  }
  return work
}

export type PageWork = ReturnType<typeof pageWork>

/** One page per iteration with a new Pool each time, as the app connects on Workers. */
export function perRequest(url: string, wsProxy: string, fn: (db: Database, i: number) => Promise<void>) {
  return async (i: number) => {
    const connection = connectDatabase({ url, wsProxy })
    try {
      await fn(connection.db, i)
    } finally {
      await connection.end().catch(() => {})
    }
  }
}
