import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from '@remix-run/cloudflare'
import { data, redirect } from '@remix-run/cloudflare'
import { getFormProps, getInputProps, useForm } from '@conform-to/react'
import { getZodConstraint, parseWithZod } from '@conform-to/zod/v4'
import { Form, Link, useActionData, useLoaderData, useNavigation, useSearchParams } from '@remix-run/react'
import { requireClinic, requirePermission, requireUser } from '~/auth/guards.server'
import { GeneralErrorBoundary } from '~/components/error-boundary'
import { FieldError } from '~/components/forms'
import { Button } from '~/components/ui/button'
import { Field } from '~/components/ui/field'
import { EMPTY_PROFILE, ReferrerProfileSchema } from '~/intake/referrer-profile'
import { readReferrerProfile, saveReferrerProfile } from '~/intake/referrer-profile.server'
import { parseForm } from '~/utils/form.server'

export const meta: MetaFunction = () => [{ title: 'Your profile · IntakePilot' }]

export async function loader({ request, context }: LoaderFunctionArgs) {
  const user = requireUser(request, context)
  requirePermission(user, 'create:referral:own')
  const profile = await context.db.tenant((tx) => readReferrerProfile(tx, user.id))
  return { profile: profile ?? EMPTY_PROFILE }
}

export async function action({ request, context }: ActionFunctionArgs) {
  const user = requireUser(request, context)
  requirePermission(user, 'create:referral:own')
  const clinicId = requireClinic(user)
  const submission = parseForm(await request.formData(), ReferrerProfileSchema)
  if (submission.status !== 'success') return data({ result: submission.reply() }, { status: 400 })
  await context.db.tenant((tx) => saveReferrerProfile(tx, { clinicId, userId: user.id }, submission.value))
  throw redirect('/profile?saved=1')
}

const PARTS = [
  { name: 'clinicianName', label: 'Your name, as on a referral', autoComplete: 'name', placeholder: 'e.g. Dr. Amara Okafor' },
  { name: 'practice', label: 'Practice', autoComplete: 'organization', placeholder: 'e.g. Maple Family Health Team' },
  { name: 'phone', label: 'Phone', autoComplete: 'tel', type: 'tel' },
  { name: 'fax', label: 'Fax', autoComplete: 'off', type: 'tel' },
  { name: 'billingNumber', label: 'Billing number', autoComplete: 'off' },
] as const

export default function Profile() {
  const { profile } = useLoaderData<typeof loader>()
  const actionData = useActionData<typeof action>()
  const navigation = useNavigation()
  const [params] = useSearchParams()
  const [form, fields] = useForm({
    id: 'referrer-profile',
    lastResult: actionData?.result,
    defaultValue: profile,
    constraint: getZodConstraint(ReferrerProfileSchema),
    onValidate: ({ formData }) => parseWithZod(formData, { schema: ReferrerProfileSchema }),
    shouldValidate: 'onBlur',
    shouldRevalidate: 'onInput',
  })
  // "Saved." only for the save just made: never next to an error of a later attempt.
  const saved = params.get('saved') === '1' && !actionData && navigation.state === 'idle'
  return (
    <main className="mx-auto max-w-2xl px-4 py-8 sm:px-6">
      <h1 className="text-2xl font-semibold tracking-tight">Your profile</h1>
      <p className="mt-2 text-slate-600">
        What you enter here fills the referring clinician&apos;s part of every{' '}
        <Link to="/referrals/new" className="text-brand-700 underline">
          new referral
        </Link>
        . It is about you, not your patients, and only you see it.
      </p>
      {saved ? (
        <p role="status" className="mt-4 rounded-md border border-emerald-300 bg-emerald-50 px-3 py-2 text-sm text-emerald-900">
          Saved.
        </p>
      ) : null}
      <Form method="post" {...getFormProps(form)} className="mt-6 space-y-4 rounded-lg border border-slate-200 bg-white p-5 shadow-sm">
        {PARTS.map((part) => {
          const meta = fields[part.name]
          return (
            <Field
              key={part.name}
              label={
                <>
                  {part.label} <span className="font-normal text-slate-600">(optional)</span>
                </>
              }
              inputProps={{
                ...getInputProps(meta, { type: 'type' in part ? part.type : 'text' }),
                autoComplete: part.autoComplete,
                placeholder: 'placeholder' in part ? part.placeholder : undefined,
              }}
              errors={meta.errors}
            />
          )
        })}
        <FieldError id={form.errorId} errors={form.errors} />
        <Button type="submit" variant="primary" disabled={navigation.state === 'submitting'}>
          Save profile
        </Button>
      </Form>
    </main>
  )
}

export function ErrorBoundary() {
  return <GeneralErrorBoundary />
}
