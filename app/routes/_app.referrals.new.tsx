import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from '@remix-run/cloudflare'
import { data, redirect } from '@remix-run/cloudflare'
import { getFormProps, useForm } from '@conform-to/react'
import { Form, useActionData, useLoaderData, useNavigation } from '@remix-run/react'
import { z } from 'zod'
import { requireClinic, requireCurrentClinic, requirePermission, requireUser } from '~/auth/guards.server'
import { useLazyValidation } from '~/components/forms'
import { GeneralErrorBoundary } from '~/components/error-boundary'
import { Button } from '~/components/ui/button'
import { intakeSchema } from '~/intake/form-schema'
import { IntakeFormFields } from '~/intake/intake-form-fields'
import { currentIntakeForm, intakeFormVersion } from '~/intake/intake-forms.server'
import { DRAFT_OWNER_FIELD } from '~/referrals/draft'
import { draftOwnerToken, stashDraft, takeDraft } from '~/referrals/draft.server'
import { createReferral } from '~/referrals/create-referral.server'
import type { FormValues } from '~/referrals/form-data.server'
import { parseForm } from '~/utils/form.server'
import { formInteger } from '~/utils/form-values'

export const meta: MetaFunction = () => [{ title: 'New referral · IntakePilot' }]

/** Fields every submission carries besides the clinic's own form fields. */
const Envelope = z.object({ idempotencyKey: z.uuid(), formVersion: formInteger(1) })

export async function loader({ request, context }: LoaderFunctionArgs) {
  const user = requireUser(request, context)
  requirePermission(user, 'create:referral:own')
  const clinicId = requireClinic(user)
  const form = await context.db.tenant((tx) => currentIntakeForm(tx, clinicId))
  if (!form) throw new Response('This clinic has not published a referral form yet', { status: 404 })
  // A draft kept when the form could not be sent comes back once, to its own user in their clinic
  // only; anyone else's is dropped (app/referrals/draft.server.ts).
  const owner = { userId: user.id, clinicId }
  const { draft, setCookies } = await takeDraft(context.env, request, owner)
  const headers = new Headers()
  for (const cookie of setCookies) headers.append('Set-Cookie', cookie)
  return data(
    {
      form,
      idempotencyKey: draft?.idempotencyKey || crypto.randomUUID(),
      draft: draft?.values ?? null,
      draftReason: draft?.reason ?? null,
      draftOwner: await draftOwnerToken(context.env, owner),
    },
    { headers },
  )
}

export async function action({ request, context }: ActionFunctionArgs) {
  const formData = await request.formData()
  if (!context.user) {
    // The session ended while they were typing: keep every value, then ask them to sign in.
    const headers = new Headers()
    for (const cookie of await stashDraft(context.env, formData, 'signed-out')) headers.append('Set-Cookie', cookie)
    throw redirect(`/login?${new URLSearchParams({ redirectTo: '/referrals/new', reason: 'expired' })}`, { headers })
  }
  const user = requireUser(request, context)
  requirePermission(user, 'create:referral:own')
  const clinic = requireCurrentClinic(context)
  const clinicId = clinic.id
  // The owner token only matters to a draft (above, or the pipeline's); it is no field of the form.
  formData.delete(DRAFT_OWNER_FIELD)
  const envelope = Envelope.safeParse({ idempotencyKey: formData.get('idempotencyKey'), formVersion: formData.get('formVersion') })
  if (!envelope.success) throw new Response('The form is out of date: reload the page', { status: 400 })

  const cipher = context.phi
  const outcome = await context.db.tenant(async (tx) => {
    // Validate against the version the referrer filled in: the referral keeps that version.
    const form = await intakeFormVersion(tx, clinicId, envelope.data.formVersion)
    if (!form) return { error: 'stale-form' as const }
    const submission = parseForm(formData, intakeSchema(form.definition), { also: [...Object.keys(Envelope.shape), DRAFT_OWNER_FIELD] })
    if (submission.status !== 'success') return { submission }
    const created = await createReferral(tx, cipher, context.audit, {
      clinic,
      submittedBy: user.id,
      form,
      values: submission.value as FormValues,
      idempotencyKey: envelope.data.idempotencyKey,
    })
    return { created }
  })
  if ('error' in outcome) throw new Response('The form is out of date: reload the page', { status: 409 })
  if ('submission' in outcome) return data({ result: outcome.submission!.reply() }, { status: 400 })
  throw redirect(`/my-referrals?${new URLSearchParams({ submitted: outcome.created.referenceNumber })}`)
}

export default function NewReferral() {
  const { form: intake, idempotencyKey, draft, draftReason, draftOwner } = useLoaderData<typeof loader>()
  const actionData = useActionData<typeof action>()
  const navigation = useNavigation()
  const submitting = navigation.state === 'submitting'
  const [form, fields] = useForm({
    id: `referral-v${intake.version}`,
    lastResult: actionData?.result,
    defaultValue: draft ?? undefined,
    ...useLazyValidation(
      () => import('~/intake/form-schema'),
      (m, formData) => m.validateIntake(formData, intake.definition),
      {
        shouldValidate: 'onBlur',
        shouldRevalidate: 'onInput',
      },
    ),
  })
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
      {form.errors?.length ? (
        <p role="alert" className="mt-4 rounded-md border border-red-300 bg-red-50 px-3 py-2 text-sm text-red-900">
          {form.errors.join(' ')}
        </p>
      ) : null}
      <Form method="post" {...getFormProps(form)} className="mt-6">
        <input type="hidden" name="idempotencyKey" value={idempotencyKey} />
        <input type="hidden" name="formVersion" value={intake.version} />
        <input type="hidden" name={DRAFT_OWNER_FIELD} value={draftOwner} />
        <IntakeFormFields definition={intake.definition} fields={fields as never} />
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
