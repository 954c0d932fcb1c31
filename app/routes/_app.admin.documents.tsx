import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from '@remix-run/cloudflare'
import { data, redirect } from '@remix-run/cloudflare'
import { getFormProps, getInputProps, useForm } from '@conform-to/react'
import { getZodConstraint, parseWithZod } from '@conform-to/zod/v4'
import { Form, useActionData, useLoaderData } from '@remix-run/react'
import { z } from 'zod'
import { requireClinic, requireCurrentClinic, requirePermission, requireUser } from '~/auth/guards.server'
import { GeneralErrorBoundary } from '~/components/error-boundary'
import { ErrorSummary, FieldError } from '~/components/forms'
import { Button } from '~/components/ui/button'
import { Input } from '~/components/ui/control'
import { documentLimits, MAX_FILE_BYTES, MAX_REFERRAL_BYTES, MB } from '~/documents/limits'
import { saveDocumentLimits } from '~/documents/settings.server'
import { parseForm } from '~/utils/form.server'

export const meta: MetaFunction = () => [{ title: 'Document limits · IntakePilot' }]

/** Whole megabytes, at most IntakePilot's own limits (a clinic may lower them, never raise them). */
const LimitsSchema = z
  .object({
    fileMb: z.coerce
      .number({ error: 'Enter a number of MB' })
      .int('Whole MB only')
      .min(1, 'At least 1 MB')
      .max(MAX_FILE_BYTES / MB, `At most ${MAX_FILE_BYTES / MB} MB`),
    referralMb: z.coerce
      .number({ error: 'Enter a number of MB' })
      .int('Whole MB only')
      .min(1, 'At least 1 MB')
      .max(MAX_REFERRAL_BYTES / MB, `At most ${MAX_REFERRAL_BYTES / MB} MB`),
  })
  .refine((v) => v.referralMb >= v.fileMb, { path: ['referralMb'], message: 'A referral must take at least one file of the largest size' })

export async function loader({ request, context }: LoaderFunctionArgs) {
  const user = requireUser(request, context)
  requirePermission(user, 'manage:user:any')
  const limits = documentLimits(requireCurrentClinic(context).settings)
  return { fileMb: limits.fileBytes / MB, referralMb: limits.referralBytes / MB, saved: new URL(request.url).searchParams.has('saved') }
}

export async function action({ request, context }: ActionFunctionArgs) {
  const user = requireUser(request, context)
  requirePermission(user, 'manage:user:any')
  const clinicId = requireClinic(user)
  const submission = parseForm(await request.formData(), LimitsSchema)
  if (submission.status !== 'success') return data({ result: submission.reply() }, { status: 400 })
  const { fileMb, referralMb } = submission.value
  const saved = await context.db.tenant((tx) => saveDocumentLimits(tx, clinicId, { fileBytes: fileMb * MB, referralBytes: referralMb * MB }))
  // Never a "Saved." for what was not: the clinic's own admins set its limits.
  if (!saved) throw new Response("Only this clinic's own administrators can change its document limits. Nothing was changed.", { status: 403 })
  throw redirect('/admin/documents?saved=1')
}

export default function DocumentLimitsPage() {
  const current = useLoaderData<typeof loader>()
  const actionData = useActionData<typeof action>()
  const [form, fields] = useForm({
    lastResult: actionData?.result,
    defaultValue: { fileMb: String(current.fileMb), referralMb: String(current.referralMb) },
    constraint: getZodConstraint(LimitsSchema),
    onValidate: ({ formData }) => parseWithZod(formData, { schema: LimitsSchema }),
    shouldRevalidate: 'onInput',
  })
  return (
    <main className="mx-auto max-w-2xl px-4 py-8 sm:px-6">
      <h1 className="text-2xl font-semibold tracking-tight">Document limits</h1>
      <p className="mt-2 text-slate-600">
        How large the documents attached to a referral may be. IntakePilot takes at most {MAX_FILE_BYTES / MB} MB a file and {MAX_REFERRAL_BYTES / MB} MB a
        referral; the clinic may take less.
      </p>
      {current.saved && !actionData ? (
        <p role="status" className="mt-4 rounded-md border border-emerald-300 bg-emerald-50 px-3 py-2 text-sm text-emerald-900">
          Saved.
        </p>
      ) : null}
      <ErrorSummary form={form} />
      <Form method="post" {...getFormProps(form)} className="mt-6 space-y-4 rounded-lg border border-slate-200 bg-white p-4">
        <div>
          <label htmlFor={fields.fileMb.id} className="block text-sm font-medium">
            Largest file (MB)
          </label>
          <Input {...getInputProps(fields.fileMb, { type: 'number' })} className="mt-1 block w-32" />
          <FieldError id={fields.fileMb.errorId} errors={fields.fileMb.errors} />
        </div>
        <div>
          <label htmlFor={fields.referralMb.id} className="block text-sm font-medium">
            All of a referral&apos;s documents together (MB)
          </label>
          <Input {...getInputProps(fields.referralMb, { type: 'number' })} className="mt-1 block w-32" />
          <FieldError id={fields.referralMb.errorId} errors={fields.referralMb.errors} />
        </div>
        <FieldError id={form.errorId} errors={form.errors} />
        <Button type="submit" variant="primary">
          Save
        </Button>
      </Form>
    </main>
  )
}

export function ErrorBoundary() {
  return <GeneralErrorBoundary />
}
