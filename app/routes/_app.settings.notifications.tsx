import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from '@remix-run/cloudflare'
import { data, redirect } from '@remix-run/cloudflare'
import { getFormProps, useForm } from '@conform-to/react'
import { parseWithZod } from '@conform-to/zod/v4'
import { Form, useActionData, useLoaderData } from '@remix-run/react'
import { z } from 'zod'
import { requireClinic, requireUser } from '~/auth/guards.server'
import { GeneralErrorBoundary } from '~/components/error-boundary'
import { ErrorSummary } from '~/components/forms'
import { Button } from '~/components/ui/button'
import { EMAIL_KIND_LABELS, emailKinds, emailKindsFor, type EmailKind } from '~/db/email-kinds'
import { myEmailOff, saveMyEmailOff } from '~/notifications/email.server'
import { parseForm } from '~/utils/form.server'

export const meta: MetaFunction = () => [{ title: 'Email notifications · IntakePilot' }]

/** One checkbox per kind; a kind the user's role does not get is ignored. */
const PreferencesSchema = z.object(
  Object.fromEntries(emailKinds.map((kind) => [kind, z.boolean().default(false)])) as Record<EmailKind, z.ZodDefault<z.ZodBoolean>>,
)

export async function loader({ request, context }: LoaderFunctionArgs) {
  const user = requireUser(request, context)
  const kinds = emailKindsFor(user.role)
  const off = user.clinicId && kinds.length ? await context.db.tenant((tx) => myEmailOff(tx, user.id)) : []
  return {
    kinds: kinds.map((kind) => ({ kind, label: EMAIL_KIND_LABELS[kind], on: !off.includes(kind) })),
    saved: new URL(request.url).searchParams.has('saved'),
  }
}

export async function action({ request, context }: ActionFunctionArgs) {
  const user = requireUser(request, context)
  const clinicId = requireClinic(user)
  const submission = parseForm(await request.formData(), PreferencesSchema)
  if (submission.status !== 'success') return data({ result: submission.reply() }, { status: 400 })
  const off = emailKindsFor(user.role).filter((kind) => !submission.value[kind])
  await context.db.tenant((tx) => saveMyEmailOff(tx, context.audit, { id: user.id, clinicId }, off))
  throw redirect('/settings/notifications?saved')
}

export default function NotificationSettings() {
  const { kinds, saved } = useLoaderData<typeof loader>()
  const actionData = useActionData<typeof action>()
  const [form] = useForm({
    id: 'notifications',
    lastResult: actionData?.result,
    onValidate: ({ formData }) => parseWithZod(formData, { schema: PreferencesSchema }),
  })
  return (
    <main className="mx-auto max-w-2xl px-4 py-8 sm:px-6">
      <h1 className="text-2xl font-semibold tracking-tight">Email notifications</h1>
      <p className="mt-2 text-slate-600">
        Emails name the clinic, the referral&apos;s reference number and what happened, with a link to sign in. They never carry patient information.
      </p>
      {saved ? (
        <p role="status" className="mt-4 rounded-md bg-green-50 p-3 text-sm text-green-900">
          Saved.
        </p>
      ) : null}
      {kinds.length === 0 ? (
        <p className="mt-6">Your account gets no email notifications.</p>
      ) : (
        <>
          <ErrorSummary form={form} />
          <Form method="post" {...getFormProps(form)} className="mt-6 space-y-3 rounded-lg border border-slate-200 bg-white p-4">
            <fieldset className="space-y-3">
              <legend className="text-sm font-medium">Email me when</legend>
              {kinds.map(({ kind, label, on }) => (
                <div key={kind} className="flex items-start gap-2">
                  {/* Never narrower when its label wraps onto two lines (a phone). */}
                  <input type="checkbox" id={`email-${kind}`} name={kind} defaultChecked={on} className="mt-0.5 size-5 shrink-0" />
                  <label htmlFor={`email-${kind}`}>{label}</label>
                </div>
              ))}
            </fieldset>
            <Button type="submit" variant="primary">
              Save
            </Button>
          </Form>
        </>
      )}
    </main>
  )
}

export function ErrorBoundary() {
  return <GeneralErrorBoundary />
}
