import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from '@remix-run/cloudflare'
import { data, redirect } from '@remix-run/cloudflare'
import { getFormProps, useForm } from '@conform-to/react'
import { Form, useActionData, useLoaderData, useNavigation, useSearchParams } from '@remix-run/react'
import { requireClinic, requireCurrentClinic, requirePermission, requireUser } from '~/auth/guards.server'
import { ErrorSummary, useLazyValidation } from '~/components/forms'
import { GeneralErrorBoundary } from '~/components/error-boundary'
import { Button } from '~/components/ui/button'
import { documentLimits, DOCUMENT_UPLOAD_BODY, DOCUMENTS_FIELD } from '~/documents/limits'
import { DocumentsField, useDocumentUpload } from '~/documents/upload-field'
import { receiveFieldsOnly } from '~/documents/upload.server'
import { IntakeFormFields } from '~/intake/intake-form-fields'
import { handleKitIntent, idParam, kitIntent, newReferralStart } from '~/intake/referrer-kit.server'
import { isKeepSubmit, KitNotice, SaveForLater, StartFrom } from '~/intake/referrer-kit-panel'
import { DRAFT_OWNER_FIELD } from '~/referrals/draft'
import { draftOwnerToken, stashDraft, takeDraft } from '~/referrals/draft.server'
import { submitReferral, type SubmitOutcome } from '~/referrals/submit-referral.server'

export const meta: MetaFunction = () => [{ title: 'New referral · IntakePilot' }]
/** Attachments come with the form: the body is read as a stream (app/documents/upload.server.ts). */
export const handle = { requestBody: DOCUMENT_UPLOAD_BODY }

export async function loader({ request, context }: LoaderFunctionArgs) {
  const user = requireUser(request, context)
  requirePermission(user, 'create:referral:own')
  const clinicId = requireClinic(user)
  const url = new URL(request.url)
  const ask = { draftId: idParam(url, 'draft'), templateId: idParam(url, 'template') }
  const owner = { userId: user.id, clinicId }
  // The form, and what fills it: a draft of theirs asked for, else a template and their profile.
  const start = await context.db.tenant((tx) => newReferralStart(context, tx, owner, ask))
  if (!start) throw new Response('This clinic has not published a referral form yet', { status: 404 })
  // A draft kept when the form could not be sent comes back once, to its own user in their clinic
  // only; anyone else's is dropped (app/referrals/draft.server.ts).
  const { draft, setCookies } = await takeDraft(context.env, request, owner)
  const headers = new Headers()
  for (const cookie of setCookies) headers.append('Set-Cookie', cookie)
  return data(
    {
      ...start,
      idempotencyKey: draft?.idempotencyKey || crypto.randomUUID(),
      draft: draft?.values ?? null,
      draftReason: draft?.reason ?? null,
      draftOwner: await draftOwnerToken(context.env, owner),
      limits: documentLimits(context.clinic?.settings),
    },
    { headers },
  )
}

export async function action({ request, context }: ActionFunctionArgs) {
  if (!context.user) {
    // The session ended while they were typing: keep every value (not the files), then ask them to sign in.
    const headers = new Headers()
    const fields = await receiveFieldsOnly(request)
    for (const cookie of await stashDraft(context.env, fields, 'signed-out')) headers.append('Set-Cookie', cookie)
    throw redirect(`/login?${new URLSearchParams({ redirectTo: '/referrals/new', reason: 'expired' })}`, { headers })
  }
  const user = requireUser(request, context)
  requirePermission(user, 'create:referral:own')
  const intent = kitIntent(request)
  if (intent) {
    const kept = await handleKitIntent(context, request, user, requireClinic(user), intent)
    if (kept.kind === 'redirect') throw redirect(kept.to)
    return data({ result: undefined, kept }, { status: kept.status })
  }
  const outcome = await submitReferral(context, request, user, requireCurrentClinic(context))
  return answer(outcome)
}

/** The outcome as the page shows it; the upload endpoint (referrals.new.upload) says the same in JSON. */
function answer(outcome: SubmitOutcome) {
  switch (outcome.kind) {
    case 'bad-envelope':
      throw new Response('The form is out of date: reload the page', { status: 400 })
    case 'stale':
      throw new Response('The form is out of date: reload the page', { status: 409 })
    case 'invalid':
      return data({ result: outcome.result, kept: undefined }, { status: 400 })
    case 'created':
      throw redirect(`/my-referrals?${new URLSearchParams({ submitted: outcome.referenceNumber })}`)
  }
}

export default function NewReferral() {
  const {
    form: intake,
    idempotencyKey,
    draft,
    draftReason,
    draftOwner,
    limits,
    values,
    drafts,
    templates,
    hasProfile,
    ...start
  } = useLoaderData<typeof loader>()
  const actionData = useActionData<typeof action>()
  const [params] = useSearchParams()
  const kept = actionData?.kept
  const draftId = kept ? kept.draftId : (start.savedDraft?.id ?? null)
  const navigation = useNavigation()
  const upload = useDocumentUpload<NonNullable<typeof actionData>['result']>('/referrals/new/upload')
  const submitting = navigation.state === 'submitting' || upload.sending
  const [form, fields] = useForm({
    id: `referral-v${intake.version}`,
    lastResult: upload.answer?.result ?? actionData?.result,
    // A session that ended mid-form (the cookie draft) wins; then what the action kept; then the page's start.
    defaultValue: draft ?? kept?.values ?? values,
    ...useLazyValidation(
      () => import('~/intake/form-schema'),
      (m, formData) => m.validateIntake(formData, intake.definition),
      {
        shouldValidate: 'onBlur',
        shouldRevalidate: 'onInput',
      },
    ),
  })
  const formProps = getFormProps(form)
  return (
    <main className="mx-auto max-w-4xl px-4 py-8 sm:px-6">
      <h1 className="text-2xl font-semibold tracking-tight">New referral</h1>
      <p className="mt-1 text-slate-600">
        Fields marked <span className="text-red-700">*</span> are required. Patient information is encrypted before it is stored.
      </p>
      {draft ? (
        <p role="status" className="mt-4 rounded-md border border-sky-300 bg-sky-50 px-3 py-2 text-sm text-sky-900">
          {draftReason === 'unavailable'
            ? 'IntakePilot was unavailable when you sent this referral, so it was not sent.'
            : 'Your session ended before the referral was sent.'}{' '}
          Everything you entered is below: check it and submit again.
        </p>
      ) : null}
      <KitNotice done={kept ? null : params.get('done')} notice={kept?.notice} />
      {start.savedDraft && start.savedDraft.formVersion !== intake.version ? (
        <p role="status" className="mt-4 rounded-md border border-amber-300 bg-amber-50 px-3 py-2 text-sm text-amber-900">
          This draft was saved with version {start.savedDraft.formVersion} of the form; the clinic has changed it since. Check every field before you send it.
        </p>
      ) : null}
      {start.template ? (
        <p role="status" className="mt-4 rounded-md border border-sky-300 bg-sky-50 px-3 py-2 text-sm text-sky-900">
          Started from the template “{start.template.name}”: the patient’s details are yours to fill in.
        </p>
      ) : null}
      <StartFrom drafts={drafts} templates={templates} current={draftId} hasProfile={hasProfile} />
      <ErrorSummary form={form} messages={[upload.answer?.message]} fieldIds={{ [DOCUMENTS_FIELD]: 'documents' }} />
      <Form
        method="post"
        encType="multipart/form-data"
        reloadDocument
        {...formProps}
        onSubmit={(event) => {
          if (isKeepSubmit(event)) return
          formProps.onSubmit(event)
          upload.onSubmit(event)
        }}
        className="mt-6"
      >
        <input type="hidden" name="idempotencyKey" value={idempotencyKey} />
        <input type="hidden" name="formVersion" value={intake.version} />
        <input type="hidden" name={DRAFT_OWNER_FIELD} value={draftOwner} />
        <IntakeFormFields definition={intake.definition} fields={fields as never} />
        <DocumentsField
          label="Attachments (consult letter, imaging, lab reports)"
          limits={limits}
          errors={fields[DOCUMENTS_FIELD as never]?.errors}
          progress={upload.progress}
        />
        <SaveForLater draftId={draftId} problem={kept?.problem} />
        <div className="mt-6 flex items-center gap-4">
          <Button type="submit" variant="primary" size="xl" className="shadow-sm" disabled={submitting}>
            {submitting ? 'Sending…' : 'Send referral'}
          </Button>
          <p className="text-sm text-slate-500">Form version {intake.version}</p>
        </div>
      </Form>
    </main>
  )
}

export function ErrorBoundary() {
  return <GeneralErrorBoundary />
}
