/**
 * Opening a referral: the one door for every place that shows one (the page, its print view,
 * the API's record and history). Who may (permission, and a recorded refusal for PHI), which
 * referral (a recorded 404 for an id that cannot be one), then, in one transaction through RLS:
 * the row, its form version, the PHI decrypted, its history with notes and messages decrypted,
 * and the audit row. A referral that is not there (or not theirs) is recorded as denied, and
 * answers 404 like any other: nothing says another clinic's referral exists.
 */
import type { AppLoadContext } from '@remix-run/cloudflare'
import { and, eq, sql, type SQL } from 'drizzle-orm'
import { deniedEvent, type AuditEvent } from '~/audit/audit.server'
import { requireClinic, requirePhiId, requirePhiPermission } from '~/auth/guards.server'
import type { SessionUser } from '~/auth/identity.server'
import { hasPermission } from '~/auth/permissions'
import type { PhiCipher } from '~/crypto/phi.server'
import { intakeForms, referralEvents, referrals, type EncryptedValue } from '~/db/schema'
import type { StoredDocument } from '~/documents/documents.server'
import { sendWithCommit, type TenantTx } from '~/tenancy/tenant.server'
import { openFormData } from './form-data.server'

type Purpose = 'read' | 'print'

/** Someone of the clinic, as the referral page names them (former staff included: the history names them too). */
export type ClinicPerson = { id: string; displayName: string; role: string; status: string }

/** What a person who may open the referral sees of it (before the route picks what to show). */
export type OpenedReferral = NonNullable<Awaited<ReturnType<typeof readReferral>>> & { staff: boolean }

/**
 * Opens one referral for `user`, or throws the refusal (a redirect to pick a clinic, a recorded
 * 403 or 404). Staff see the duplicates and mark the referral opened; a referrer sees their own.
 *
 * - `purpose: 'print'`: printing is a disclosure of its own, recorded as referral.print; it shows
 *   the referral as it was submitted (no duplicates, and it does not count as opening it).
 * - `people`: staff also get the clinic's people (the history's names then come from them).
 * - `summaries`: staff also get the saved AI summaries, still encrypted (app/ai opens them).
 * - `also`: more reads in the same transaction, after the referral was opened (the page's AI panel).
 */
export async function openReferral<T = null>(
  context: AppLoadContext,
  user: SessionUser,
  referralId: string | undefined,
  options: {
    purpose?: Purpose
    people?: boolean
    summaries?: boolean
    documents?: boolean
    also?: (tx: TenantTx, referral: OpenedReferral) => Promise<T>
  } = {},
): Promise<OpenedReferral & { also: T | null }> {
  const { purpose = 'read' } = options
  const staff = hasPermission(user, 'read:referral:any')
  const attempt = { action: `referral.${purpose}`, entityId: referralId } as const
  if (!staff) await requirePhiPermission(context, user, 'read:referral:own', attempt)
  requireClinic(user)
  const id = await requirePhiId(context, referralId, attempt)
  const opened = await context.db.tenant(async (tx) => {
    const referral = await readReferral(tx, context.phi, context.audit, {
      id,
      // An EHR integration reads as a system, not as the clinic's staff: it marks nothing opened
      // (turnaround counts people) and is shown no possible duplicates (decision 058).
      staff: staff && purpose === 'read' && user.role !== 'integration',
      action: attempt.action,
      people: staff && !!options.people,
      summaries: staff && !!options.summaries,
      documents: !!options.documents,
    })
    if (!referral) return null
    const shown = { ...referral, staff }
    return { ...shown, also: options.also ? await options.also(tx, shown) : null }
  })
  if (!opened) throw new Response('Not found', { status: 404 })
  return opened
}

type EventJson = {
  id: string
  type: (typeof referralEvents.$inferSelect)['type']
  data: Record<string, unknown>
  body: EncryptedValue | null
  visibleToReferrer: boolean
  createdAt: string
  actorId: string | null
}

/**
 * The open itself, in the caller's transaction: what openReferral runs once the caller may.
 * One statement reads the referral with everything its page shows (decision 029): its form
 * version, its history and the names in it, the possible duplicates and, when asked, the clinic's
 * people and the saved AI summaries, each a subquery under the same RLS as a statement of its
 * own. Exported for the benchmark's baseline (scripts/bench/baseline.ts), which runs it without
 * the app, and without RLS (`clinicId`: the clinic predicate RLS adds, written out instead).
 */
export async function readReferral(
  tx: TenantTx,
  cipher: PhiCipher,
  audit: (tx: TenantTx, event: AuditEvent) => Promise<void>,
  options: {
    id: string
    staff: boolean
    action?: 'referral.read' | 'referral.print'
    /** Also the clinic's people, former staff included (the staff page's names and assignees). */
    people?: boolean
    /** Also the saved AI summaries, still encrypted (app/ai opens them). */
    summaries?: boolean
    /** Also its documents that are not removed, oldest first, names still encrypted (app/documents opens them). */
    documents?: boolean
    /** Only the bench's no-RLS twin: each read also names the clinic, as RLS would. */
    clinicId?: string
  },
) {
  const inClinic = (column: SQL) => (options.clinicId ? sql` and ${column} = ${options.clinicId}` : sql``)
  const [found] = await tx
    .select({
      row: referrals,
      form: { version: intakeForms.version, definition: intakeForms.definition },
      events: sql<EventJson[]>`coalesce((select json_agg(json_build_object('id', e.id, 'type', e.type, 'data', e.data, 'body', e.body,
        'visibleToReferrer', e.visible_to_referrer, 'createdAt', e.created_at, 'actorId', e.actor_id) order by e.created_at)
        from referral_events e where e.referral_id = ${referrals.id}${inClinic(sql`e.clinic_id`)}), '[]'::json)`,
      actors: options.people
        ? sql<null>`null`
        : sql<
            { id: string; displayName: string; role: string }[]
          >`coalesce((select json_agg(json_build_object('id', u.id, 'displayName', u.display_name, 'role', u.role))
        from users u where u.id in (select e.actor_id from referral_events e where e.referral_id = ${referrals.id}${inClinic(sql`e.clinic_id`)})), '[]'::json)`,
      duplicates: options.staff
        ? sql<
            { id: string; referenceNumber: string; status: string }[]
          >`coalesce((select json_agg(json_build_object('id', d.id, 'referenceNumber', d.reference_number, 'status', d.status))
        from referrals d where (d.possible_duplicate_of = ${referrals.id} or d.id = ${referrals.possibleDuplicateOf})${inClinic(sql`d.clinic_id`)}), '[]'::json)`
        : sql<null>`null`,
      people: options.people
        ? sql<ClinicPerson[]>`coalesce((select json_agg(json_build_object('id', u.id, 'displayName', u.display_name, 'role', u.role, 'status', u.status))
        from users u where u.clinic_id = ${referrals.clinicId}), '[]'::json)`
        : sql<null>`null`,
      summaries: options.summaries
        ? sql<Record<
            string,
            unknown
          > | null>`(select p.summaries from processing_results p where p.referral_id = ${referrals.id} and p.clinic_id = ${referrals.clinicId})`
        : sql<null>`null`,
      documents: options.documents
        ? sql<StoredDocument[]>`coalesce((select json_agg(json_build_object('id', d.id, 'clinicId', d.clinic_id, 'name', d.name, 'contentType', d.content_type,
        'sizeBytes', d.size_bytes, 'createdAt', d.created_at, 'attachedWith', d.attached_with,
        'uploadedBy', coalesce((select json_build_object('id', u.id, 'displayName', u.display_name, 'role', u.role) from users u where u.id = d.uploaded_by),
          case when d.uploaded_by_integration is not null then json_build_object('id', d.uploaded_by_integration, 'displayName', ${referrals.submittedByIntegrationName}, 'role', 'integration') end))
        order by d.created_at, d.id) from referral_documents d where d.referral_id = ${referrals.id} and d.removed_at is null${inClinic(sql`d.clinic_id`)}), '[]'::json)`
        : sql<null>`null`,
    })
    .from(referrals)
    .leftJoin(intakeForms, and(eq(intakeForms.clinicId, referrals.clinicId), eq(intakeForms.version, referrals.formVersion)))
    .where(and(eq(referrals.id, options.id), options.clinicId ? eq(referrals.clinicId, options.clinicId) : undefined))
    .limit(1)
  if (!found) {
    await audit(tx, deniedEvent({ action: options.action ?? 'referral.read', entityId: options.id }, 404))
    return null
  }
  const { row, form } = found
  if (!form?.definition) throw new Error('referral form version missing')
  const values = await openFormData(cipher, form.definition, { clinicId: row.clinicId, referralId: row.id }, row.formData)
  const people = found.people ?? []
  const actors: { id: string; displayName: string; role: string }[] = found.people ?? found.actors ?? []
  const actorOf = (id: string | null) => {
    const actor = id ? actors.find((a) => a.id === id) : undefined
    return actor ? { id: actor.id, displayName: actor.displayName, role: actor.role } : null
  }
  const events = await Promise.all(
    found.events.map(async (e) => ({
      id: e.id,
      type: e.type,
      data: e.data,
      visibleToReferrer: e.visibleToReferrer,
      createdAt: new Date(e.createdAt).toISOString(),
      actor: actorOf(e.actorId),
      body: e.body ? await cipher.decrypt(e.body, { clinicId: row.clinicId, recordId: e.id, field: 'body' }) : null,
    })),
  )

  if (options.staff && !row.firstOpenedAt) {
    // Nothing in the transaction reads it back: it goes with the commit (no round trip of its own).
    const firstOpened = (literal: (value: string) => string) =>
      `update referrals set first_opened_at = now() where id = ${literal(row.id)} and first_opened_at is null`
    if (!sendWithCommit(tx, firstOpened)) await tx.update(referrals).set({ firstOpenedAt: new Date() }).where(eq(referrals.id, row.id))
  }
  await audit(tx, { action: options.action ?? 'referral.read', entityType: 'referral', entityId: row.id })
  return {
    row,
    form: { version: form.version ?? row.formVersion, definition: form.definition },
    values,
    events,
    duplicates: found.duplicates ?? [],
    people,
    storedSummaries: found.summaries,
    storedDocuments: found.documents ?? [],
  }
}

/** The EHR system that sent the referral, as its registration was named then; null for a person's (decision 061). */
export function sentByIntegration(row: { submittedByIntegration: string | null; submittedByIntegrationName: string | null }) {
  return row.submittedByIntegration ? { id: row.submittedByIntegration, name: row.submittedByIntegrationName ?? 'EHR system' } : null
}

/** The referral's own fields as pages and the API show them (its form data is separate). */
export function referralFacts(row: typeof referrals.$inferSelect) {
  return {
    id: row.id,
    referenceNumber: row.referenceNumber,
    status: row.status,
    priority: row.priority,
    version: row.version,
    formVersion: row.formVersion,
    receivedAt: row.receivedAt.toISOString(),
    assignedTo: row.assignedTo,
  }
}
