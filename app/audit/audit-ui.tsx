/** Small pieces shared by the audit viewer and a referral's access history. */
import { Link } from '@remix-run/react'
import { buttonClass } from '~/components/ui/button'
import { actionLabel } from './actions'
import { anonymousActor } from './audit-formats'

/** Times are shown in UTC, as recorded, so two people reading the trail see the same time. */
export const utcTime = (iso: string) => iso.slice(0, 19).replace('T', ' ')

const OUTCOME_STYLES: Record<string, string> = {
  success: 'bg-emerald-50 text-emerald-800 ring-emerald-200',
  denied: 'bg-amber-50 text-amber-900 ring-amber-200',
  error: 'bg-red-50 text-red-800 ring-red-200',
}

export function OutcomeBadge({ outcome }: { outcome: string }) {
  return (
    <span className={`inline-flex rounded-full px-2 py-0.5 text-xs font-medium ring-1 ring-inset ${OUTCOME_STYLES[outcome] ?? OUTCOME_STYLES.error}`}>
      {outcome}
    </span>
  )
}

/** Who: a name when they are one of the clinic's users, else the id (scheduled jobs have none). */
export function Actor({ id, name, role }: { id: string | null; name: string | null; role: string | null }) {
  return (
    <>
      <div className="font-medium text-slate-900">{id ? (name ?? <span className="font-mono text-xs">{id}</span>) : anonymousActor(role)}</div>
      {role ? <div className="text-xs text-slate-500">{role}</div> : null}
    </>
  )
}

export function ActionName({ action }: { action: string }) {
  return (
    <>
      <div className="font-mono text-xs text-slate-900">{action}</div>
      <div className="text-xs text-slate-500">{actionLabel(action)}</div>
    </>
  )
}

export function Pager({ first, older, olderLabel }: { first: string | null; older: string | null; olderLabel: string }) {
  if (!first && !older) return null
  return (
    <nav className="mt-4 flex justify-between text-sm" aria-label="Pages">
      {first ? (
        <Link to={first} className="text-brand-700 underline">
          Newest
        </Link>
      ) : (
        <span />
      )}
      {older ? (
        <Link to={older} className={buttonClass()}>
          {olderLabel}
        </Link>
      ) : null}
    </nav>
  )
}
