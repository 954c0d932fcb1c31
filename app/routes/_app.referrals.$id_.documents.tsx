import type { ActionFunctionArgs, LoaderFunctionArgs } from '@remix-run/cloudflare'
import { data } from '@remix-run/cloudflare'
import type { MetaFunction } from '@remix-run/cloudflare'
import { Form, Link, useActionData, useLoaderData, useNavigation, useParams } from '@remix-run/react'
import { requireClinic, requireUser } from '~/auth/guards.server'
import { hasPermission } from '~/auth/permissions'
import { GeneralErrorBoundary } from '~/components/error-boundary'
import { ErrorSummary, FieldError } from '~/components/forms'
import { Button } from '~/components/ui/button'
import { Textarea } from '~/components/ui/control'
import { referralFullMessage } from '~/documents/attach.server'
import { DocumentList } from '~/documents/document-list'
import { documentLimits, DOCUMENT_UPLOAD_BODY } from '~/documents/limits'
import { attachToReferral, documentsOfReferral } from '~/documents/referral-documents.server'
import { DocumentsField } from '~/documents/upload-field'
import { replyInTransaction } from '~/referrals/work.server'

const DOCUMENTS_FORM = 'documents-form'

export const meta: MetaFunction = () => [{ title: 'Documents · IntakePilot' }]
/** PHI: the documents' names. Attaching takes files: the body is read as a stream. */
export const handle = { phi: true, requestBody: DOCUMENT_UPLOAD_BODY }

/**
 * The referral's documents: staff attach at any time (a faxed original, a report that came
 * later); the referrer attaches with a reply to the clinic. Opening one is on its own page.
 */
export async function loader({ request, params, context }: LoaderFunctionArgs) {
  const user = requireUser(request, context)
  const documents = await documentsOfReferral(context, user, params.id)
  return { documents, staff: hasPermission(user, 'update:referral:any'), limits: documentLimits(context.clinic?.settings) }
}

export async function action({ request, params, context }: ActionFunctionArgs) {
  const user = requireUser(request, context)
  const limits = documentLimits(context.clinic?.settings)
  const done = await attachToReferral(context, user, params.id, request, replyInTransaction(context, user, requireClinic(user)))
  const message = String(done.fields?.get('message') ?? '')
  switch (done.outcome) {
    case 'attached':
      return { ok: true, message: done.count === 1 ? 'Document attached.' : `${done.count} documents attached.`, errors: null, typed: '' }
    case 'problems':
      return data({ ok: false, message: null, errors: { documents: done.problems }, typed: message }, { status: 400 })
    case 'too-much':
      return data({ ok: false, message: null, errors: { documents: [referralFullMessage(limits)] }, typed: message }, { status: 400 })
    case 'needs-message':
      return data(
        { ok: false, message: null, errors: { message: ['Write a reply to the clinic (at most 5000 characters).'] }, typed: message },
        { status: 400 },
      )
  }
}

export default function ReferralDocuments() {
  const { documents, staff, limits } = useLoaderData<typeof loader>()
  const answer = useActionData<typeof action>()
  const { id } = useParams()
  const sending = useNavigation().state === 'submitting'
  const errors = answer && !answer.ok ? (answer.errors as { documents?: string[]; message?: string[] }) : null
  return (
    <main className="mx-auto max-w-7xl px-4 py-8 sm:px-6">
      <p className="text-sm">
        <Link to={`/referrals/${id}`} className="text-brand-700 underline">
          ← The referral
        </Link>
      </p>
      <h1 id="documents-heading" className="mt-2 text-2xl font-semibold tracking-tight">
        Documents
      </h1>
      <section aria-labelledby="documents-heading" className="mt-6 grid gap-6 lg:grid-cols-3">
        <div className="min-w-0 lg:col-span-2">
          <div className="mt-2">
            <DocumentList referralId={id!} documents={documents} />
          </div>
        </div>
        <div className="min-w-0 rounded-lg border border-slate-200 bg-white p-4">
          <h2 className="font-semibold">{staff ? 'Attach documents' : 'Reply with documents'}</h2>
          {answer?.message ? (
            <p role="status" className="mt-2 rounded-md border border-emerald-300 bg-emerald-50 px-3 py-2 text-sm text-emerald-900">
              {answer.message}
            </p>
          ) : null}
          <ErrorSummary
            form={{ id: DOCUMENTS_FORM, allErrors: { message: errors?.message ?? [], documents: errors?.documents ?? [] } }}
            fieldIds={{ message: 'reply-message', documents: 'attach-documents' }}
          />
          {/* A new key after each success empties the form (a remounted file input holds no files). */}
          <Form id={DOCUMENTS_FORM} method="post" encType="multipart/form-data" key={answer?.ok ? answer.message : 'form'}>
            {staff ? null : (
              <div className="mt-3">
                <label htmlFor="reply-message" className="block text-sm font-medium">
                  Reply to the clinic
                </label>
                <Textarea
                  id="reply-message"
                  name="message"
                  rows={3}
                  required
                  maxLength={5000}
                  defaultValue={answer && !answer.ok ? answer.typed : ''}
                  aria-invalid={errors?.message ? true : undefined}
                  aria-describedby={errors?.message ? 'reply-message-error' : undefined}
                  className="mt-1 block w-full"
                />
                <FieldError id="reply-message-error" errors={errors?.message} />
              </div>
            )}
            <DocumentsField id="attach-documents" label={staff ? 'Files' : 'Files for the clinic'} limits={limits} errors={errors?.documents} />
            <Button type="submit" variant="primary" size="md" className="mt-4" disabled={sending}>
              {sending ? 'Sending…' : staff ? 'Attach' : 'Send reply'}
            </Button>
          </Form>
        </div>
      </section>
    </main>
  )
}

export function ErrorBoundary() {
  return <GeneralErrorBoundary />
}
