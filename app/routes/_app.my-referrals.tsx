import type { LoaderFunctionArgs, MetaFunction } from '@remix-run/cloudflare'
import { data } from '@remix-run/cloudflare'
import { Link, useLoaderData } from '@remix-run/react'
import { and, desc, eq, inArray, sql } from 'drizzle-orm'
import { requireClinic, requirePhiPermission, requireUser } from '~/auth/guards.server'
import { StatusBadge } from '~/components/referral-badges'
import { GeneralErrorBoundary } from '~/components/error-boundary'
import { buttonClass } from '~/components/ui/button'
import { phiCipherFromEnv } from '~/crypto/phi.server'
import { referralEvents, referrals } from '~/db/schema'
import { openFields } from '~/referrals/form-data.server'
import { isPgTimestamp, isUuid } from '~/utils/keyset'

export const meta: MetaFunction = () => [{ title: 'My referrals · IntakePilot' }]
export const handle = { phi: true }

const PAGE = 25

/** A referrer's own referrals (RLS shows nothing else), newest first, with the clinic's questions. */
export async function loader({ request, context }: LoaderFunctionArgs) {
  const user = requireUser(request, context)
  await requirePhiPermission(context, user, 'read:referral:own', { action: 'referral.list' })
  requireClinic(user)
  const url = new URL(request.url)
  const before = url.searchParams.get('before')
  const [beforeTime, beforeId, ...rest] = (before ?? '').split(',')
  // A hand-edited link shows the newest page, says so, and answers 400.
  const beforeKey = isPgTimestamp(beforeTime) && isUuid(beforeId) && !rest.length ? [beforeTime, beforeId] : null
  const badLink = before !== null && !beforeKey
  const cipher = phiCipherFromEnv(context.env)
  const page = await context.db.tenant(async (tx) => {
    const rows = await tx
      .select({
        id: referrals.id,
        clinicId: referrals.clinicId,
        referenceNumber: referrals.referenceNumber,
        status: referrals.status,
        receivedAt: referrals.receivedAt,
        updatedAt: referrals.updatedAt,
        formData: referrals.formData,
        key: sql<string>`${referrals.receivedAt}::text`,
      })
      .from(referrals)
      .where(
        and(
          eq(referrals.submittedBy, user.id),
          beforeKey ? sql`(${referrals.receivedAt}, ${referrals.id}) < (${beforeKey[0]}::timestamptz, ${beforeKey[1]}::uuid)` : undefined,
        ),
      )
      .orderBy(desc(referrals.receivedAt), desc(referrals.id))
      .limit(PAGE + 1)
    const page = rows.slice(0, PAGE)
    const ids = page.map((r) => r.id)
    // The clinic's latest word on each: an open question shows until the referrer replies.
    const latest = ids.length
      ? await tx
          .selectDistinctOn([referralEvents.referralId], { referralId: referralEvents.referralId, type: referralEvents.type, createdAt: referralEvents.createdAt })
          .from(referralEvents)
          .where(
            and(
              inArray(referralEvents.referralId, ids),
              inArray(referralEvents.type, ['message', 'reply', 'status']),
              // The move to "Waiting on referrer" that comes with a question does not answer it.
              sql`not (${referralEvents.type} = 'status' and ${referralEvents.data}->>'to' = 'info_requested')`,
            ),
          )
          .orderBy(referralEvents.referralId, desc(referralEvents.createdAt))
      : []
    const items = await Promise.all(
      page.map(async (r) => {
        const p = await openFields(cipher, { clinicId: r.clinicId, referralId: r.id }, r.formData, ['patient_first_name', 'patient_last_name'])
        const last = latest.find((l) => l.referralId === r.id)
        return {
          id: r.id,
          referenceNumber: r.referenceNumber,
          patient: `${p.patient_first_name ?? ''} ${p.patient_last_name ?? ''}`.trim(),
          status: r.status,
          receivedAt: r.receivedAt.toISOString(),
          updatedAt: r.updatedAt.toISOString(),
          question: last?.type === 'message',
        }
      }),
    )
    await context.audit(tx, { action: 'referral.list', entityType: 'referral', details: { ids } })
    const lastRow = page.at(-1)
    return {
      items,
      next: rows.length > PAGE && lastRow ? `${lastRow.key},${lastRow.id}` : null,
      submitted: url.searchParams.get('submitted')?.replace(/[^A-Z0-9-]/g, '').slice(0, 20) ?? null,
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
            Your reference number is <span className="font-mono text-lg font-semibold" data-testid="reference-number">{submitted}</span>. Quote it if you call the clinic.
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
            {item.question ? (
              <Link to={`/referrals/${item.id}`} className="rounded-full bg-amber-100 px-2 py-0.5 text-xs font-medium text-amber-900">
                The clinic asked a question
              </Link>
            ) : null}
            <span className="text-xs text-slate-500">sent {item.receivedAt.slice(0, 10)} · updated {item.updatedAt.slice(0, 10)}</span>
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
