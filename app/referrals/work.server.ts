/**
 * Working a referral (status moves, assignment, notes/messages/replies): the rules of the
 * referral page's action, for callers that are not the page (the JSON API). Same workflow
 * (workflow.ts), same optimistic concurrency on `version`, same events, encryption and audit.
 */
import type { AppLoadContext } from '@remix-run/cloudflare'
import { and, eq, sql } from 'drizzle-orm'
import { deniedEvent, type AuditAction, type AuditEvent } from '~/audit/audit.server'
import { requirePhiId, requirePhiPermission } from '~/auth/guards.server'
import type { SessionUser } from '~/auth/identity.server'
import type { PhiCipher } from '~/crypto/phi.server'
import { referralEvents, referrals, users, type ReferralStatus } from '~/db/schema'
import type { TenantTx } from '~/tenancy/tenant.server'
import { isClockTime } from '~/utils/form-values'
import { canMove, NEEDS_DATE, NEEDS_REASON, timestampsFor } from './workflow'
export { NO_REFERRER_TO_ASK } from './workflow'
import { isReasonCodeFor } from './reason-codes'

export type Work =
  | { intent: 'status'; to: ReferralStatus; version: number; reason?: string; reasonCode?: string; scheduledFor?: string; scheduledTime?: string }
  | { intent: 'assign'; assignee: string | null; version: number }
  // The sender's own cancel (docs/decisions/060-sender-cancels.md): staff's is a status move.
  | { intent: 'cancel'; version: number; reason?: string; reasonCode?: string }
  | { intent: 'note' | 'message' | 'reply'; body: string }

export type WorkOutcome = 'done' | 'not-found' | 'conflict' | 'bad-move' | 'bad-assignee' | 'needs-reason' | 'bad-reason-code' | 'needs-date' | 'no-referrer'

type Deps = {
  clinicId: string
  userId: string
  cipher: PhiCipher
  audit: (tx: TenantTx, event: AuditEvent) => Promise<void>
}

/**
 * The one door for working a referral, from the page or the API: the permission this kind of
 * work needs (a refusal is recorded), the id (a recorded 404), then performWork in one
 * transaction as this request's user. The outcome is the caller's to word.
 */
export async function workOnReferral(context: AppLoadContext, user: SessionUser, clinicId: string, referralId: string | undefined, work: Work) {
  const attempt = { action: WORK_ACTION[work.intent], entityId: referralId }
  await requirePhiPermission(context, user, WORK_PERMISSION[work.intent], attempt)
  const id = await requirePhiId(context, referralId, attempt)
  const done = await context.db.tenant((tx) => performWork(tx, { clinicId, userId: user.id, cipher: context.phi, audit: context.audit }, id, work))
  return { ...done, id }
}

export async function performWork(tx: TenantTx, deps: Deps, id: string, work: Work): Promise<{ outcome: WorkOutcome; eventId?: string }> {
  const { clinicId, cipher, audit } = deps
  const [row] = await tx.select().from(referrals).where(eq(referrals.id, id)).limit(1)
  if (!row) {
    // Not there, or another clinic's: a refused attempt on PHI, recorded as such.
    await audit(tx, deniedEvent({ action: WORK_ACTION[work.intent], entityId: id }, 404))
    return { outcome: 'not-found' }
  }
  const event = (type: 'status' | 'assignment' | 'note' | 'message' | 'reply', extra: Partial<typeof referralEvents.$inferInsert>) =>
    tx.insert(referralEvents).values({ clinicId, referralId: id, actorId: deps.userId, type, ...extra })
  // Optimistic concurrency: the change applies only to the version the caller last read.
  const bump = (set: Partial<typeof referrals.$inferInsert>, version: number) =>
    tx
      .update(referrals)
      .set({ ...set, version: sql`${referrals.version} + 1`, updatedAt: new Date() })
      .where(and(eq(referrals.id, id), eq(referrals.version, version)))
      .returning({ id: referrals.id })

  switch (work.intent) {
    case 'status': {
      // A stale page first: its choices were made against a referral that has moved on.
      if (row.version !== work.version) return { outcome: 'conflict' }
      if (!canMove(row.status, work.to)) return { outcome: 'bad-move' }
      if (NEEDS_REASON.includes(work.to) && !work.reason?.trim()) return { outcome: 'needs-reason' }
      // A category is one of the move's own (app/referrals/reason-codes.ts); none is "not given".
      if (work.reasonCode !== undefined && !isReasonCodeFor(work.to, work.reasonCode)) return { outcome: 'bad-reason-code' }
      const reasonCode = work.reasonCode !== undefined ? { reasonCode: work.reasonCode } : {}
      if (NEEDS_DATE.includes(work.to) && !/^\d{4}-\d{2}-\d{2}$/.test(work.scheduledFor ?? '')) return { outcome: 'needs-date' }
      if (work.scheduledTime !== undefined && !isClockTime(work.scheduledTime)) return { outcome: 'needs-date' }
      const changed = await bump({ status: work.to, ...timestampsFor(row.status, work.to, new Date(), row) }, work.version)
      if (!changed.length) return { outcome: 'conflict' }
      // The reason and the appointment concern the patient: encrypted, shown to the referrer.
      const note = [work.reason?.trim(), NEEDS_DATE.includes(work.to) ? appointmentLine(work.scheduledFor!, work.scheduledTime) : undefined]
        .filter(Boolean)
        .join('\n')
      const eventId = crypto.randomUUID()
      await event('status', {
        id: eventId,
        data: { from: row.status, to: work.to, ...reasonCode },
        body: note ? await cipher.encrypt(note, { clinicId, recordId: eventId, field: 'body' }) : undefined,
        visibleToReferrer: true,
      })
      await audit(tx, { action: 'referral.status', entityType: 'referral', entityId: id, details: { from: row.status, to: work.to, ...reasonCode } })
      return { outcome: 'done' }
    }
    case 'cancel': {
      // The same checks as a status move to cancelled, then the one definer that may make it for a
      // referrer (drizzle/0033_sender_cancels.sql), which checks them again against the row it locks.
      if (row.version !== work.version) return { outcome: 'conflict' }
      if (!canMove(row.status, 'cancelled')) return { outcome: 'bad-move' }
      const reason = work.reason?.trim()
      if (!reason) return { outcome: 'needs-reason' }
      if (work.reasonCode !== undefined && !isReasonCodeFor('cancelled', work.reasonCode)) return { outcome: 'bad-reason-code' }
      const eventId = crypto.randomUUID()
      const sealed = await cipher.encrypt(reason, { clinicId, recordId: eventId, field: 'body' })
      const result = await tx.execute<{ outcome: WorkOutcome }>(
        sql`select cancel_own_referral(${id}::uuid, ${work.version}::integer, ${eventId}::uuid, ${JSON.stringify(sealed)}::jsonb, ${work.reasonCode ?? null}::text) as outcome`,
      )
      const outcome = result.rows[0]!.outcome
      if (outcome !== 'done') return { outcome }
      const reasonCode = work.reasonCode !== undefined ? { reasonCode: work.reasonCode } : {}
      await audit(tx, { action: 'referral.status', entityType: 'referral', entityId: id, details: { from: row.status, to: 'cancelled', ...reasonCode } })
      return { outcome: 'done', eventId }
    }
    case 'assign': {
      const to = work.assignee
      if (to) {
        const [member] = await tx
          .select({ role: users.role })
          .from(users)
          .where(and(eq(users.id, to), eq(users.clinicId, clinicId), eq(users.status, 'active')))
        if (!member || member.role === 'referrer') return { outcome: 'bad-assignee' }
      }
      const changed = await bump({ assignedTo: to }, work.version)
      if (!changed.length) return { outcome: 'conflict' }
      await event('assignment', { data: { from: row.assignedTo, to } })
      await audit(tx, { action: 'referral.assign', entityType: 'referral', entityId: id, details: { from: row.assignedTo, to } })
      return { outcome: 'done' }
    }
    default: {
      // An EHR system's referral has no referrer here to ask or to wait on (decision 061): the
      // clinic asks the sender outside IntakePilot and notes it.
      if (work.intent === 'message' && row.submittedByIntegration) return { outcome: 'no-referrer' }
      const eventId = crypto.randomUUID()
      const body = await cipher.encrypt(work.body, { clinicId, recordId: eventId, field: 'body' })
      await event(work.intent, { id: eventId, body, visibleToReferrer: work.intent !== 'note' })
      if (work.intent === 'message' && canMove(row.status, 'info_requested')) {
        await bump({ status: 'info_requested', ...timestampsFor(row.status, 'info_requested', new Date(), row) }, row.version)
        await event('status', { data: { from: row.status, to: 'info_requested' }, visibleToReferrer: true })
      }
      await audit(tx, {
        action: WORK_ACTION[work.intent],
        entityType: 'referral',
        entityId: id,
        details: { event: work.intent },
      })
      return { outcome: 'done', eventId }
    }
  }
}

/**
 * The booking as the history and the referrer read it. The time is the clinic's wall clock
 * (what staff typed), so it is written as typed; the API may still book a day without a time.
 */
const appointmentLine = (day: string, time?: string) => `Appointment on ${day}${time ? ` at ${time}` : ''}`

/** How each kind of work is recorded in the audit trail (refused or done). */
export const WORK_ACTION = {
  status: 'referral.status',
  assign: 'referral.assign',
  cancel: 'referral.status',
  note: 'referral.note',
  message: 'referral.update',
  reply: 'referral.update',
} as const satisfies Record<Work['intent'], AuditAction>

/** The permission each kind of work needs (the page checks the same). */
export const WORK_PERMISSION = {
  status: 'update:referral:any',
  assign: 'assign:referral:any',
  cancel: 'cancel:referral:own',
  note: 'note:referral:any',
  message: 'update:referral:any',
  reply: 'reply:referral:own',
} as const

/** A referrer's reply inside the caller's transaction (one that also attaches documents to it). */
export function replyInTransaction(context: AppLoadContext, user: SessionUser, clinicId: string) {
  return async (tx: TenantTx, referralId: string, body: string) => {
    const { outcome } = await performWork(tx, { clinicId, userId: user.id, cipher: context.phi, audit: context.audit }, referralId, { intent: 'reply', body })
    return outcome === 'done' ? ('done' as const) : ('not-found' as const)
  }
}
