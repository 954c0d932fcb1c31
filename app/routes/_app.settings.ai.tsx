import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from '@remix-run/cloudflare'
import { data, redirect } from '@remix-run/cloudflare'
import { getFormProps, getInputProps, useForm, type SubmissionResult } from '@conform-to/react'
import { getZodConstraint, parseWithZod } from '@conform-to/zod/v4'
import { Form, useActionData, useLoaderData } from '@remix-run/react'
import { z } from 'zod'
import { DEFAULT_AI_ENDPOINT, normalizeEndpoint } from '~/ai/endpoint'
import { aiEndpointFor, saveClinicAiEndpoint, saveMyAiEndpoint } from '~/ai/endpoint.server'
import { requireClinic, requireCurrentClinic, requirePermission, requireUser } from '~/auth/guards.server'
import { hasPermission } from '~/auth/permissions'
import { GeneralErrorBoundary } from '~/components/error-boundary'
import { ErrorSummary, FieldError } from '~/components/forms'
import { Button } from '~/components/ui/button'
import { Input } from '~/components/ui/control'
import { parseForm } from '~/utils/form.server'

export const meta: MetaFunction = () => [{ title: 'AI settings · IntakePilot' }]

const NOT_AN_ENDPOINT = 'Enter an http:// or https:// address, e.g. http://localhost:1234/v1'
/** Empty clears the setting (null): the clinic's, then LM Studio's default applies. */
const AiEndpointSchema = z.object({
  scope: z.enum(['me', 'clinic']).default('me'),
  endpoint: z
    .string()
    .trim()
    .max(200, NOT_AN_ENDPOINT)
    .optional()
    .refine((value) => !value || normalizeEndpoint(value), NOT_AN_ENDPOINT)
    .transform((value) => (value ? normalizeEndpoint(value) : null)),
})

export async function loader({ request, context }: LoaderFunctionArgs) {
  const user = requireUser(request, context)
  requirePermission(user, 'generate:summary:any')
  const clinic = requireCurrentClinic(context)
  return {
    current: aiEndpointFor(user, clinic.settings),
    clinicEndpoint: clinic.settings.localAiEndpoint ?? '',
    isAdmin: hasPermission(user, 'manage:user:any'),
  }
}

/** A staff member's own endpoint (kept with their user: the model runs on their machine) or, for admins, the clinic's. */
export async function action({ request, context }: ActionFunctionArgs) {
  const user = requireUser(request, context)
  requirePermission(user, 'generate:summary:any')
  const clinicId = requireClinic(user)
  const submission = parseForm(await request.formData(), AiEndpointSchema)
  if (submission.status !== 'success')
    return data({ scope: submission.payload.scope === 'clinic' ? 'clinic' : 'me', result: submission.reply() }, { status: 400 })
  const { scope, endpoint } = submission.value
  if (scope === 'clinic') {
    requirePermission(user, 'manage:user:any')
    await context.db.tenant((tx) => saveClinicAiEndpoint(tx, clinicId, endpoint))
    throw redirect('/settings/ai')
  }
  await context.db.tenant((tx) => saveMyAiEndpoint(tx, endpoint))
  throw redirect('/settings/ai')
}

export default function AiSettings() {
  const { current, clinicEndpoint, isAdmin } = useLoaderData<typeof loader>()
  const actionData = useActionData<typeof action>()
  const mine = useEndpointForm('me', actionData, current.source === 'you' ? current.endpoint : '')
  const clinic = useEndpointForm('clinic', actionData, clinicEndpoint)
  return (
    <main className="mx-auto max-w-2xl px-4 py-8 sm:px-6">
      <h1 className="text-2xl font-semibold tracking-tight">AI summaries</h1>
      <p className="mt-2 text-slate-600">
        Summaries are made by a model running on your own computer (LM Studio or another OpenAI-compatible server). Your browser sends the referral to it
        directly; patient information never goes to IntakePilot&apos;s servers or anyone else for this.
      </p>
      <p className="mt-4 text-sm">
        Now used:{' '}
        <span className="font-mono" data-testid="ai-endpoint">
          {current.endpoint}
        </span>{' '}
        ({current.source === 'you' ? 'your setting' : current.source === 'clinic' ? 'the clinic’s setting' : 'LM Studio’s default'})
      </p>
      <ErrorSummary form={mine.form} />
      <Form method="post" {...getFormProps(mine.form)} className="mt-6 space-y-2 rounded-lg border border-slate-200 bg-white p-4">
        <input type="hidden" name="scope" value="me" />
        <label htmlFor={mine.endpoint.id} className="block text-sm font-medium">
          Your model server
        </label>
        <Input {...getInputProps(mine.endpoint, { type: 'text' })} placeholder={DEFAULT_AI_ENDPOINT} className="block w-full font-mono text-sm" />
        <FieldError id={mine.endpoint.errorId} errors={mine.endpoint.errors} />
        <FieldError id={mine.form.errorId} errors={mine.form.errors} />
        <p className="text-xs text-slate-500">Kept with your account, wherever you sign in. Leave empty to use the clinic&apos;s setting.</p>
        <Button type="submit" variant="primary">
          Save mine
        </Button>
      </Form>
      {isAdmin ? (
        <>
          <ErrorSummary form={clinic.form} />
          <Form method="post" {...getFormProps(clinic.form)} className="mt-4 space-y-2 rounded-lg border border-slate-200 bg-white p-4">
            <input type="hidden" name="scope" value="clinic" />
            <label htmlFor={clinic.endpoint.id} className="block text-sm font-medium">
              The clinic&apos;s default model server
            </label>
            <Input {...getInputProps(clinic.endpoint, { type: 'text' })} placeholder={DEFAULT_AI_ENDPOINT} className="block w-full font-mono text-sm" />
            <FieldError id={clinic.endpoint.errorId} errors={clinic.endpoint.errors} />
            <FieldError id={clinic.form.errorId} errors={clinic.form.errors} />
            <Button type="submit">Save for the clinic</Button>
          </Form>
        </>
      ) : null}
    </main>
  )
}

/** One of the page's two endpoint forms; the action's answer goes to the form that was sent. */
function useEndpointForm(scope: 'me' | 'clinic', actionData: { scope: string; result: SubmissionResult<string[]> } | undefined, endpoint: string) {
  const [form, fields] = useForm({
    // The inputs' ids: `my-endpoint` and `clinic-endpoint`.
    id: scope === 'me' ? 'my' : 'clinic',
    lastResult: actionData?.scope === scope ? actionData.result : undefined,
    defaultValue: { endpoint },
    constraint: getZodConstraint(AiEndpointSchema),
    onValidate: ({ formData }) => parseWithZod(formData, { schema: AiEndpointSchema }),
    shouldRevalidate: 'onInput',
  })
  return { form, endpoint: fields.endpoint }
}

export function ErrorBoundary() {
  return <GeneralErrorBoundary />
}
