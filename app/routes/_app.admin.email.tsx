import type { LoaderFunctionArgs, MetaFunction } from '@remix-run/cloudflare'
import { useLoaderData } from '@remix-run/react'
import { requireClinic, requireCurrentClinic, requirePermission, requireUser } from '~/auth/guards.server'
import { GeneralErrorBoundary } from '~/components/error-boundary'
import { Table, TableBody, TableHead, Td, Th } from '~/components/ui/table'
import { EMAIL_KIND_LABELS } from '~/db/email-kinds'
import { ERROR_WORDS, recentDeliveries } from '~/notifications/email.server'
import { clinicTimeZone, formatClinicTime } from '~/utils/clinic-time'

export const meta: MetaFunction = () => [{ title: 'Email sent · IntakePilot' }]

/** What the courier sent for this clinic, and what failed (docs/decisions/041). No message bodies: none are kept. */
export async function loader({ request, context }: LoaderFunctionArgs) {
  const user = requireUser(request, context)
  requirePermission(user, 'manage:user:any')
  const clinicId = requireClinic(user)
  const zone = clinicTimeZone(requireCurrentClinic(context).settings)
  const rows = await context.db.tenant((tx) => recentDeliveries(tx, clinicId))
  return {
    rows: rows.map((r) => ({
      id: r.id,
      what: EMAIL_KIND_LABELS[r.kind],
      to: `${r.recipient} <${r.recipientEmail}>`,
      reference: r.referenceNumber,
      status: r.status,
      attempts: r.attempts,
      error: r.lastError ? (ERROR_WORDS[r.lastError] ?? r.lastError) : null,
      when: formatClinicTime(r.sentAt ?? r.createdAt, zone),
      next: r.status === 'pending' && r.attempts > 0 ? formatClinicTime(r.nextAttemptAt, zone) : null,
    })),
  }
}

const STATUS_WORDS = { pending: 'Waiting to send', sent: 'Sent', failed: 'Failed (gave up after 24 hours)' } as const

export default function EmailSent() {
  const { rows } = useLoaderData<typeof loader>()
  const failing = rows.filter((r) => r.status !== 'sent' && r.error).length
  return (
    <main className="mx-auto max-w-5xl px-4 py-8 sm:px-6">
      <h1 className="text-2xl font-semibold tracking-tight">Email sent</h1>
      <p className="mt-2 text-slate-600">The clinic&apos;s latest 100 notification emails. A failed send is tried again, less often each time, for 24 hours.</p>
      {failing ? (
        <p role="status" className="mt-4 rounded-md bg-amber-50 p-3 text-sm text-amber-900">
          {failing} {failing === 1 ? 'email has' : 'emails have'} not gone out yet.
        </p>
      ) : null}
      {rows.length === 0 ? (
        <p className="mt-6">No email has been sent yet.</p>
      ) : (
        <div className="mt-6">
          <Table>
            <caption className="sr-only">Notification emails, newest first</caption>
            <TableHead>
              <Th scope="col">When</Th>
              <Th scope="col">To</Th>
              <Th scope="col">About</Th>
              <Th scope="col">Referral</Th>
              <Th scope="col">Status</Th>
            </TableHead>
            <TableBody>
              {rows.map((r) => (
                <tr key={r.id} className="align-top">
                  <Td className="whitespace-nowrap">{r.when}</Td>
                  <Td>{r.to}</Td>
                  <Td>{r.what}</Td>
                  <Td className="font-mono">
                    {r.reference ?? (
                      <>
                        <span aria-hidden="true">—</span>
                        <span className="sr-only">None</span>
                      </>
                    )}
                  </Td>
                  <Td>
                    {STATUS_WORDS[r.status]}
                    {r.error && r.status !== 'sent' ? (
                      <span className="block text-xs text-slate-600">
                        {r.error}; {r.attempts} {r.attempts === 1 ? 'try' : 'tries'}
                        {r.next ? `, next at ${r.next}` : ''}
                      </span>
                    ) : null}
                  </Td>
                </tr>
              ))}
            </TableBody>
          </Table>
        </div>
      )}
    </main>
  )
}

export function ErrorBoundary() {
  return <GeneralErrorBoundary />
}
