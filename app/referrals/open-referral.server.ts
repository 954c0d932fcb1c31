/**
 * Opening a referral: the one door for every place that shows one (the page, its print view,
 * the API's record and history). Who may (permission, and a recorded refusal for PHI), which
 * referral (a recorded 404 for an id that cannot be one), then, in one transaction through RLS:
 * the row, its form version, the PHI decrypted, its history with notes and messages decrypted,
 * and the audit row. A referral that is not there (or not theirs) is recorded as denied, and
 * answers 404 like any other: nothing says another clinic's referral exists.
 */
import type { AppLoadContext } from '@remix-run/cloudflare'
import { and, asc, eq, inArray, or } from 'drizzle-orm'
import { deniedEvent, type AuditEvent } from '~/audit/audit.server'
import { requireClinic, requirePhiId, requirePhiPermission } from '~/auth/guards.server'
import type { SessionUser } from '~/auth/identity.server'
import { hasPermission } from '~/auth/permissions'
import type { PhiCipher } from '~/crypto/phi.server'
import { referralEvents, referrals, users } from '~/db/schema'
import { intakeFormVersion } from '~/intake/intake-forms.server'
import type { TenantTx } from '~/tenancy/tenant.server'
import { openFormData } from './form-data.server'

type Purpose = 'read' | 'print'

/** Someone of the clinic, as the referral page names them (former staff included: the history names them too). */
export type ClinicPerson = { id: string; displayName: string; role: string; status: string }

/** What a person who may open the referral sees of it (before the route picks what to show). */
export type OpenedReferral = NonNullable<Awaited<ReturnType<typeof readReferral>>> & { staff: boolean; people: ClinicPerson[] }

/**
 * Opens one referral for `user`, or throws the refusal (a redirect to pick a clinic, a recorded
 * 403 or 404). Staff see the duplicates and mark the referral opened; a referrer sees their own.
 *
 * - `purpose: 'print'`: printing is a disclosure of its own, recorded as referral.print; it shows
 *   the referral as it was submitted (no duplicates, and it does not count as opening it).
 * - `people`: staff also get the clinic's people, read first: the history's names come from them.
 * - `also`: more reads in the same transaction, after the referral was opened (the page's AI panel).
 */
export async function openReferral<T = null>(
  context: AppLoadContext,
  user: SessionUser,
  referralId: string | undefined,
  options: { purpose?: Purpose; people?: boolean; also?: (tx: TenantTx, referral: OpenedReferral) => Promise<T> } = {},
): Promise<OpenedReferral & { also: T | null }> {
  const { purpose = 'read' } = options
  const staff = hasPermission(user, 'read:referral:any')
  const attempt = { action: `referral.${purpose}`, entityId: referralId } as const
  if (!staff) await requirePhiPermission(context, user, 'read:referral:own', attempt)
  const clinicId = requireClinic(user)
  const id = await requirePhiId(context, referralId, attempt)
  const opened = await context.db.tenant(async (tx) => {
    const people = staff && options.people ? await clinicPeopleWithStatus(tx, clinicId) : undefined
    const referral = await readReferral(tx, context.phi, context.audit, { id, staff: staff && purpose === 'read', action: attempt.action, people })
    if (!referral) return null
    const shown = { ...referral, staff, people: people ?? [] }
    return { ...shown, also: options.also ? await options.also(tx, shown) : null }
  })
  if (!opened) throw new Response('Not found', { status: 404 })
  return opened
}

function clinicPeopleWithStatus(tx: TenantTx, clinicId: string): Promise<ClinicPerson[]> {
  return tx.select({ id: users.id, displayName: users.displayName, role: users.role, status: users.status }).from(users).where(eq(users.clinicId, clinicId))
}

/**
 * The open itself, in the caller's transaction: what openReferral runs once the caller may.
 * Exported for the benchmark's baseline (scripts/bench/baseline.ts), which runs the same
 * statements without the app; request code goes through openReferral.
 */
export async function readReferral(
  tx: TenantTx,
  cipher: PhiCipher,
  audit: (tx: TenantTx, event: AuditEvent) => Promise<void>,
  options: {
    id: string
    staff: boolean
    action?: 'referral.read' | 'referral.print'
    /** The clinic's people, when the caller has them already: the history's names come from them (one query fewer). */
    people?: { id: string; displayName: string; role: string }[]
  },
) {
  const [row] = await tx.select().from(referrals).where(eq(referrals.id, options.id)).limit(1)
  if (!row) {
    await audit(tx, deniedEvent({ action: options.action ?? 'referral.read', entityId: options.id }, 404))
    return null
  }
  const form = await intakeFormVersion(tx, row.clinicId, row.formVersion)
  if (!form) throw new Error('referral form version missing')
  const values = await openFormData(cipher, form.definition, { clinicId: row.clinicId, referralId: row.id }, row.formData)

  const eventRows = await tx.select().from(referralEvents).where(eq(referralEvents.referralId, row.id)).orderBy(asc(referralEvents.createdAt))
  const actorIds = [...new Set(eventRows.map((e) => e.actorId).filter((v): v is string => !!v))]
  const actors = options.people
    ? options.people.filter((p) => actorIds.includes(p.id)).map(({ id, displayName, role }) => ({ id, displayName, role }))
    : actorIds.length
      ? await tx.select({ id: users.id, displayName: users.displayName, role: users.role }).from(users).where(inArray(users.id, actorIds))
      : []
  const events = await Promise.all(
    eventRows.map(async (e) => ({
      id: e.id,
      type: e.type,
      data: e.data,
      visibleToReferrer: e.visibleToReferrer,
      createdAt: e.createdAt.toISOString(),
      actor: actors.find((a) => a.id === e.actorId) ?? null,
      body: e.body ? await cipher.decrypt(e.body, { clinicId: row.clinicId, recordId: e.id, field: 'body' }) : null,
    })),
  )

  let duplicates: { id: string; referenceNumber: string; status: string }[] = []
  if (options.staff) {
    if (!row.firstOpenedAt) await tx.update(referrals).set({ firstOpenedAt: new Date() }).where(eq(referrals.id, row.id))
    const links = [eq(referrals.possibleDuplicateOf, row.id), row.possibleDuplicateOf ? eq(referrals.id, row.possibleDuplicateOf) : undefined]
    duplicates = await tx
      .select({ id: referrals.id, referenceNumber: referrals.referenceNumber, status: referrals.status })
      .from(referrals)
      .where(and(or(...links)))
  }
  await audit(tx, { action: options.action ?? 'referral.read', entityType: 'referral', entityId: row.id })
  return { row, form, values, events, duplicates }
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
