import type { LoaderFunctionArgs, MetaFunction } from '@remix-run/cloudflare'
import { Link, useLoaderData } from '@remix-run/react'
import { requireClinic, requireUser } from '~/auth/guards.server'
import { GeneralErrorBoundary } from '~/components/error-boundary'
import { STATUS_LABELS } from '~/referrals/referral-badges'
import { queueUrl } from '~/referrals/queue-url'
import { referralCounts } from '~/referrals/status-counts.server'

export const meta: MetaFunction = () => [{ title: 'Home · IntakePilot' }]

/**
 * The clinic at a glance: counts by status (no patient information, so nothing to audit). For
 * staff, each count opens the queue filtered to what it counted.
 */
export async function loader({ request, context }: LoaderFunctionArgs) {
  const user = requireUser(request, context)
  requireClinic(user)
  const { byStatus, untriaged } = await referralCounts(context)
  const staff = user.role !== 'referrer'
  return {
    role: user.role,
    displayName: user.displayName,
    counts: byStatus.map(({ status, total }) => ({ status, label: STATUS_LABELS[status], total, href: staff ? queueUrl({ status }) : null })),
    untriaged: staff ? untriaged : null,
  }
}

export default function Home() {
  const { role, displayName, counts, untriaged } = useLoaderData<typeof loader>()
  return (
    <main className="mx-auto max-w-7xl px-4 py-8 sm:px-6">
      <h1 className="text-2xl font-semibold tracking-tight">Hello, {displayName}</h1>
      <p className="mt-1 text-slate-600">{role === 'referrer' ? 'Your referrals to this clinic, by status.' : 'Referrals in this clinic, by status.'}</p>
      {untriaged && untriaged.emergent + untriaged.urgent > 0 ? <UntriagedBanner {...untriaged} /> : null}
      <dl className="mt-6 grid grid-cols-2 gap-3 sm:grid-cols-4 lg:grid-cols-7">
        {counts.map((c) => (
          <div
            key={c.status}
            className="relative rounded-lg border border-slate-200 bg-white p-4 focus-within:ring-2 focus-within:ring-brand-700 hover:border-slate-400"
          >
            <dt className="text-sm text-slate-600">
              {c.href ? (
                // The whole card is the link's target area; its name is the status and count.
                <Link to={c.href} className="after:absolute after:inset-0 focus:outline-none" aria-label={`${c.label}: ${c.total}, open in the queue`}>
                  {c.label}
                </Link>
              ) : (
                c.label
              )}
            </dt>
            <dd className="mt-1 text-2xl font-semibold tabular-nums">{c.total}</dd>
          </div>
        ))}
      </dl>
      {role !== 'referrer' ? (
        <p className="mt-6 text-sm">
          <Link to="/turnaround" className="font-medium text-sky-800 underline">
            Turnaround: time to triage and booking, waiting times, volume
          </Link>
        </p>
      ) : null}
    </main>
  )
}

/** Not yet triaged and urgent or emergent: each count opens the queue filtered to exactly those. */
function UntriagedBanner({ emergent, urgent }: { emergent: number; urgent: number }) {
  const total = emergent + urgent
  const link = (priority: 'emergent' | 'urgent', n: number) => (
    <Link to={queueUrl({ status: 'received', priority, sort: 'age' })} className="font-medium underline">
      {n} {priority}
    </Link>
  )
  return (
    <div className="mt-4 rounded-md border border-amber-300 bg-amber-50 px-3 py-2 text-sm text-amber-900" role="status" data-testid="untriaged-banner">
      <p>
        <Link to={queueUrl({ status: 'received', sort: 'priority' })} className="font-semibold underline">
          {total} urgent or emergent referral{total === 1 ? '' : 's'} not yet triaged
        </Link>
        {emergent && urgent ? (
          <>
            : {link('emergent', emergent)}, {link('urgent', urgent)}.
          </>
        ) : (
          '.'
        )}
      </p>
    </div>
  )
}

export function ErrorBoundary() {
  return <GeneralErrorBoundary />
}
