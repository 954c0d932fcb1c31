/**
 * The referral's FHIR resources, read through the app's own doors:
 * - ServiceRequest, Patient and QuestionnaireResponse carry PHI: they open the referral through
 *   openReferral (permission, RLS, decryption and the referral.read audit row, as the page).
 * - Task carries none (codes, times, the reason's category): RLS alone, as the queue's rows.
 * - Searches run the queue's own keyset query (queuePage) and answer without PHI; the rows they
 *   return are named in one referral.list audit row, as every list is.
 */
import type { AppLoadContext } from '@remix-run/cloudflare'
import { and, desc, eq, gte, inArray, lt, sql, type SQL } from 'drizzle-orm'
import type { SessionUser } from '~/auth/identity.server'
import { requirePhiPermission } from '~/auth/guards.server'
import { hasPermission } from '~/auth/permissions'
import { referralEvents, referrals, type ReferralStatus } from '~/db/schema'
import { openReferral } from '~/referrals/open-referral.server'
import { COUNT_CAP, patientMatch, queuePage, sentBy } from '~/referrals/queue.server'
import { isReasonCodeFor } from '~/referrals/reason-codes'
import type { TenantTx } from '~/tenancy/tenant.server'
import { clinicTimeZone, startOfClinicDay } from '~/utils/clinic-time'
import { isUuid } from '~/utils/keyset'
import { fhirError } from './outcome.server'
import {
  organization,
  patient,
  practitioner,
  practitionerRole,
  questionnaireResponse,
  serviceRequest,
  task,
  type FhirServer,
  type ReferralFacts,
  type Resource,
  type StatusReason,
} from './resources'
import type { DayStart, ServiceRequestSearch, TaskSearch, TimeBound } from './search'

export type Kind = 'ServiceRequest' | 'Patient' | 'QuestionnaireResponse'

/** One referral's PHI-bearing resource, opened as the page opens it (a stranger's id is a recorded 404). */
export async function readReferralResource(context: AppLoadContext, user: SessionUser, server: FhirServer, kind: Kind, id: string | undefined) {
  const opened = await openReferral(context, user, id, { documents: kind === 'ServiceRequest' })
  const facts: ReferralFacts = opened.row
  if (kind === 'ServiceRequest')
    return serviceRequest(
      server,
      facts,
      opened.values,
      opened.storedDocuments.map((d) => d.id),
    )
  if (kind === 'Patient') return patient(server, facts, opened.form.definition, opened.values)
  return questionnaireResponse(server, facts, opened.form.definition, opened.values)
}

/** The clinic's midnight for a calendar day: date parameters are the clinic's days, as the queue's are. */
export function clinicDayStart(context: AppLoadContext): DayStart {
  const zone = clinicTimeZone(context.clinic?.settings)
  return (day) => startOfClinicDay(day, zone) ?? new Date(`${day}T00:00:00Z`)
}

const staffOf = (user: SessionUser) => hasPermission(user, 'read:referral:any')

/** The last decline or cancel of each referral that ended so, with its category. */
async function statusReasons(tx: TenantTx, rows: { id: string; status: ReferralStatus }[]) {
  const ended = rows.filter((r) => r.status === 'declined' || r.status === 'cancelled').map((r) => r.id)
  const out = new Map<string, StatusReason>()
  if (!ended.length) return out
  const found = await tx
    .selectDistinctOn([referralEvents.referralId], { referralId: referralEvents.referralId, data: referralEvents.data })
    .from(referralEvents)
    .where(and(inArray(referralEvents.referralId, ended), eq(referralEvents.type, 'status')))
    .orderBy(referralEvents.referralId, desc(referralEvents.createdAt))
  for (const { referralId, data } of found) {
    const to = data.to as ReferralStatus
    out.set(referralId, { to, code: isReasonCodeFor(to, data.reasonCode) ? data.reasonCode : null })
  }
  return out
}

/** One referral's row with no PHI opened: RLS (and, for a referrer, their own) decides what exists. */
async function referralRow<T>(
  context: AppLoadContext,
  user: SessionUser,
  id: string | undefined,
  more: (tx: TenantTx, row: typeof referrals.$inferSelect) => Promise<T>,
) {
  if (!isUuid(id)) throw fhirError(404)
  const staff = staffOf(user)
  if (!staff) await requirePhiPermission(context, user, 'read:referral:own', { action: 'referral.read', entityId: id })
  const found = await context.db.tenant(async (tx) => {
    const [row] = await tx
      .select()
      .from(referrals)
      .where(and(eq(referrals.id, id), staff ? undefined : sentBy(user.id)))
      .limit(1)
    return row ? { row, more: await more(tx, row) } : null
  })
  if (!found) throw fhirError(404)
  return found
}

/** One Task: no PHI in it, so no decryption. */
export async function readTask(context: AppLoadContext, user: SessionUser, server: FhirServer, id: string | undefined) {
  return (await loadTask(context, user, server, id)).resource
}

/** The Task and the referral's row it was built from (an update compares the two with what came). */
export async function loadTask(context: AppLoadContext, user: SessionUser, server: FhirServer, id: string | undefined) {
  const found = await referralRow(context, user, id, async (tx, row) => (await statusReasons(tx, [row])).get(row.id) ?? null)
  return { row: found.row, id: found.row.id, resource: task(server, found.row, found.more) }
}

export type ReferrerKind = 'Practitioner' | 'PractitionerRole' | 'Organization'
const REFERRER_PARTS = { Practitioner: practitioner, PractitionerRole: practitionerRole, Organization: organization }

/**
 * The referrer, their role or their practice as the referral names them (decision 057): no PHI,
 * so read as the Task is. A referral that names none of them has no such resource (404).
 */
export async function readReferrer(context: AppLoadContext, user: SessionUser, kind: ReferrerKind, id: string | undefined) {
  const found = await referralRow(context, user, id, async () => null)
  const resource = REFERRER_PARTS[kind](found.row)
  if (!resource) throw fhirError(404, `This referral names no ${kind === 'Organization' ? 'practice' : 'referrer'}`)
  return resource
}

function timeFilters(column: typeof referrals.receivedAt | typeof referrals.updatedAt, bounds: TimeBound[]): SQL[] {
  return bounds.map((b) => {
    switch (b.op) {
      case 'eq':
        return and(gte(column, b.from), lt(column, b.until))!
      case 'ge':
        return gte(column, b.from)
      case 'gt':
        return gte(column, b.until)
      case 'lt':
        return lt(column, b.from)
      case 'le':
        return lt(column, b.until)
    }
  })
}

type Page = { resources: Resource[]; next: string | null; total: number | null }

/**
 * A page of the clinic's referrals, newest first, on the queue's keyset (its cursor). `total` is
 * counted up to COUNT_CAP (a few thousand index entries at most); past that it is left out.
 */
async function searchReferrals(
  context: AppLoadContext,
  user: SessionUser,
  filters: SQL[],
  page: { count: number; cursor: string | undefined },
  kind: { search?: true },
  build: (row: Awaited<ReturnType<typeof queuePage>>['rows'][number], reasons: Map<string, StatusReason>) => Resource,
): Promise<Page> {
  const staff = staffOf(user)
  if (!staff) filters.push(sentBy(user.id))
  const where = and(...filters)
  return context.db.tenant(async (tx) => {
    const view = { status: 'all', assignee: 'anyone', sort: 'received', cursor: page.cursor } as const
    const { rows, next } = await queuePage(tx, view, user.id, clinicTimeZone(context.clinic?.settings), where, page.count)
    const counted = await tx.execute<{ n: number }>(
      sql`select count(*)::int as n from (select 1 from ${referrals} where ${where ?? sql`true`} limit ${COUNT_CAP + 1}) counted`,
    )
    const total = Number(counted.rows[0]?.n ?? 0)
    const reasons = await statusReasons(tx, rows)
    // Nothing in the page is PHI, but which referrals a search found is the clinic's business: the list is recorded.
    await context.audit(tx, { action: 'referral.list', entityType: 'referral', details: { ids: rows.map((r) => r.id), fhir: true, ...kind } })
    return { resources: rows.map((row) => build(row, reasons)), next, total: total > COUNT_CAP ? null : total }
  })
}

export async function searchServiceRequests(context: AppLoadContext, user: SessionUser, server: FhirServer, search: ServiceRequestSearch): Promise<Page> {
  const staff = staffOf(user)
  if (!staff) await requirePhiPermission(context, user, 'read:referral:own', { action: 'referral.list', details: { fhir: true } })
  const filters: SQL[] = []
  if (search.healthCard !== undefined) {
    // As the queue's patient search: staff only, matched through the blind index (the number never reaches the database).
    await requirePhiPermission(context, user, 'read:referral:any', { action: 'referral.list', details: { search: true, fhir: true } })
    const match = await patientMatch(context.phi, server.clinic.id, { healthCard: search.healthCard })
    if (match) filters.push(match)
  }
  // A code that no IntakePilot status has (draft, asap, ...) is valid FHIR and matches nothing.
  if (search.statuses) filters.push(search.statuses.length ? inArray(referrals.status, search.statuses) : sql`false`)
  if (search.priorities) filters.push(search.priorities.length ? inArray(referrals.priority, search.priorities) : sql`false`)
  filters.push(...timeFilters(referrals.receivedAt, search.authored), ...timeFilters(referrals.updatedAt, search.lastUpdated))
  return searchReferrals(context, user, filters, search, search.healthCard !== undefined ? { search: true } : {}, (row) => serviceRequest(server, row))
}

export async function searchTasks(context: AppLoadContext, user: SessionUser, server: FhirServer, search: TaskSearch): Promise<Page> {
  const staff = staffOf(user)
  if (!staff) await requirePhiPermission(context, user, 'read:referral:own', { action: 'referral.list', details: { fhir: true } })
  const filters: SQL[] = []
  if (search.focus) filters.push(search.focus.length ? inArray(referrals.id, search.focus) : sql`false`)
  if (search.statuses) filters.push(search.statuses.length ? inArray(referrals.status, search.statuses) : sql`false`)
  filters.push(...timeFilters(referrals.updatedAt, search.lastUpdated))
  return searchReferrals(context, user, filters, search, {}, (row, reasons) => task(server, row, reasons.get(row.id) ?? null))
}
