import type { LoaderFunctionArgs, MetaFunction } from '@remix-run/cloudflare'
import { useLoaderData } from '@remix-run/react'
import { requireClinic, requireUser } from '~/auth/guards.server'
import { GeneralErrorBoundary } from '~/components/error-boundary'
import { STATUS_LABELS } from '~/referrals/referral-badges'
import { referralCounts } from '~/referrals/status-counts.server'

export const meta: MetaFunction = () => [{ title: 'Home · IntakePilot' }]

/** The clinic at a glance: counts by status (no patient information, so nothing to audit). */
export async function loader({ request, context }: LoaderFunctionArgs) {
  const user = requireUser(request, context)
  requireClinic(user)
  const { byStatus, urgentUntriaged } = await referralCounts(context)
  return {
    role: user.role,
    displayName: user.displayName,
    counts: byStatus.map(({ status, total }) => ({ status, label: STATUS_LABELS[status], total })),
    urgentUntriaged,
  }
}

export default function Home() {
  const { role, displayName, counts, urgentUntriaged } = useLoaderData<typeof loader>()
  return (
    <main className="mx-auto max-w-7xl px-4 py-8 sm:px-6">
      <h1 className="text-2xl font-semibold tracking-tight">Hello, {displayName}</h1>
      <p className="mt-1 text-slate-600">{role === 'referrer' ? 'Your referrals to this clinic, by status.' : 'Referrals in this clinic, by status.'}</p>
      {role !== 'referrer' && urgentUntriaged > 0 ? (
        <p className="mt-4 rounded-md border border-amber-300 bg-amber-50 px-3 py-2 text-sm text-amber-900" role="status">
          {urgentUntriaged} urgent or emergent referral{urgentUntriaged === 1 ? '' : 's'} not yet triaged.
        </p>
      ) : null}
      <dl className="mt-6 grid grid-cols-2 gap-3 sm:grid-cols-4 lg:grid-cols-7">
        {counts.map((c) => (
          <div key={c.status} className="rounded-lg border border-slate-200 bg-white p-4">
            <dt className="text-sm text-slate-500">{c.label}</dt>
            <dd className="mt-1 text-2xl font-semibold tabular-nums">{c.total}</dd>
          </div>
        ))}
      </dl>
    </main>
  )
}

export function ErrorBoundary() {
  return <GeneralErrorBoundary />
}
