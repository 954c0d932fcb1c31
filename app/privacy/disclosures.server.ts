/**
 * An accounting of disclosures for one patient (HIPAA 164.528): every recorded access to any of
 * that patient's referrals in the clinic, over a period of up to six years. The patient is found
 * through the blind indexes (a health card number, or a last name with a date of birth), so the
 * terms never reach the database; what comes back is the trail's own rows: who, when, what, from
 * where. Each accounting is itself a row of the trail, with ids and counts only.
 */
import type { AppLoadContext } from '@remix-run/cloudflare'
import { and, desc, eq, gte, inArray, lt, or, sql } from 'drizzle-orm'
import { actionLabel } from '~/audit/actions'
import { anonymousActor, csvCell } from '~/audit/audit-formats'
import { dayAfter, dayStart } from '~/audit/audit-view'
import type { AuditEvent } from '~/audit/audit.server'
import type { PhiCipher } from '~/crypto/phi.server'
import { auditLogs, ehrIntegrations, referrals, users } from '~/db/schema'
import { patientMatch } from '~/referrals/queue.server'
import type { TenantTx } from '~/tenancy/tenant.server'
import type { DisclosureRow } from './disclosures-table'
import { formatClinicTime } from '~/utils/clinic-time'
import { DISCLOSURE_YEARS, MAX_DISCLOSURES, type DisclosureSearch } from './disclosure-search'

export { DISCLOSURE_YEARS, MAX_DISCLOSURES }
const LIST_PAGE = 100

export type PatientSearch = { healthCard?: string; lastName?: string; dob?: string }
/** A row of the accounting: what the page and the file show (./disclosures-table), and who by id. */
export type Disclosure = DisclosureRow & { actor: string | null }

export function periodStart(now: Date, years: number) {
  const since = new Date(now)
  since.setUTCFullYear(since.getUTCFullYear() - Math.min(Math.max(years, 1), DISCLOSURE_YEARS))
  return since
}

/** The patient's referrals, then every row about them and every list that showed them, newest first. */
export async function accountOfDisclosures(
  tx: TenantTx,
  cipher: PhiCipher,
  audit: (tx: TenantTx, event: AuditEvent) => Promise<void>,
  input: { clinicId: string; search: PatientSearch; since: Date; until?: Date; purpose: 'read' | 'export' },
) {
  const match = await patientMatch(cipher, input.clinicId, input.search)
  const found = match
    ? await tx
        .select({ id: referrals.id, referenceNumber: referrals.referenceNumber })
        .from(referrals)
        .where(and(eq(referrals.clinicId, input.clinicId), match))
    : []
  const ids = found.map((r) => r.id)
  const reference = new Map(found.map((r) => [r.id, r.referenceNumber]))
  let rows: Disclosure[] = []
  let truncated = false
  if (ids.length) {
    // The lists that showed each referral (audit_list_views: drizzle/0013), a page at a time.
    const listed = new Map<number, string>()
    for (const id of ids) {
      let before: number | null = null
      for (;;) {
        const page: { rows: { id: string; seq: string }[] } = await tx.execute<{ id: string; seq: string }>(sql`select a.id::text, a.seq::text from audit_logs a
          where a.id = any(array(select audit_list_views(${id}::uuid, ${before}::bigint, ${LIST_PAGE}))) order by a.seq desc`)
        for (const r of page.rows) if (!listed.has(Number(r.id))) listed.set(Number(r.id), id)
        if (page.rows.length < LIST_PAGE || listed.size > MAX_DISCLOSURES) break
        before = Number(page.rows.at(-1)!.seq)
      }
    }
    const aboutThem = and(eq(auditLogs.entityType, 'referral'), inArray(auditLogs.entityId, ids))
    const shownIn = listed.size ? inArray(auditLogs.id, [...listed.keys()]) : undefined
    const found = await tx
      .select({
        id: auditLogs.id,
        seq: auditLogs.seq,
        occurredAt: auditLogs.occurredAt,
        // A person of the clinic, or an EHR integration by its registration's name (decisions 058, 061).
        actor: sql<string | null>`coalesce(${users.displayName}, ${ehrIntegrations.name})`,
        actorId: auditLogs.actorId,
        actorRole: auditLogs.actorRole,
        action: auditLogs.action,
        outcome: auditLogs.outcome,
        entityId: auditLogs.entityId,
        ip: auditLogs.ip,
        userAgent: auditLogs.userAgent,
      })
      .from(auditLogs)
      .leftJoin(users, eq(users.id, auditLogs.actorId))
      .leftJoin(ehrIntegrations, and(eq(auditLogs.actorRole, 'integration'), eq(ehrIntegrations.id, auditLogs.actorId)))
      .where(
        and(
          eq(auditLogs.clinicId, input.clinicId),
          gte(auditLogs.occurredAt, input.since),
          input.until ? lt(auditLogs.occurredAt, input.until) : undefined,
          or(aboutThem, shownIn),
        ),
      )
      .orderBy(desc(auditLogs.seq))
      .limit(MAX_DISCLOSURES + 1)
    truncated = found.length > MAX_DISCLOSURES
    rows = found.slice(0, MAX_DISCLOSURES).map((r) => {
      const referralId = r.entityId && reference.has(r.entityId) ? r.entityId : (listed.get(r.id) ?? '')
      return {
        seq: r.seq ?? 0,
        occurredAt: r.occurredAt.toISOString(),
        actor: r.actor,
        who: r.actor ?? (r.actorId ? (r.actorRole === 'superadmin' ? 'IntakePilot administrator' : 'A user outside this clinic') : anonymousActor(r.actorRole)),
        actorRole: r.actorRole,
        action: r.action,
        outcome: r.outcome,
        referenceNumber: reference.get(referralId) ?? null,
        referralId,
        ip: r.ip,
        userAgent: r.userAgent,
      }
    })
  }
  // The accounting is a disclosure too: recorded with ids and counts, never the search terms.
  await audit(tx, {
    action: input.purpose === 'export' ? 'disclosures.export' : 'disclosures.read',
    entityType: 'patient',
    details: {
      ids,
      rows: rows.length,
      truncated,
      since: input.since.toISOString(),
      until: input.until?.toISOString() ?? null,
      by: input.search.healthCard ? 'health_card' : 'name_dob',
    },
  })
  return { referrals: found, rows, truncated }
}

/**
 * The accounting as a file: who, when, what and from where, and the referral's reference number,
 * never the patient's name, date of birth or health card number (the file leaves the app: the
 * privacy officer's letter names the patient; the references tie each row to a referral).
 */
export function disclosuresCsv(rows: Disclosure[], truncated: boolean, options: { zone: string; from?: string; to?: string }) {
  const header = ['when (clinic time)', 'when (UTC)', 'who', 'role', 'what', 'action', 'outcome', 'referral', 'from IP', 'user agent', 'audit entry']
  const lines = rows.map((r) =>
    [
      formatClinicTime(r.occurredAt, options.zone, { seconds: true }),
      r.occurredAt,
      r.who,
      r.actorRole,
      actionLabel(r.action),
      r.action,
      r.outcome,
      r.referenceNumber,
      r.ip,
      r.userAgent,
      r.seq,
    ]
      .map(csvCell)
      .join(','),
  )
  const period = options.from && options.to ? `; ${options.from} to ${options.to} (${options.zone})` : ''
  const trailer = `# intakepilot-disclosures: ${rows.length} rows${period}; ${truncated ? `stopped at ${MAX_DISCLOSURES}: narrow the period` : 'complete'}`
  return [header.join(','), ...lines, trailer].join('\r\n') + '\r\n'
}

/**
 * The accounting a page or an export asks for: the period's clinic days turned into instants in
 * the clinic's zone (from the first day's start to the end of the last), then the accounting
 * above, in one transaction with its own audit row.
 */
export function accountingForDays(context: AppLoadContext, clinicId: string, search: DisclosureSearch, zone: string, purpose: 'read' | 'export') {
  const since = dayStart(search.from, zone)
  const until = dayAfter(search.to, zone)
  const patient = { healthCard: search.healthCard || undefined, lastName: search.lastName || undefined, dob: search.dob || undefined }
  return context.db.tenant((tx) => accountOfDisclosures(tx, context.phi, context.audit, { clinicId, search: patient, since, until, purpose }))
}
