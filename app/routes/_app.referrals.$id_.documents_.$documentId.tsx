import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from '@remix-run/cloudflare'
import { data, redirect } from '@remix-run/cloudflare'
import { Form, Link, useActionData, useLoaderData } from '@remix-run/react'
import { requireUser } from '~/auth/guards.server'
import { hasPermission } from '~/auth/permissions'
import { GeneralErrorBoundary } from '~/components/error-boundary'
import { FieldError } from '~/components/forms'
import { Button, buttonClass } from '~/components/ui/button'
import { Input } from '~/components/ui/control'
import { DOCUMENT_TYPES, formatBytes, INLINE_TYPES } from '~/documents/limits'
import { openReferralDocument, removeReferralDocument } from '~/documents/referral-documents.server'
import type { DocumentType } from '~/documents/limits'
import { ClinicTime } from '~/utils/use-clinic-time'

export const meta: MetaFunction = () => [{ title: 'Document · IntakePilot' }]
export const handle = { phi: true }

/** One document, shown in the page where the browser can (PDFs, images, text), with a download. Recorded as document.read. */
export async function loader({ request, params, context }: LoaderFunctionArgs) {
  const user = requireUser(request, context)
  const { row, name } = await openReferralDocument(context, user, { referralId: params.id, documentId: params.documentId }, 'page')
  return {
    referralId: row.referralId,
    id: row.id,
    name,
    contentType: row.contentType as DocumentType,
    sizeBytes: row.sizeBytes,
    createdAt: row.createdAt.toISOString(),
    canRemove: hasPermission(user, 'update:referral:any'),
  }
}

/** Staff remove it, with a reason; it leaves the list, the bytes stay until retention. */
export async function action({ request, params, context }: ActionFunctionArgs) {
  const user = requireUser(request, context)
  const form = await request.formData()
  const reason = String(form.get('reason') ?? '').trim()
  if (reason.length < 5 || reason.length > 500 || reason.includes('\u0000')) {
    return data({ error: 'Give the reason for removing it (5 to 500 characters); it is kept with the referral.' }, { status: 400 })
  }
  await removeReferralDocument(context, user, { referralId: params.id, documentId: params.documentId }, reason)
  throw redirect(`/referrals/${params.id}/documents`)
}

export default function ReferralDocument() {
  const d = useLoaderData<typeof loader>()
  const answer = useActionData<typeof action>()
  const content = `/referrals/${d.referralId}/documents/${d.id}/content`
  const inline = INLINE_TYPES.includes(d.contentType)
  return (
    <main className="mx-auto max-w-7xl px-4 py-8 sm:px-6">
      <p className="text-sm">
        <Link to={`/referrals/${d.referralId}/documents`} className="text-brand-700 underline">
          ← Documents of the referral
        </Link>
      </p>
      <h1 className="mt-2 break-all text-2xl font-semibold tracking-tight">{d.name}</h1>
      <p className="mt-1 text-sm text-slate-600">
        {DOCUMENT_TYPES[d.contentType]} · {formatBytes(d.sizeBytes)} · attached <ClinicTime iso={d.createdAt} />
      </p>
      <div className="mt-4 flex flex-wrap gap-3">
        <a href={`${content}?download=1`} className={buttonClass({ variant: 'primary', size: 'md' })} download>
          Download
        </a>
      </div>
      {inline ? (
        d.contentType.startsWith('image/') ? (
          <img src={content} alt={`Document: ${d.name}`} className="mt-4 max-w-full rounded-md border border-slate-200" />
        ) : (
          <iframe src={content} title={`Document: ${d.name}`} className="mt-4 h-[75vh] w-full rounded-md border border-slate-200 bg-white" />
        )
      ) : (
        <p className="mt-4 text-sm text-slate-600">Browsers cannot show {DOCUMENT_TYPES[d.contentType]} files in the page: download it to open it.</p>
      )}
      {d.canRemove ? (
        <details className="mt-8 max-w-xl rounded-lg border border-slate-200 bg-white p-4">
          <summary className="cursor-pointer text-sm font-medium">Remove this document</summary>
          <Form method="post" className="mt-3 space-y-2">
            <label htmlFor="remove-reason" className="block text-sm font-medium">
              Reason (kept with the referral)
            </label>
            <Input
              id="remove-reason"
              name="reason"
              required
              minLength={5}
              maxLength={500}
              aria-invalid={answer?.error ? true : undefined}
              aria-describedby={answer?.error ? 'remove-reason-error' : undefined}
              className="block w-full"
            />
            <FieldError id="remove-reason-error" errors={answer?.error ? [answer.error] : undefined} />
            <Button type="submit">Remove</Button>
          </Form>
        </details>
      ) : null}
    </main>
  )
}

export function ErrorBoundary() {
  return <GeneralErrorBoundary />
}
