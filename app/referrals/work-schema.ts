/**
 * The referral page's work forms (status, assignment, the sender's cancel, note, question, reply): one schema,
 * told apart by `intent`. The page action parses it through the form guard
 * (app/utils/form.server.ts); the forms (work-forms.tsx) show its errors next to each field.
 */
import { z } from 'zod'
import { referralStatuses } from '~/db/enums'
import { calendarDay, clockTime, formInteger, NEAR_DAY } from '~/utils/form-values'
import { isReasonCodeFor, ReasonCodeField } from './reason-codes'
import { NEEDS_DATE, NEEDS_REASON } from './workflow'

const Text = z.string({ error: 'Write something first' }).trim().min(1, 'Write something first').max(4000, 'Keep it under 4,000 characters')
const Version = formInteger(1, 'Reload the page: this form is out of date')

export const REASON_MISSING = 'Give a reason: the referrer will see it.'
export const REASON_CODE_MISSING = 'Choose the kind of reason.'
export const CANCEL_REASON_MISSING = 'Give a reason: the clinic will see it.'

export const WorkSchema = z.discriminatedUnion('intent', [
  z
    .object({
      intent: z.literal('status'),
      to: z.enum(referralStatuses, { error: 'Choose a status' }),
      version: Version,
      reason: z.string().trim().max(2000, 'Keep the reason under 2,000 characters').optional(),
      reasonCode: ReasonCodeField,
      scheduledFor: calendarDay('Appointment date', NEAR_DAY).optional(),
      scheduledTime: clockTime('Appointment time').optional(),
    })
    // What a move needs is said at its field, on the page's own small form for that move.
    .superRefine((move, ctx) => {
      const missing = (path: string, message: string) => ctx.addIssue({ code: 'custom', path: [path], message })
      if (NEEDS_REASON.includes(move.to) && !isReasonCodeFor(move.to, move.reasonCode)) missing('reasonCode', REASON_CODE_MISSING)
      if (NEEDS_REASON.includes(move.to) && !move.reason) missing('reason', REASON_MISSING)
      if (NEEDS_DATE.includes(move.to) && !move.scheduledFor) missing('scheduledFor', 'Give the appointment date.')
      if (NEEDS_DATE.includes(move.to) && !move.scheduledTime) missing('scheduledTime', 'Give the appointment time.')
    }),
  z.object({ intent: z.literal('assign'), assignee: z.uuid({ error: 'Choose an active member of the clinic staff' }).optional(), version: Version }),
  // The sender's own cancel (docs/decisions/060-sender-cancels.md): only the reason is theirs to give.
  z.object({
    intent: z.literal('cancel'),
    version: Version,
    reason: z.string({ error: CANCEL_REASON_MISSING }).trim().min(1, CANCEL_REASON_MISSING).max(2000, 'Keep the reason under 2,000 characters'),
  }),
  z.object({ intent: z.literal('note'), body: Text }),
  z.object({ intent: z.literal('message'), body: Text }),
  z.object({ intent: z.literal('reply'), body: Text }),
])

/** Every field of the six forms, as the browser holds them (for conform's useForm). */
export type WorkFields = {
  intent: string
  to?: string
  version?: string
  reason?: string
  reasonCode?: string
  scheduledFor?: string
  scheduledTime?: string
  assignee?: string
  body?: string
}

export const WORK_INTENTS = ['status', 'assign', 'cancel', 'note', 'message', 'reply'] as const
export type WorkIntent = (typeof WORK_INTENTS)[number]
export const isWorkIntent = (value: unknown): value is WorkIntent => WORK_INTENTS.includes(value as WorkIntent)
