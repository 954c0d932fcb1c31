import type { LoaderFunctionArgs, MetaFunction } from '@remix-run/cloudflare'
import { data } from '@remix-run/cloudflare'
import { Link, useLoaderData } from '@remix-run/react'
import { requireClinic, requirePhiPermission, requireUser } from '~/auth/guards.server'
import { GeneralErrorBoundary } from '~/components/error-boundary'
import { buttonClass } from '~/components/ui/button'
import { StatusBadge } from '~/referrals/referral-badges'
import { myReferralsPage, readMyReferralsCursor } from '~/referrals/my-referrals.server'
import { showReferralList } from '~/referrals/referral-list.server'
import { ClinicDate } from '~/utils/use-clinic-time'

export const meta: MetaFunction = () => [{ title: 'My referrals · IntakePilot' }]
export const handle = { phi: true }

/** A referrer's own referrals (RLS shows nothing else), newest first, with the clinic's questions. */
export async function loader({ request, context }: LoaderFunctionArgs) {
  const user = requireUser(request, context)
  await requirePhiPermission(context, user, 'read:referral:own', { action: 'referral.list' })
  requireClinic(user)
  const url = new URL(request.url)
  // A hand-edited link shows the newest page, says so, and answers 400.
  const { key: before, bad: badLink } = readMyReferralsCursor(url.searchParams.get('before'))
  const page = await context.db.tenant(async (tx) => {
    const { rows, next } = await myReferralsPage(tx, user.id, before)
    const items = await showReferralList(tx, context, { rows, shows: 'name' }, (r, patient) => ({
      id: r.id,
      referenceNumber: r.referenceNumber,
      patient: `${patient.firstName ?? ''} ${patient.lastName ?? ''}`.trim(),
      status: r.status,
      receivedAt: r.receivedAt.toISOString(),
      updatedAt: r.updatedAt.toISOString(),
      question: r.question,
      forwardedTo: r.forwardedToName ? { name: r.forwardedToName, referenceNumber: r.forwardedToReference } : null,
    }))
    return {
      items,
      next,
      submitted:
        url.searchParams
          .get('submitted')
          ?.replace(/[^A-Z0-9-]/g, '')
          .slice(0, 20) ?? null,
    }
  })
  return data({ ...page, badLink }, { status: badLink ? 400 : 200 })
}

export default function MyReferrals() {
  const { items, next, submitted, badLink } = useLoaderData<typeof loader>()
  return (
    <main className="mx-auto max-w-5xl px-4 py-8 sm:px-6">
      <div className="flex flex-wrap items-end justify-between gap-4">
        <div>
          <h1 className="text-2xl font-semibold tracking-tight">My referrals</h1>
          <p className="mt-1 text-slate-600">Referrals you have sent to this clinic, their status, and the clinic&apos;s questions.</p>
        </div>
        <Link to="/referrals/new" className={buttonClass({ variant: 'primary', size: 'lg', className: 'shadow-sm' })}>
          New referral
        </Link>
      </div>
      {badLink ? (
        <p role="alert" className="mt-6 rounded-md border border-amber-300 bg-amber-50 px-3 py-2 text-sm text-amber-900">
          That page link was not one this list made: showing your newest referrals.
        </p>
      ) : null}
      {submitted ? (
        <div role="status" className="mt-6 rounded-lg border border-emerald-300 bg-emerald-50 p-4 text-emerald-900">
          <p className="font-semibold">Referral sent.</p>
          <p className="mt-1">
            Your reference number is{' '}
            <span className="font-mono text-lg font-semibold" data-testid="reference-number">
              {submitted}
            </span>
            . Quote it if you call the clinic.
          </p>
        </div>
      ) : null}
      <ul className="mt-6 divide-y divide-slate-100 overflow-hidden rounded-lg border border-slate-200 bg-white">
        {items.map((item) => (
          <li key={item.id} className="flex flex-wrap items-center gap-x-4 gap-y-1 px-4 py-3">
            <Link to={`/referrals/${item.id}`} className="min-w-48 grow font-medium text-brand-800 hover:underline">
              {item.patient || 'Referral'}
            </Link>
            <span className="font-mono text-xs text-slate-600">{item.referenceNumber}</span>
            <StatusBadge status={item.status} />
            {item.forwardedTo ? (
              <span className="text-xs text-slate-700" data-testid="forwarded-to">
                to {item.forwardedTo.name} (their reference <span className="font-mono">{item.forwardedTo.referenceNumber}</span>)
              </span>
            ) : null}
            {item.question ? (
              <Link to={`/referrals/${item.id}`} className="rounded-full bg-amber-100 px-2 py-0.5 text-xs font-medium text-amber-900">
                The clinic asked a question
              </Link>
            ) : null}
            <span className="text-xs text-slate-500">
              sent <ClinicDate iso={item.receivedAt} /> · updated <ClinicDate iso={item.updatedAt} />
            </span>
          </li>
        ))}
        {items.length === 0 ? <li className="px-4 py-10 text-center text-slate-500">You have not sent any referrals yet.</li> : null}
      </ul>
      {next ? (
        <p className="mt-4 text-right">
          <Link to={`/my-referrals?before=${encodeURIComponent(next)}`} className={buttonClass()}>
            Older referrals
          </Link>
        </p>
      ) : null}
    </main>
  )
}

export function ErrorBoundary() {
  return <GeneralErrorBoundary />
}
