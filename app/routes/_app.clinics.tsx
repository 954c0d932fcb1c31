import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from '@remix-run/cloudflare'
import { data, redirect } from '@remix-run/cloudflare'
import { getFormProps, getInputProps, getSelectProps, useForm } from '@conform-to/react'
import { getZodConstraint, parseWithZod } from '@conform-to/zod/v4'
import { Form, useActionData, useLoaderData } from '@remix-run/react'
import { z } from 'zod'
import { requirePermission, requireUser } from '~/auth/guards.server'
import { hasPermission } from '~/auth/permissions'
import { sealSession, sessionSetCookie } from '~/auth/session.server'
import { GeneralErrorBoundary } from '~/components/error-boundary'
import { ErrorSummary, FieldError } from '~/components/forms'
import { Button } from '~/components/ui/button'
import { Field, SelectField } from '~/components/ui/field'
import { switchableClinics, switchClinic } from '~/users/clinic-switch.server'
import { parseForm } from '~/utils/form.server'
import { safeRedirect } from '~/utils/misc'

export const meta: MetaFunction = () => [{ title: 'Clinics · IntakePilot' }]

const SwitchClinicSchema = z.object({
  clinicId: z.uuid({ error: 'Choose a clinic' }),
  reason: z
    .string({ error: 'Give a reason: it is recorded in the clinic’s audit trail' })
    .trim()
    .min(5, 'Give a reason of at least 5 characters')
    .max(200, 'Keep the reason under 200 characters'),
  redirectTo: z.string().optional(),
})

export async function loader({ request, context }: LoaderFunctionArgs) {
  const user = requireUser(request, context)
  requirePermission(user, 'switch:clinic:any')
  return { clinics: await switchableClinics(context), currentId: user.clinicId }
}

/** The superadmin's clinic switch: a reason is required and recorded in that clinic's trail. */
export async function action({ request, context }: ActionFunctionArgs) {
  const user = requireUser(request, context)
  if (!hasPermission(user, 'switch:clinic:any')) {
    // A forged switch: refused and recorded where the user belongs.
    await context.db.tenant((tx) => context.audit(tx, { action: 'clinic.switch', entityType: 'clinic', outcome: 'denied' }))
    throw new Response('Forbidden', { status: 403 })
  }
  const submission = parseForm(await request.formData(), SwitchClinicSchema)
  if (submission.status !== 'success') return data({ result: submission.reply() }, { status: 400 })
  const { clinicId, reason } = submission.value

  const outcome = await switchClinic(context, user, { clinicId, reason })
  if (outcome === 'no-such-clinic') {
    return data({ result: submission.reply({ fieldErrors: { clinicId: ['That clinic does not exist'] } }) }, { status: 400 })
  }
  const cookie = await sealSession(context.env, { ...context.session!, cid: clinicId })
  throw redirect(safeRedirect(submission.value.redirectTo, '/'), { headers: { 'Set-Cookie': sessionSetCookie(context.env, cookie) } })
}

export default function Clinics() {
  const { clinics, currentId } = useLoaderData<typeof loader>()
  const actionData = useActionData<typeof action>()
  const [form, fields] = useForm({
    id: 'switch-clinic',
    lastResult: actionData?.result,
    constraint: getZodConstraint(SwitchClinicSchema),
    onValidate: ({ formData }) => parseWithZod(formData, { schema: SwitchClinicSchema }),
    shouldRevalidate: 'onInput',
    defaultValue: { clinicId: currentId ?? '' },
  })
  return (
    <main className="mx-auto max-w-xl px-6 py-10">
      <h1 className="text-2xl font-semibold tracking-tight">Work in a clinic</h1>
      <p className="mt-2 text-slate-600">
        Everything you see after switching is that clinic&apos;s data. The switch and its reason are recorded in the clinic&apos;s audit trail.
      </p>
      <ErrorSummary form={form} />
      <Form method="post" {...getFormProps(form)} className="mt-6 space-y-4 rounded-lg border border-slate-200 bg-white p-5">
        <SelectField
          label="Clinic"
          selectProps={getSelectProps(fields.clinicId)}
          options={[['', 'Choose a clinic'], ...clinics.map((c) => [c.id, c.name] as const)]}
          errors={fields.clinicId.errors}
        />
        <Field label="Reason" inputProps={getInputProps(fields.reason, { type: 'text' })} errors={fields.reason.errors} />
        <FieldError id={form.errorId} errors={form.errors} />
        <Button type="submit" variant="primary" size="lg">
          Switch clinic
        </Button>
      </Form>
    </main>
  )
}

export function ErrorBoundary() {
  return <GeneralErrorBoundary />
}
