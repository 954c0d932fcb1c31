/**
 * The queue page's posts that name their form (`intent`): work on the selection or one row
 * (queue-work.server.ts), and saving or removing a saved view (saved-views.server.ts). Each
 * answers with what the page shows: field errors at their field, a report per referral, or a
 * line saying what happened to the view. Bad input is a 400 that changes nothing.
 */
import type { AppLoadContext } from '@remix-run/cloudflare'
import { data } from '@remix-run/cloudflare'
import { requirePermission } from '~/auth/guards.server'
import type { SessionUser } from '~/auth/identity.server'
import { parseForm } from '~/utils/form.server'
import type { QueueView } from './queue'
import { QueueWorkSchema, WHY_NOT, workOnSelection, type QueueWork } from './queue-work.server'
import type { QueueWorkErrors, QueueWorkReport } from './queue-work'
import { deleteView, SavedViewSchema, saveView } from './saved-views.server'
import { STATUS_LABELS } from './referral-badges'
import { NEEDS_REASON } from './workflow'
import { isReasonCodeFor } from './reason-codes'

type WorkAnswer = { report?: QueueWorkReport; errors?: QueueWorkErrors; viewErrors?: string[]; viewMessage?: string }

const answer = (work: WorkAnswer, status = 200) => data({ work }, { status })

export async function queueAction(context: AppLoadContext, user: SessionUser, clinicId: string, formData: FormData, view: QueueView) {
  // The queue's own people only (a referrer has no queue, so no views of it either).
  requirePermission(user, 'read:referral:any')
  const intent = formData.get('intent')
  if (intent === 'save-view' || intent === 'delete-view') return savedViewAction(context, user, clinicId, formData, view)
  const submission = parseForm(formData, QueueWorkSchema)
  if (submission.status !== 'success') {
    const errors = submission.error ?? {}
    const first = (key: string) => Object.entries(errors).find(([name]) => name === key || name.startsWith(`${key}[`))?.[1] ?? undefined
    return answer(
      {
        errors: {
          selected: first('selected') ?? first('referral') ?? undefined,
          assignee: first('assignee') ?? undefined,
          to: first('to') ?? undefined,
          reason: first('reason') ?? undefined,
          reasonCode: first('reasonCode') ?? undefined,
          form: errors[''] ?? (intent === 'bulk-assign' || intent === 'bulk-status' || intent === 'assign-me' ? undefined : ['Reload the page and try again.']),
        },
      },
      400,
    )
  }
  const work = submission.value
  if (work.intent === 'bulk-status' && NEEDS_REASON.includes(work.to) && (!work.reason || !isReasonCodeFor(work.to, work.reasonCode)))
    return answer(
      {
        errors: {
          reason: work.reason ? undefined : ['Give a reason: the referrers will see it'],
          reasonCode: isReasonCodeFor(work.to, work.reasonCode)
            ? undefined
            : [`Choose a kind of reason for ${work.to === 'declined' ? 'declining' : 'cancelling'}`],
        },
      },
      400,
    )
  const results = await workOnSelection(context, user, clinicId, work)
  const report: QueueWorkReport = {
    done: describe(work),
    results: results.map((r) => ({
      id: r.id,
      referenceNumber: r.referenceNumber,
      ok: r.outcome === 'done',
      why: r.outcome === 'done' ? null : WHY_NOT[r.outcome],
    })),
  }
  return answer({ report })
}

function describe(work: QueueWork) {
  if (work.intent === 'assign-me') return 'Assigned to you'
  if (work.intent === 'bulk-status') return `Status changed to ${STATUS_LABELS[work.to]}`
  return work.assignee ? 'Assigned' : 'Unassigned'
}

async function savedViewAction(context: AppLoadContext, user: SessionUser, clinicId: string, formData: FormData, view: QueueView) {
  const submission = parseForm(formData, SavedViewSchema)
  if (submission.status !== 'success') {
    const errors = submission.error ?? {}
    return answer({ viewErrors: errors.name ?? errors.view ?? errors[''] ?? ['Check the form and try again.'] }, 400)
  }
  const request = submission.value
  const outcome = await context.db.tenant((tx) =>
    request.intent === 'save-view' ? saveView(tx, { clinicId, userId: user.id }, request.name, view) : deleteView(tx, request.view),
  )
  switch (outcome) {
    case 'saved':
      return answer({ viewMessage: `Saved the view “${request.intent === 'save-view' ? request.name : ''}”.` })
    case 'deleted':
      return answer({ viewMessage: 'Removed the saved view.' })
    case 'duplicate':
      return answer({ viewErrors: ['You already have a view with that name: choose another'] }, 400)
    case 'full':
      return answer({ viewErrors: ['You have 20 saved views: remove one first'] }, 400)
    default:
      return answer({ viewErrors: ['That saved view is not there any more'] }, 404)
  }
}
