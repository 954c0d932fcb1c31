/**
 * Working several referrals from the queue at once: assign the selection, move its status, or
 * take one with "Assign to me". Each referral goes through performWork, the referral page's own
 * rules (work.server.ts): found under RLS (else a recorded 404), its version as the queue showed
 * it (else a conflict), the workflow's moves, an event and an audit row of its own. One referral
 * that cannot be changed does not stop the others: each gets its own outcome, and the page says
 * which were changed and why the rest were not.
 */
import type { AppLoadContext } from '@remix-run/cloudflare'
import { inArray } from 'drizzle-orm'
import { z } from 'zod'
import { requirePhiPermission } from '~/auth/guards.server'
import type { SessionUser } from '~/auth/identity.server'
import { referrals } from '~/db/schema'
import { referralStatuses } from '~/db/enums'
import { isUuid } from '~/utils/keyset'
import { PAGE_SIZE } from './queue.server'
import { performWork, WORK_PERMISSION, type Work, type WorkOutcome } from './work.server'
import { ReasonCodeField } from './reason-codes'
import { NEEDS_DATE, NEEDS_REASON } from './workflow'

/** A referral as the queue showed it: its id and the version its row was read at, `id:version`. */
const Shown = z
  .string()
  .max(60)
  .transform((value, ctx) => {
    const [id, version] = value.split(':')
    if (!isUuid(id) || !/^[1-9]\d{0,9}$/.test(version ?? '')) {
      ctx.addIssue({ code: 'custom', message: 'Reload the page: the selection is out of date' })
      return z.NEVER
    }
    return { id, version: Number(version) }
  })

/** Checkboxes not ticked are not sent: the list has holes where they were. */
const Selection = z.preprocess(
  (value) => (Array.isArray(value) ? value.filter((v) => v !== undefined && v !== '') : value),
  z.array(Shown, { error: 'Select at least one referral' }).min(1, 'Select at least one referral').max(PAGE_SIZE),
)

/** A booking needs its own appointment date and time: one referral at a time, on its page. */
export const BULK_STATUSES = referralStatuses.filter((s) => !NEEDS_DATE.includes(s))

export const QueueWorkSchema = z.discriminatedUnion('intent', [
  z.object({
    intent: z.literal('bulk-assign'),
    selected: Selection,
    // Empty: unassign the selection.
    assignee: z.preprocess((v) => (v === '' ? undefined : v), z.uuid({ error: 'Choose who to assign them to' }).optional()),
  }),
  z.object({
    intent: z.literal('bulk-status'),
    selected: Selection,
    to: z.enum(BULK_STATUSES, { error: 'Choose a status' }),
    reason: z.string().trim().max(2000, 'Keep the reason under 2,000 characters').optional(),
    reasonCode: ReasonCodeField,
  }),
  z.object({ intent: z.literal('assign-me'), referral: Shown }),
])
export type QueueWork = z.infer<typeof QueueWorkSchema>

export type BulkResult = { id: string; referenceNumber: string | null; outcome: WorkOutcome }

/** What the page says of each outcome that is not 'done'. */
export const WHY_NOT: Record<Exclude<WorkOutcome, 'done'>, string> = {
  'not-found': 'not found (it may have been removed, or it is not this clinic’s)',
  conflict: 'changed by someone else since the queue was shown; nothing was done to it',
  'bad-move': 'that status change is not allowed from its current status',
  'bad-assignee': 'that person cannot be assigned referrals',
  'needs-reason': 'give a reason: the referrer will see it',
  'bad-reason-code': 'that kind of reason is not one for this move',
  'needs-date': 'a booking needs its appointment: book it from the referral page',
  'no-referrer': 'sent by an EHR system: there is no referrer here to ask',
}

/**
 * Does the work on each selected referral, in one transaction, in the order selected. The
 * permission is the user's (a refusal is recorded and throws 403); everything else is per
 * referral. Returns one result per referral, with its reference number when it could be read.
 */
export async function workOnSelection(context: AppLoadContext, user: SessionUser, clinicId: string, work: QueueWork): Promise<BulkResult[]> {
  const kind = work.intent === 'bulk-status' ? 'status' : 'assign'
  const selected = work.intent === 'assign-me' ? [work.referral] : work.selected
  await requirePhiPermission(context, user, WORK_PERMISSION[kind], { action: `referral.${kind}`, details: { bulk: selected.length } })
  // The same referral ticked twice (two tabs' worth of one form) is worked once.
  const unique = [...new Map(selected.map((s) => [s.id, s])).values()]
  const deps = { clinicId, userId: user.id, cipher: context.phi, audit: context.audit }
  return context.db.tenant(async (tx) => {
    const results: BulkResult[] = []
    for (const { id, version } of unique) {
      const each: Work =
        work.intent === 'bulk-status'
          ? {
              intent: 'status',
              to: work.to,
              version,
              reason: work.reason || undefined,
              reasonCode: NEEDS_REASON.includes(work.to) ? work.reasonCode || undefined : undefined,
            }
          : { intent: 'assign', assignee: work.intent === 'assign-me' ? user.id : (work.assignee ?? null), version }
      const { outcome } = await performWork(tx, deps, id, each)
      results.push({ id, referenceNumber: null, outcome })
    }
    // Reference numbers for the report (RLS: only the clinic's own referrals are found).
    const found = await tx
      .select({ id: referrals.id, referenceNumber: referrals.referenceNumber })
      .from(referrals)
      .where(
        inArray(
          referrals.id,
          unique.map((s) => s.id),
        ),
      )
    const numbers = new Map(found.map((f) => [f.id, f.referenceNumber]))
    return results.map((r) => ({ ...r, referenceNumber: numbers.get(r.id) ?? null }))
  })
}
