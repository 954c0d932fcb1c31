import type { IntakeChannel, ReferralPriority, ReferralStatus } from '~/db/schema'

export const STATUS_LABELS: Record<ReferralStatus, string> = {
  received: 'New',
  in_review: 'In review',
  info_requested: 'Waiting on referrer',
  accepted: 'Accepted',
  scheduled: 'Scheduled',
  declined: 'Declined',
  closed: 'Completed',
  cancelled: 'Cancelled',
  forwarded: 'Forwarded',
}

/** How a referral entered by staff reached the clinic. */
export const CHANNEL_LABELS: Record<IntakeChannel, string> = { fax: 'Fax', phone: 'Phone call', email: 'Email', walk_in: 'Walk-in' }

const STATUS_STYLES: Record<ReferralStatus, string> = {
  received: 'bg-sky-50 text-sky-800 ring-sky-200',
  in_review: 'bg-indigo-50 text-indigo-800 ring-indigo-200',
  info_requested: 'bg-amber-50 text-amber-900 ring-amber-200',
  accepted: 'bg-emerald-50 text-emerald-800 ring-emerald-200',
  scheduled: 'bg-teal-50 text-teal-800 ring-teal-200',
  declined: 'bg-slate-100 text-slate-700 ring-slate-200',
  closed: 'bg-slate-100 text-slate-600 ring-slate-200',
  cancelled: 'bg-slate-100 text-slate-600 ring-slate-200',
  forwarded: 'bg-slate-100 text-slate-600 ring-slate-200',
}

const PRIORITY_STYLES: Record<ReferralPriority, string> = {
  emergent: 'bg-red-600 text-white ring-red-600',
  urgent: 'bg-orange-100 text-orange-900 ring-orange-300',
  routine: 'bg-white text-slate-600 ring-slate-200',
}

const badge = 'inline-flex items-center rounded-full px-2 py-0.5 text-xs font-medium ring-1 ring-inset whitespace-nowrap'

export function StatusBadge({ status }: { status: ReferralStatus }) {
  return <span className={`${badge} ${STATUS_STYLES[status]}`}>{STATUS_LABELS[status]}</span>
}

export function PriorityBadge({ priority }: { priority: ReferralPriority }) {
  return <span className={`${badge} ${PRIORITY_STYLES[priority]}`}>{priority[0]!.toUpperCase() + priority.slice(1)}</span>
}

export function DuplicateBadge() {
  return <span className={`${badge} bg-fuchsia-50 text-fuchsia-800 ring-fuchsia-200`}>Possible duplicate</span>
}

/** Entered by staff from a fax, a call, an email or a walk-in (the channel is in its accessible name and on hover). */
export function EnteredBadge({ channel }: { channel: IntakeChannel }) {
  return (
    <span
      className={`${badge} bg-violet-50 text-violet-800 ring-violet-200`}
      title={`Entered by staff: ${CHANNEL_LABELS[channel].toLowerCase()}`}
      data-testid="entered-by-staff"
    >
      Entered by staff<span className="sr-only"> ({CHANNEL_LABELS[channel].toLowerCase()})</span>
    </span>
  )
}
