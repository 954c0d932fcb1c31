/** Small pieces shared by the audit viewer and a referral's access history. */
import { Link } from '@remix-run/react'
import type { ReactNode } from 'react'
import { buttonClass } from '~/components/ui/button'
import { useClinicTime } from '~/utils/use-clinic-time'
import { actionLabel } from './actions'
import { anonymousActor } from './audit-formats'

/**
 * When, in the clinic's time zone with the zone named on every time (EST or EDT): the trail
 * records UTC, and the machine-readable instant stays in the element.
 */
export function When({ iso }: { iso: string }) {
  const time = useClinicTime()
  return <time dateTime={iso}>{time(iso, { seconds: true })}</time>
}

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

const LIST_KINDS = { list: 'list', search: 'patient search', api: 'API list' } as const

/**
 * A run of one person's list views as one entry: how many views and referrals shown, opening
 * (without JavaScript: a disclosure) to each view's time, count and request reference.
 */
export function ListViews({
  rows,
  children,
}: {
  rows: { id: number; occurredAt: string; requestId: string | null; listed: number | null; list: keyof typeof LIST_KINDS | null }[]
  children?: ReactNode
}) {
  const shown = rows.reduce((n, r) => n + (r.listed ?? 0), 0)
  const kind = LIST_KINDS[rows[0]?.list ?? 'list']
  return (
    <details data-testid="list-views" className="mt-1 text-xs">
      <summary className="cursor-pointer text-brand-700">
        {rows.length} {kind} views, {shown} {shown === 1 ? 'referral' : 'referrals'} shown
      </summary>
      {children}
      <ol className="mt-1 space-y-0.5 text-slate-700">
        {rows.map((r) => (
          <li key={r.id} data-testid="list-view">
            <When iso={r.occurredAt} /> · {r.listed ?? 0} shown · <span className="font-mono">{r.requestId}</span>
          </li>
        ))}
      </ol>
    </details>
  )
}

/**
 * The row's entity by the name people use (a reference number, a person's or the clinic's
 * name, resolved under RLS when the page is read); the id when there is no such name to show.
 */
export function EntityName({ type, id, label, href }: { type: string | null; id: string | null; label: string | null; href?: string }) {
  const name = label ?? id ?? ''
  const mono = label === null || type === 'referral'
  return (
    <>
      {type ? <div className="text-slate-500">{type}</div> : null}
      {href ? (
        <Link to={href} className={`break-all text-brand-700 hover:underline ${mono ? 'font-mono' : ''}`} title={id ?? undefined}>
          {name}
        </Link>
      ) : (
        <span className={`break-all ${mono ? 'font-mono' : ''}`} title={label && id ? id : undefined}>
          {name}
        </span>
      )}
    </>
  )
}
