import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from '@remix-run/cloudflare'
import { data, redirect } from '@remix-run/cloudflare'
import { getFormProps, getInputProps, getSelectProps, useForm, type FieldMetadata } from '@conform-to/react'
import { Form, Link, useActionData, useLoaderData, useNavigation } from '@remix-run/react'
import type { ReactNode } from 'react'
import { requireClinic, requireCurrentClinic, requirePermission, requireUser } from '~/auth/guards.server'
import { ErrorSummary, useLazyValidation } from '~/components/forms'
import { GeneralErrorBoundary } from '~/components/error-boundary'
import { Button } from '~/components/ui/button'
import { Field, SelectField } from '~/components/ui/field'
import { intakeChannels } from '~/db/enums'
import { documentLimits, DOCUMENT_UPLOAD_BODY, DOCUMENTS_FIELD } from '~/documents/limits'
import { DocumentsField, useDocumentUpload } from '~/documents/upload-field'
import type { IntakeFormDefinition } from '~/db/schema'
import { IntakeFormFields } from '~/intake/intake-form-fields'
import { currentIntakeForm } from '~/intake/intake-forms.server'
import { SOMEONE_ELSE } from '~/referrals/inbound'
import { CHANNEL_LABELS } from '~/referrals/referral-badges'
import { enteredUrl, knownReferrers, submitInboundReferral } from '~/referrals/inbound.server'
import { clinicDay, clinicTimeZone } from '~/utils/clinic-time'
import { useClinicTimeZone } from '~/utils/use-clinic-time'

export const meta: MetaFunction = () => [{ title: 'New inbound referral · IntakePilot' }]

/** The faxed original comes with the form: the body is read as a stream (app/documents/upload.server.ts). */
export const handle = { requestBody: DOCUMENT_UPLOAD_BODY }

export async function loader({ request, context }: LoaderFunctionArgs) {
  const user = requireUser(request, context)
  requirePermission(user, 'create:referral:any')
  const clinicId = requireClinic(user)
  const { form, referrers } = await context.db.tenant(async (tx) => ({
    form: await currentIntakeForm(tx, clinicId),
    referrers: await knownReferrers(tx, clinicId),
  }))
  if (!form) throw new Response('This clinic has not published a referral form yet', { status: 404 })
  const entered = new URL(request.url).searchParams.get('entered')
  return {
    form,
    // The list's last choice lets staff type in a referrer who has no account here.
    referrers: [...referrers.map((r) => [r.id, r.name] as const), [SOMEONE_ELSE, 'Someone else: type their name below'] as const],
    idempotencyKey: crypto.randomUUID(),
    // The clinic's today, not UTC's (already tomorrow on a Toronto evening): the date's default and its latest.
    today: clinicDay(Date.now(), clinicTimeZone(context.clinic?.settings)),
    limits: documentLimits(context.clinic?.settings),
    // The reference number of the one just entered (never PHI); anything else in the link is dropped.
    entered: entered && /^[A-Z0-9]{3}-[0-9A-Z]{7}$/.test(entered) ? entered : null,
  }
}

export async function action({ request, context }: ActionFunctionArgs) {
  const user = requireUser(request, context)
  requirePermission(user, 'create:referral:any')
  const outcome = await submitInboundReferral(context, request, user, requireCurrentClinic(context))
  switch (outcome.kind) {
    case 'bad-envelope':
      throw new Response('The form is out of date: reload the page', { status: 400 })
    case 'stale':
      throw new Response('The form is out of date: reload the page', { status: 409 })
    case 'invalid':
      return data({ result: outcome.result }, { status: 400 })
    case 'created':
      throw redirect(enteredUrl(outcome.referenceNumber))
  }
}

export default function NewInboundReferral() {
  const { form: intake, referrers, idempotencyKey, today, limits, entered } = useLoaderData<typeof loader>()
  const zone = useClinicTimeZone()
  const actionData = useActionData<typeof action>()
  const navigation = useNavigation()
  const upload = useDocumentUpload<NonNullable<typeof actionData>['result']>('/referrals/inbound/upload')
  const submitting = navigation.state === 'submitting' || upload.sending
  const [form, fields] = useForm({
    // A new key after each entry: the next fax starts from an empty form.
    id: `inbound-v${intake.version}-${idempotencyKey}`,
    lastResult: upload.answer?.result ?? actionData?.result,
    // Every list starts on "Choose…": after an entry the page comes back for the next one, and conform
    // would otherwise leave its lists with nothing selected.
    defaultValue: { ...emptyChoices(intake.definition), arrivedVia: '', referrerId: '', receivedOn: today },
    ...useLazyValidation(
      () => import('~/referrals/inbound'),
      (m, formData) => m.validateInbound(formData, intake.definition, zone),
      { shouldValidate: 'onBlur', shouldRevalidate: 'onInput' },
    ),
  })
  const f = fields as unknown as Record<string, FieldMetadata<string>>
  const formProps = getFormProps(form)
  return (
    <main className="mx-auto max-w-4xl px-4 py-8 sm:px-6">
      <h1 className="text-2xl font-semibold tracking-tight">New inbound referral</h1>
      <p className="mt-1 text-slate-600">
        For a referral that came by fax, phone, email or in person: enter it from the original, on the referrer’s behalf. Its turnaround counts from the day it
        was received. Fields marked <span className="text-red-700">*</span> are required.
      </p>
      {entered ? (
        <div role="status" className="mt-4 rounded-lg border border-emerald-300 bg-emerald-50 p-4 text-emerald-900">
          <p className="font-semibold">
            Referral <span data-testid="reference-number">{entered}</span> entered.
          </p>
          <p className="mt-1 text-sm">
            <Link to={`/queue?${new URLSearchParams({ ref: entered, status: 'all' })}`} className="underline">
              Find it in the queue
            </Link>
            , or enter the next one below.
          </p>
        </div>
      ) : null}
      <ErrorSummary form={form} messages={[upload.answer?.message]} fieldIds={{ [DOCUMENTS_FIELD]: 'documents' }} />
      <Form
        key={idempotencyKey}
        method="post"
        encType="multipart/form-data"
        reloadDocument
        {...formProps}
        onSubmit={(event) => {
          formProps.onSubmit(event)
          upload.onSubmit(event)
        }}
        className="mt-6 space-y-8"
      >
        <input type="hidden" name="idempotencyKey" value={idempotencyKey} />
        <input type="hidden" name="formVersion" value={intake.version} />
        <Section title="How it arrived">
          <SelectField
            {...frame(f.arrivedVia!, 'Received by')}
            selectProps={getSelectProps(f.arrivedVia!)}
            options={[['', 'Choose…'], ...intakeChannels.map((c) => [c, CHANNEL_LABELS[c]] as const)]}
          />
          <div />
          <Field {...frame(f.receivedOn!, 'Date received')} inputProps={{ ...getInputProps(f.receivedOn!, { type: 'date' }), max: today }} />
          <Field
            {...frame(f.receivedTime!, 'Time received', false)}
            help={
              <Help id={`${f.receivedTime!.id}-help`}>
                On the clinic’s clock ({zone}), from the fax header or the call log. Without it, the day’s start counts.
              </Help>
            }
            inputProps={{ ...getInputProps(f.receivedTime!, { type: 'time' }), 'aria-describedby': describedBy(f.receivedTime!) }}
          />
        </Section>
        <Section title="Referrer">
          <SelectField
            {...frame(f.referrerId!, 'Referrer')}
            className="sm:col-span-2"
            selectProps={getSelectProps(f.referrerId!)}
            options={[['', 'Choose…'], ...referrers]}
          />
          <Field
            {...frame(f.referrerName!, 'Referrer’s name', false)}
            help={<Help id={`${f.referrerName!.id}-help`}>Only when the referrer is not in the list.</Help>}
            inputProps={{ ...getInputProps(f.referrerName!, { type: 'text' }), autoComplete: 'off', 'aria-describedby': describedBy(f.referrerName!) }}
          />
          <Field
            {...frame(f.referrerPractice!, 'Practice', false)}
            inputProps={{ ...getInputProps(f.referrerPractice!, { type: 'text' }), autoComplete: 'off' }}
          />
        </Section>
        <fieldset className="rounded-lg border border-slate-200 bg-white p-5 shadow-sm">
          <legend className="px-1 text-base font-semibold text-slate-900">The original</legend>
          <DocumentsField
            label="Attach the faxed original, or a scan of what was handed in (optional)"
            limits={limits}
            errors={f[DOCUMENTS_FIELD]?.errors}
            progress={upload.progress}
          />
        </fieldset>
        <IntakeFormFields definition={intake.definition} fields={fields as never} />
        <div className="flex flex-wrap items-center gap-4">
          <Button type="submit" variant="primary" size="xl" className="shadow-sm" disabled={submitting}>
            {submitting ? 'Saving…' : 'Enter referral'}
          </Button>
          <p className="text-sm text-slate-500">Form version {intake.version}</p>
        </div>
      </Form>
    </main>
  )
}

const emptyChoices = (definition: IntakeFormDefinition) =>
  Object.fromEntries(definition.sections.flatMap((s) => s.fields.filter((f) => f.type === 'select').map((f) => [f.key, ''])))

/** The same look as the intake form's sections (app/intake/intake-form-fields.tsx). */
function Section({ title, children }: { title: string; children: ReactNode }) {
  return (
    <fieldset className="rounded-lg border border-slate-200 bg-white p-5 shadow-sm">
      <legend className="px-1 text-base font-semibold text-slate-900">{title}</legend>
      <div className="mt-2 grid gap-x-6 gap-y-5 sm:grid-cols-2">{children}</div>
    </fieldset>
  )
}

function Help({ id, children }: { id: string; children: ReactNode }) {
  return (
    <p id={id} className="mt-1 text-sm text-slate-500">
      {children}
    </p>
  )
}

const describedBy = (meta: FieldMetadata<string>) => [`${meta.id}-help`, meta.errors?.length ? meta.errorId : undefined].filter(Boolean).join(' ')

function frame(meta: FieldMetadata<string>, label: string, required = true) {
  return {
    label: (
      <>
        {label}
        {required ? <span className="text-red-700"> *</span> : <span className="font-normal text-slate-500"> (optional)</span>}
      </>
    ),
    errors: meta.errors,
    labelClassName: 'block text-sm font-medium text-slate-800',
    controlClassName: 'bg-white shadow-sm aria-[invalid]:border-red-500',
    size: 'large' as const,
  }
}

export function ErrorBoundary() {
  return <GeneralErrorBoundary />
}
