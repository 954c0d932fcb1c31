/**
 * Reading the audit trail: the viewer's pages, a referral's access history, the export's
 * batches and the chain check. Always inside db.tenant, so RLS limits every read to the
 * caller's clinic (and to staff and admins) whatever the filters say.
 */
import { and, asc, desc, eq, gt, gte, inArray, lt, or, sql, type SQL } from 'drizzle-orm'
import { auditLogs, ehrIntegrations, referrals, users } from '~/db/schema'
import type { AuditOutcome } from '~/db/enums'
import type { TenantTx } from '~/tenancy/tenant.server'
import type { AuditRecord } from './audit-formats'
import { pageOfRuns, RUN_REACH } from './audit-groups'
import { dayAfter, dayStart, type AuditView } from './audit-view'

export const AUDIT_PAGE_SIZE = 50

/** A row written by an EHR integration names it by its registration's name. */
const actedAsIntegration = and(eq(auditLogs.actorRole, 'integration'), eq(ehrIntegrations.id, auditLogs.actorId))
function actorName() {
  return sql<string | null>`coalesce(${users.displayName}, ${ehrIntegrations.name})`
}

/** The days of a filter or an export are the clinic's days (its time zone), not UTC days. */
function viewFilters(clinicId: string, view: Omit<AuditView, 'cursor'>, zone: string): SQL[] {
  const filters: SQL[] = [eq(auditLogs.clinicId, clinicId)]
  if (view.from) filters.push(gte(auditLogs.occurredAt, dayStart(view.from, zone)))
  if (view.to) filters.push(lt(auditLogs.occurredAt, dayAfter(view.to, zone)))
  if (view.actor) filters.push(eq(auditLogs.actorId, view.actor))
  if (view.action) filters.push(eq(auditLogs.action, view.action))
  if (view.outcome) filters.push(eq(auditLogs.outcome, view.outcome))
  if (view.referral) filters.push(eq(auditLogs.entityType, 'referral'), eq(auditLogs.entityId, view.referral))
  // By the number people quote: the referral is looked up under RLS (another clinic's number finds nothing).
  if (view.reference)
    filters.push(
      eq(auditLogs.entityType, 'referral'),
      sql`${auditLogs.entityId} = (select ${referrals.id}::text from ${referrals} where ${referrals.clinicId} = ${clinicId}::uuid and ${referrals.referenceNumber} = ${view.reference})`,
    )
  return filters
}

/** The row's entity as an id that can be compared with a uuid column: null when it is not one (the column is text). */
const entityUuid = sql`(case when ${auditLogs.entityId} ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' then ${auditLogs.entityId}::uuid end)`

/**
 * What people call the row's entity, resolved now, under RLS (the row itself keeps the id): a
 * referral's reference number, a user's name, the clinic's name. Null when RLS hides it or it
 * is gone; the id is shown then.
 */
const entityLabel = sql<string | null>`case ${auditLogs.entityType}
    when 'referral' then (select r.reference_number from referrals r where r.id = ${entityUuid} and r.clinic_id = ${auditLogs.clinicId})
    when 'user' then (select u.display_name from users u where u.id = ${entityUuid})
    when 'clinic' then (select c.name from clinics c where c.id = ${entityUuid})
  end`

/** How many referrals a list showed (its details.ids); null for any other row. */
const listedCount = sql<number | null>`case when ${auditLogs.action} = 'referral.list' and jsonb_typeof(${auditLogs.details} -> 'ids') = 'array'
    then jsonb_array_length(${auditLogs.details} -> 'ids') end`

/** What the viewer and the who-accessed tab show of every row (ids and codes, never PHI). */
const ROW_COLUMNS = {
  id: auditLogs.id,
  seq: auditLogs.seq,
  occurredAt: auditLogs.occurredAt,
  actorId: auditLogs.actorId,
  // RLS shows the clinic's users (a superadmin's own row is not one of them), and to admins its
  // EHR integrations, which act under their own id (docs/decisions/058).
  actorName: actorName(),
  actorRole: auditLogs.actorRole,
  action: auditLogs.action,
  outcome: auditLogs.outcome,
  requestId: auditLogs.requestId,
  // Which kind of list, from its flags (never the ids of the other referrals it showed).
  list: sql<'search' | 'api' | 'list' | null>`case when ${auditLogs.entityId} is not null or ${auditLogs.action} <> 'referral.list' then null
        when ${auditLogs.details} ->> 'search' = 'true' then 'search' when ${auditLogs.details} ->> 'api' = 'true' then 'api' else 'list' end`,
  listed: listedCount,
}

/** A page's rows are read with room for a list run to finish on it (app/audit/audit-groups.ts). */
const READ_SIZE = AUDIT_PAGE_SIZE + RUN_REACH + 1

/** The page cut where no list run is split, times as ISO strings, and the keyset of the next one. */
function runPage<R extends Parameters<typeof pageOfRuns>[0][number] & { occurredAt: Date; seq: number | null }>(rows: R[]) {
  const { page, more } = pageOfRuns(rows, AUDIT_PAGE_SIZE)
  const last = page.at(-1)
  return { rows: page.map((r) => ({ ...r, occurredAt: r.occurredAt.toISOString() })), next: more && last?.seq ? last.seq : null }
}

/** One page, newest first in chain order (seq), keyset on seq: page 500 costs what page 1 does. */
export async function auditPage(tx: TenantTx, clinicId: string, view: AuditView, zone: string) {
  const rows = await tx
    .select({
      ...ROW_COLUMNS,
      entityType: auditLogs.entityType,
      entityId: auditLogs.entityId,
      entityLabel,
      ip: auditLogs.ip,
    })
    .from(auditLogs)
    .leftJoin(users, eq(users.id, auditLogs.actorId))
    .leftJoin(ehrIntegrations, actedAsIntegration)
    .where(and(...viewFilters(clinicId, view, zone), view.cursor ? lt(auditLogs.seq, view.cursor) : undefined))
    .orderBy(desc(auditLogs.seq))
    .limit(READ_SIZE)
  return runPage(rows)
}
export type AuditPageRow = Awaited<ReturnType<typeof auditPage>>['rows'][number]

/**
 * A referral's access history, or null when the referral is not there: looked up through RLS
 * first, so another clinic's referral is not found, and neither is its history.
 */
export async function referralAccessHistory(tx: TenantTx, clinicId: string, referralId: string, cursor?: number) {
  const [found] = await tx.select({ id: referrals.id }).from(referrals).where(eq(referrals.id, referralId)).limit(1)
  return found ? referralAccessPage(tx, clinicId, referralId, cursor) : null
}

/**
 * "Who accessed this": every row about the referral (opened, printed, changed, refused) and
 * every list that showed it (queue pages, patient searches, API lists: their details.ids),
 * newest first, keyset on seq. The lists are found by audit_list_views() (drizzle/0013: the GIN
 * index cannot be used under RLS) as at most a page of row ids, so both arms are index lookups.
 */
export async function referralAccessPage(tx: TenantTx, clinicId: string, referralId: string, cursor?: number) {
  const aboutIt = and(eq(auditLogs.entityType, 'referral'), eq(auditLogs.entityId, referralId))
  const listedIt = sql`${auditLogs.id} = any(array(select audit_list_views(${referralId}::uuid, ${cursor ?? null}::bigint, ${READ_SIZE})))`
  const rows = await tx
    .select(ROW_COLUMNS)
    .from(auditLogs)
    .leftJoin(users, eq(users.id, auditLogs.actorId))
    .leftJoin(ehrIntegrations, actedAsIntegration)
    .where(and(eq(auditLogs.clinicId, clinicId), or(aboutIt, listedIt), cursor ? lt(auditLogs.seq, cursor) : undefined))
    .orderBy(desc(auditLogs.seq))
    .limit(READ_SIZE)
  return runPage(rows)
}

export function clinicMembers(tx: TenantTx, clinicId: string) {
  return tx
    .select({ id: users.id, displayName: users.displayName, role: users.role })
    .from(users)
    .where(eq(users.clinicId, clinicId))
    .orderBy(asc(users.displayName))
}

/** One row as exported (AuditRecord): the same text the row's hash covers, so an exported row can be checked on its own. */
const RECORD_COLUMNS = {
  id: auditLogs.id,
  seq: auditLogs.seq,
  occurredAt: sql<string>`to_char(${auditLogs.occurredAt} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`,
  clinicId: auditLogs.clinicId,
  actorId: auditLogs.actorId,
  actorName: actorName(),
  actorRole: auditLogs.actorRole,
  action: auditLogs.action,
  entityType: auditLogs.entityType,
  entityId: auditLogs.entityId,
  entityLabel,
  outcome: auditLogs.outcome,
  requestId: auditLogs.requestId,
  ip: auditLogs.ip,
  userAgent: auditLogs.userAgent,
  details: sql<string | null>`${auditLogs.details}::text`,
  prevHash: auditLogs.prevHash,
  hash: auditLogs.hash,
}

/** The next batch of an export, in chain order, after the given seq. */
export async function exportBatch(
  tx: TenantTx,
  clinicId: string,
  range: { from: string; to: string },
  zone: string,
  afterSeq: number,
  size: number,
): Promise<AuditRecord[]> {
  return tx
    .select(RECORD_COLUMNS)
    .from(auditLogs)
    .leftJoin(users, eq(users.id, auditLogs.actorId))
    .leftJoin(ehrIntegrations, actedAsIntegration)
    .where(and(...viewFilters(clinicId, range, zone), gt(auditLogs.seq, afterSeq)))
    .orderBy(asc(auditLogs.seq))
    .limit(size)
}

/** Instants a record may be compared with: [from, until) per operator, as FHIR's date parameters give them. */
export type RecordTime = { op: 'eq' | 'ge' | 'gt' | 'le' | 'lt'; from: Date; until: Date }

/**
 * Records as the export has them, newest first in chain order, keyset on seq (the FHIR
 * AuditEvent search): `beforeSeq` for the next page, `id` for one row.
 */
export async function auditRecords(
  tx: TenantTx,
  clinicId: string,
  query: { id?: number; beforeSeq?: number; times?: RecordTime[]; actions?: string[] | null; outcomes?: AuditOutcome[] | null; limit: number },
): Promise<AuditRecord[]> {
  const at = auditLogs.occurredAt
  const filters: (SQL | undefined)[] = [eq(auditLogs.clinicId, clinicId)]
  if (query.id !== undefined) filters.push(eq(auditLogs.id, query.id))
  if (query.beforeSeq !== undefined) filters.push(lt(auditLogs.seq, query.beforeSeq))
  if (query.actions) filters.push(query.actions.length ? inArray(auditLogs.action, query.actions) : sql`false`)
  if (query.outcomes) filters.push(query.outcomes.length ? inArray(auditLogs.outcome, query.outcomes) : sql`false`)
  for (const t of query.times ?? []) {
    filters.push(
      t.op === 'eq'
        ? and(gte(at, t.from), lt(at, t.until))
        : t.op === 'ge'
          ? gte(at, t.from)
          : t.op === 'gt'
            ? gte(at, t.until)
            : t.op === 'lt'
              ? lt(at, t.from)
              : lt(at, t.until),
    )
  }
  return tx
    .select(RECORD_COLUMNS)
    .from(auditLogs)
    .leftJoin(users, eq(users.id, auditLogs.actorId))
    .leftJoin(ehrIntegrations, actedAsIntegration)
    .where(and(...filters))
    .orderBy(desc(auditLogs.seq))
    .limit(query.limit)
}

export type ChainCheck = { ok: boolean; checked: number; brokenSeq: number | null; reason: string | null }

/** audit_verify() walks the clinic's chain with the caller's rights (RLS: their clinic only). */
export async function verifyAuditChain(tx: TenantTx, clinicId: string): Promise<ChainCheck> {
  const result = await tx.execute<{ ok: boolean; checked: string; broken_seq: string | null; reason: string | null }>(
    sql`select ok, checked, broken_seq, reason from audit_verify(${clinicId}::uuid)`,
  )
  const r = result.rows[0]
  if (!r) throw new Error('audit_verify returned no row')
  return { ok: r.ok, checked: Number(r.checked), brokenSeq: r.broken_seq === null ? null : Number(r.broken_seq), reason: r.reason }
}

/** The clinic's chain head as its rows say: the last row's seq and hash (RLS: staff and admins). */
export async function clinicChainHead(tx: TenantTx, clinicId: string) {
  const [head] = await tx
    .select({ seq: auditLogs.seq, hash: auditLogs.hash })
    .from(auditLogs)
    .where(eq(auditLogs.clinicId, clinicId))
    .orderBy(desc(auditLogs.seq))
    .limit(1)
  return head?.seq && head.hash ? { seq: head.seq, hash: head.hash } : null
}
