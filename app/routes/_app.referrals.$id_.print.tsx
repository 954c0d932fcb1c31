import type { LoaderFunctionArgs, MetaFunction } from '@remix-run/cloudflare'
import { useLoaderData } from '@remix-run/react'
import { requireUser } from '~/auth/guards.server'
import { GeneralErrorBoundary } from '~/components/error-boundary'
import { STATUS_LABELS } from '~/referrals/referral-badges'
import { SubmittedForm } from '~/referrals/referral-details'
import { openReferral } from '~/referrals/open-referral.server'
import { DocumentList } from '~/documents/document-list'
import { openDocumentList } from '~/documents/documents.server'
import { ClinicDate, ClinicTime } from '~/utils/use-clinic-time'

export const meta: MetaFunction = () => [{ title: 'Print referral · IntakePilot' }]
export const handle = { phi: true }

/** A printable referral. Printing is a PHI disclosure of its own: recorded as referral.print. */
export async function loader({ request, params, context }: LoaderFunctionArgs) {
  const user = requireUser(request, context)
  const opened = await openReferral(context, user, params.id, { purpose: 'print', documents: true })
  return {
    referenceNumber: opened.row.referenceNumber,
    status: opened.row.status,
    receivedAt: opened.row.receivedAt.toISOString(),
    formVersion: opened.row.formVersion,
    definition: opened.form.definition,
    values: opened.values,
    id: opened.row.id,
    documents: await openDocumentList(context.phi, opened.storedDocuments),
    printedAt: new Date().toISOString(),
    printedBy: user.displayName,
  }
}

export default function PrintReferral() {
  const r = useLoaderData<typeof loader>()
  return (
    <main className="mx-auto max-w-4xl px-6 py-8 print:max-w-none print:p-0">
      <h1 className="text-xl font-semibold">Referral {r.referenceNumber}</h1>
      <p className="mt-1 text-sm text-slate-600">
        {STATUS_LABELS[r.status]} · received <ClinicDate iso={r.receivedAt} /> · form version {r.formVersion}
      </p>
      <p className="mt-1 text-xs text-slate-500">
        Printed <ClinicTime iso={r.printedAt} /> by {r.printedBy}. Confidential patient information: store and dispose of securely.
      </p>
      <div className="mt-6">
        <SubmittedForm definition={r.definition} values={r.values} />
      </div>
      <section aria-labelledby="print-documents" className="mt-6 break-inside-avoid">
        <h2 id="print-documents" className="font-semibold">
          Documents attached ({r.documents.length})
        </h2>
        <div className="mt-2">
          <DocumentList referralId={r.id} documents={r.documents} links={false} />
        </div>
      </section>
    </main>
  )
}

export function ErrorBoundary() {
  return <GeneralErrorBoundary />
}
