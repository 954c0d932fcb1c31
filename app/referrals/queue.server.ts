/**
 * The queue query: filters, three sort orders and keyset pagination (no OFFSET: page 500
 * costs what page 1 costs). The cursor is the last row's sort key, opaque to the browser.
 */
import { and, asc, desc, eq, gte, inArray, isNotNull, isNull, lt, or, sql, type SQL } from 'drizzle-orm'
import { normalizeHealthCard, normalizeNameDob, type PhiCipher } from '~/crypto/phi.server'
import { referrals, type UserRole } from '~/db/schema'
import { readAlongside, type TenantTx } from '~/tenancy/tenant.server'
import { nextDay, startOfClinicDay } from '~/utils/clinic-time'
import { decodeQueueCursor, encodeQueueCursor, OPEN_STATUSES, type QueueView } from './queue'

export const PAGE_SIZE = 25

const priorityRank = sql<number>`(case ${referrals.priority} when 'emergent' then 0 when 'urgent' then 1 else 2 end)`

/** A filter the caller adds to the view's (a patient search, a referrer's own). */
export type QueueFilter = SQL

/**
 * The view's filters, without its page: what the page and its total count both select. Its
 * received days are the clinic's (`zone`, its time zone): from the start of `from` there to the
 * start of the day after `to`.
 */
function viewFilters(view: QueueView, me: string, zone: string, extra?: QueueFilter): (SQL | undefined)[] {
  const filters: (SQL | undefined)[] = [extra]
  if (view.status === 'open') filters.push(inArray(referrals.status, [...OPEN_STATUSES]))
  else if (view.status === 'replied') filters.push(isNotNull(referrals.replyReceivedAt))
  else if (view.status !== 'all') filters.push(eq(referrals.status, view.status))
  if (view.priority) filters.push(eq(referrals.priority, view.priority))
  if (view.assignee === 'me') filters.push(eq(referrals.assignedTo, me))
  if (view.assignee === 'unassigned') filters.push(isNull(referrals.assignedTo))
  if (view.referrer) filters.push(eq(referrals.submittedBy, view.referrer))
  const from = view.from ? startOfClinicDay(view.from, zone) : null
  const until = view.to ? startOfClinicDay(nextDay(view.to), zone) : null
  if (from) filters.push(gte(referrals.receivedAt, from))
  if (until) filters.push(lt(referrals.receivedAt, until))
  if (view.ref) filters.push(eq(referrals.referenceNumber, view.ref))
  return filters
}

/**
 * A page of the queue; `zone` is the clinic's time zone, whose days the received filters name.
 * `size`: FHIR search's `_count` (app/fhir/search.server.ts); the queue and the API take PAGE_SIZE.
 */
export async function queuePage(tx: TenantTx, view: QueueView, me: string, zone: string, extra?: QueueFilter, size = PAGE_SIZE) {
  const filters = viewFilters(view, me, zone, extra)

  // Keyset: rows strictly after the cursor in the chosen order.
  // The cursor keeps PostgreSQL's microseconds (a JS Date would round them and skip rows).
  const cursor = decodeQueueCursor(view.cursor)
  if (cursor) {
    const t = sql`${cursor.t}::timestamptz`
    const id = sql`${cursor.id}::uuid`
    if (view.sort === 'received') filters.push(sql`(${referrals.receivedAt}, ${referrals.id}) < (${t}, ${id})`)
    else if (view.sort === 'age') filters.push(sql`(${referrals.receivedAt}, ${referrals.id}) > (${t}, ${id})`)
    else filters.push(sql`(${priorityRank}, ${referrals.receivedAt}, ${referrals.id}) > (${cursor.r}, ${t}, ${id})`)
  }
  const order =
    view.sort === 'received'
      ? [desc(referrals.receivedAt), desc(referrals.id)]
      : view.sort === 'age'
        ? [asc(referrals.receivedAt), asc(referrals.id)]
        : [asc(priorityRank), asc(referrals.receivedAt), asc(referrals.id)]

  const rows = await tx
    .select({
      id: referrals.id,
      clinicId: referrals.clinicId,
      referenceNumber: referrals.referenceNumber,
      formVersion: referrals.formVersion,
      status: referrals.status,
      priority: referrals.priority,
      receivedAt: referrals.receivedAt,
      triagedAt: referrals.triagedAt,
      assignedTo: referrals.assignedTo,
      submittedBy: referrals.submittedBy,
      submittedByIntegration: referrals.submittedByIntegration,
      submittedByIntegrationName: referrals.submittedByIntegrationName,
      enteredBy: referrals.enteredBy,
      channel: referrals.channel,
      referrerName: referrals.referrerName,
      // For FHIR's ServiceRequest and Task (app/fhir/resources.ts): none of them is PHI.
      referrerOrganization: referrals.referrerOrganization,
      forwardedToName: referrals.forwardedToName,
      updatedAt: referrals.updatedAt,
      possibleDuplicateOf: referrals.possibleDuplicateOf,
      replyReceivedAt: referrals.replyReceivedAt,
      version: referrals.version,
      formData: referrals.formData,
      rank: priorityRank,
      receivedKey: sql<string>`${referrals.receivedAt}::text`,
    })
    .from(referrals)
    .where(and(...filters))
    .orderBy(...order)
    .limit(size + 1)

  const page = rows.slice(0, size)
  const last = page.at(-1)
  const next = rows.length > size && last ? encodeQueueCursor({ r: Number(last.rank), t: last.receivedKey, id: last.id }) : null
  return { rows: page, next }
}

export type ClinicPerson = { id: string; displayName: string; role: UserRole; organization: string | null; status: string }

/** The total count stops here: past it the page says "more than 1,000", and counting costs no more. */
export const COUNT_CAP = 1000

/** A saved view as the queue lists it (saved-views.server.ts keeps them). */
export type SavedViewRow = { id: string; name: string; query: string }

/**
 * The queue's page, the clinic's people (the names in it and the referrer filter), the view's
 * total (counted up to COUNT_CAP, so a clinic of 100,000 referrals counts no more than 1,001
 * index entries) and the user's saved views: four reads in one message (readAlongside: one round
 * trip, as the page and people alone were). `extra` is an added filter (a patient search, or the
 * bench's clinic predicate). The saved views are the user's own by RLS (drizzle/0021).
 */
export async function queuePageWithPeople(tx: TenantTx, view: QueueView, me: string, clinicId: string, zone: string, extra?: QueueFilter) {
  const people = sql`select id, display_name as "displayName", role, organization, status from users where clinic_id = ${clinicId} order by display_name`
  const count = sql`select count(*)::int as n from (select 1 from ${referrals} where ${and(...viewFilters(view, me, zone, extra)) ?? sql`true`} limit ${COUNT_CAP + 1}) counted`
  const saved = sql`select id, name, query from saved_queue_views order by lower(name)`
  const [[[page, rows], counted], views] = await readAlongside<[[Awaited<ReturnType<typeof queuePage>>, ClinicPerson[]], { n: number }[]], SavedViewRow>(
    tx,
    saved,
    () =>
      readAlongside<[Awaited<ReturnType<typeof queuePage>>, ClinicPerson[]], { n: number }>(tx, count, () =>
        readAlongside<Awaited<ReturnType<typeof queuePage>>, ClinicPerson>(tx, people, () => queuePage(tx, view, me, zone, extra)),
      ),
  )
  const total = Number(counted[0]?.n ?? 0)
  return { ...page, people: rows, total: Math.min(total, COUNT_CAP), more: total > COUNT_CAP, savedViews: views }
}

/** Only the referrals this referrer sent (the API's list for a referrer; RLS says so too). */
export const sentBy = (userId: string): SQL => eq(referrals.submittedBy, userId)

/**
 * A patient search, as a filter on the blind indexes: the terms themselves never reach the
 * database. Either a health card number, or a last name with a date of birth, or both.
 */
export async function patientMatch(cipher: PhiCipher, clinicId: string, search: { healthCard?: string; lastName?: string; dob?: string }) {
  const { healthCard, lastName, dob } = search
  // Under the previous blind-index key too while its rotation runs (docs/decisions/048-key-rotation.md).
  const byCard = healthCard ? await cipher.blindIndexes('health_card', clinicId, normalizeHealthCard(healthCard)) : null
  const byName = lastName && dob ? await cipher.blindIndexes('name_dob', clinicId, normalizeNameDob(lastName, dob)) : null
  return or(byCard ? inArray(referrals.healthCardIndex, byCard) : undefined, byName ? inArray(referrals.nameDobIndex, byName) : undefined)
}
