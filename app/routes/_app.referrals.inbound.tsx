import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from '@remix-run/cloudflare'
import { data, redirect } from '@remix-run/cloudflare'
import { getFormProps, getInputProps, getSelectProps, useForm, type FieldMetadata } from '@conform-to/react'
import { Form, Link, useActionData, useLoaderData, useNavigation } from '@remix-run/react'
import type { ReactNode } from 'react'
import { z } from 'zod'
import { requireClinic, requireCurrentClinic, requirePermission, requireUser } from '~/auth/guards.server'
import { useLazyValidation } from '~/components/forms'
import { GeneralErrorBoundary } from '~/components/error-boundary'
import { Button } from '~/components/ui/button'
import { Field, SelectField } from '~/components/ui/field'
import { intakeChannels } from '~/db/enums'
import type { IntakeFormDefinition } from '~/db/schema'
import { IntakeFormFields } from '~/intake/intake-form-fields'
import { currentIntakeForm, intakeFormVersion } from '~/intake/intake-forms.server'
import { inboundSchema, SOMEONE_ELSE, type InboundValues } from '~/referrals/inbound'
import { CHANNEL_LABELS } from '~/referrals/referral-badges'
import { enterInboundReferral, knownReferrers } from '~/referrals/inbound.server'
import { parseForm } from '~/utils/form.server'
import { dayFromToday, formInteger } from '~/utils/form-values'

export const meta: MetaFunction = () => [{ title: 'New inbound referral · IntakePilot' }]

/** Fields every submission carries besides the form's own. */
const Envelope = z.object({ idempotencyKey: z.uuid(), formVersion: formInteger(1) })

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
    today: dayFromToday(),
    // The reference number of the one just entered (never PHI); anything else in the link is dropped.
    entered: entered && /^[A-Z0-9]{3}-[0-9A-Z]{7}$/.test(entered) ? entered : null,
  }
}

export async function action({ request, context }: ActionFunctionArgs) {
  const user = requireUser(request, context)
  requirePermission(user, 'create:referral:any')
  const clinic = requireCurrentClinic(context)
  const formData = await request.formData()
  const envelope = Envelope.safeParse({ idempotencyKey: formData.get('idempotencyKey'), formVersion: formData.get('formVersion') })
  if (!envelope.success) throw new Response('The form is out of date: reload the page', { status: 400 })

  const outcome = await context.db.tenant(async (tx) => {
    // Checked against the version the page showed: the referral keeps that version.
    const form = await intakeFormVersion(tx, clinic.id, envelope.data.formVersion)
    if (!form) return { error: 'stale-form' as const }
    const submission = parseForm(formData, inboundSchema(form.definition), { also: Object.keys(Envelope.shape) })
    if (submission.status !== 'success') return { submission }
    const entered = await enterInboundReferral(tx, context.phi, context.audit, {
      clinic,
      enteredBy: user.id,
      form,
      values: submission.value as InboundValues,
      idempotencyKey: envelope.data.idempotencyKey,
    })
    return { submission, ...entered }
  })
  if ('error' in outcome) throw new Response('The form is out of date: reload the page', { status: 409 })
  const { submission } = outcome
  if (submission.status !== 'success') return data({ result: submission.reply() }, { status: 400 })
  if (!('created' in outcome) || !outcome.created) {
    return data({ result: submission.reply({ fieldErrors: { referrerId: ['Choose one of this clinic’s referrers from the list'] } }) }, { status: 400 })
  }
  throw redirect(`/referrals/inbound?${new URLSearchParams({ entered: outcome.created.referenceNumber })}`)
}

export default function NewInboundReferral() {
  const { form: intake, referrers, idempotencyKey, today, entered } = useLoaderData<typeof loader>()
  const actionData = useActionData<typeof action>()
  const navigation = useNavigation()
  const submitting = navigation.state === 'submitting'
  const [form, fields] = useForm({
    // A new key after each entry: the next fax starts from an empty form.
    id: `inbound-v${intake.version}-${idempotencyKey}`,
    lastResult: actionData?.result,
    // Every list starts on "Choose…": after an entry the page comes back for the next one, and conform
    // would otherwise leave its lists with nothing selected.
    defaultValue: { ...emptyChoices(intake.definition), arrivedVia: '', referrerId: '', receivedOn: today },
    ...useLazyValidation(
      () => import('~/referrals/inbound'),
      (m, formData) => m.validateInbound(formData, intake.definition),
      { shouldValidate: 'onBlur', shouldRevalidate: 'onInput' },
    ),
  })
  const f = fields as unknown as Record<string, FieldMetadata<string>>
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
      {form.errors?.length ? (
        <p role="alert" className="mt-4 rounded-md border border-red-300 bg-red-50 px-3 py-2 text-sm text-red-900">
          {form.errors.join(' ')}
        </p>
      ) : null}
      <Form key={idempotencyKey} method="post" {...getFormProps(form)} className="mt-6 space-y-8">
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
            help={<Help id={`${f.receivedTime!.id}-help`}>In UTC, from the fax header or the call log. Without it, the day’s start counts.</Help>}
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
