import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from '@remix-run/cloudflare'
import { data } from '@remix-run/cloudflare'
import { getFormProps, getSelectProps, getTextareaProps, useForm, type SubmissionResult } from '@conform-to/react'
import { Form, Link, useActionData, useLoaderData, useNavigation, type ShouldRevalidateFunction } from '@remix-run/react'
import { refusePhi, requireClinic, requirePhiId, requirePhiPermission, requireUser } from '~/auth/guards.server'
import { GeneralErrorBoundary } from '~/components/error-boundary'
import { ErrorSummary, FieldError } from '~/components/forms'
import { Button } from '~/components/ui/button'
import { SelectField, TextareaField } from '~/components/ui/field'
import { STATUS_LABELS } from '~/referrals/referral-badges'
import { FORWARD_REASON_MAX, FORWARDABLE } from '~/referrals/forward'
import { ForwardSchema } from '~/referrals/forward-schema'
import { forwardPageData, forwardReferral } from '~/referrals/forward.server'
import { parseForm } from '~/utils/form.server'

export const meta: MetaFunction = () => [{ title: 'Forward a referral · IntakePilot' }]
/** The action opens the referral's PHI (to seal it for the other clinic). */
export const handle = { phi: true }

/**
 * The referral's reference and status, and the clinics it can go to. No PHI is shown here, so
 * opening the page is not recorded as an access; a refusal is (decision 013), as an attempt to
 * forward: another clinic's or a missing referral is a recorded 404, like the action's.
 */
export async function loader({ request, params, context }: LoaderFunctionArgs) {
  const user = requireUser(request, context)
  const attempt = { action: 'referral.forward', entityId: params.id } as const
  await requirePhiPermission(context, user, 'forward:referral:any', attempt)
  requireClinic(user)
  const id = await requirePhiId(context, params.id, attempt)
  const found = await context.db.tenant((tx) => forwardPageData(tx, id))
  if (!found) return refusePhi(context, attempt, 404)
  return { referral: { ...found, forwardable: FORWARDABLE.includes(found.status) } }
}

type Answer =
  | { ok: true; clinicName: string; referenceNumber: string; notCarried: string[]; result?: undefined; message?: undefined }
  | { ok: false; message: string | null; result: SubmissionResult<string[]> }

export async function action({ request, params, context }: ActionFunctionArgs) {
  const user = requireUser(request, context)
  await requirePhiPermission(context, user, 'forward:referral:any', { action: 'referral.forward', entityId: params.id })
  const clinicId = requireClinic(user)
  const submission = parseForm(await request.formData(), ForwardSchema)
  if (submission.status !== 'success') return answer({ ok: false, message: null, result: submission.reply() }, 400)
  const done = await forwardReferral(context, user, clinicId, { referralId: params.id ?? '', ...submission.value })
  switch (done.outcome) {
    case 'forwarded':
      return answer({ ok: true, clinicName: done.clinicName, referenceNumber: done.referenceNumber, notCarried: done.notCarried })
    case 'not-found':
      throw new Response('Not found', { status: 404 })
    case 'not-accepting': {
      const message = 'That clinic does not accept forwarded referrals. Choose another.'
      return answer({ ok: false, message: null, result: submission.reply({ fieldErrors: { toClinic: [message] } }) }, 400)
    }
    case 'conflict':
      return answer(
        {
          ok: false,
          message: 'Someone else changed this referral meanwhile. The page now shows the latest; check it and try again.',
          result: submission.reply(),
        },
        409,
      )
    case 'bad-move':
      return answer({ ok: false, message: 'This referral can no longer be forwarded from its current status.', result: submission.reply() }, 400)
    case 'stale-form':
      return answer({ ok: false, message: 'The receiving clinic changed its form just now. Send it again.', result: submission.reply() }, 409)
  }
}

const answer = (body: Answer, status = 200) => data(body, { status })

// A 409 must reload the page's version, or every retry conflicts again.
export const shouldRevalidate: ShouldRevalidateFunction = ({ actionStatus, defaultShouldRevalidate }) => actionStatus === 409 || defaultShouldRevalidate

export default function ForwardReferral() {
  const { referral } = useLoaderData<typeof loader>()
  const answered = useActionData<typeof action>()
  const sending = useNavigation().state === 'submitting'
  const [form, fields] = useForm<{ toClinic: string; reason: string; version: string }>({
    id: 'forward',
    lastResult: answered && !answered.ok ? answered.result : undefined,
    shouldValidate: 'onSubmit',
  })
  const back = `/referrals/${referral.id}`
  return (
    <main className="mx-auto max-w-2xl px-4 py-8 sm:px-6">
      <p className="text-sm">
        <Link to={back} className="text-brand-700 underline">
          ← Referral <span className="font-mono">{referral.referenceNumber}</span>
        </Link>
      </p>
      <h1 className="mt-2 text-2xl font-semibold tracking-tight">Forward to another clinic</h1>
      {answered?.ok ? (
        <div role="status" className="mt-6 rounded-lg border border-emerald-300 bg-emerald-50 p-4 text-emerald-900" data-testid="forward-done">
          <p className="font-semibold">Forwarded to {answered.clinicName}.</p>
          <p className="mt-1">
            Their reference is <span className="font-mono font-semibold">{answered.referenceNumber}</span>. This referral is now closed here, with the status
            “Forwarded”; the referrer sees where it went.
          </p>
          {answered.notCarried.length ? (
            <p className="mt-2">
              Their form has no place for these answers, which stay only here: {answered.notCarried.join(', ')}. Send them to {answered.clinicName} another way
              if they need them.
            </p>
          ) : null}
          <p className="mt-3">
            <Link to={back} className="text-brand-700 underline">
              Back to the referral
            </Link>
          </p>
        </div>
      ) : !referral.forwardable ? (
        <p className="mt-6 rounded-md border border-slate-300 bg-slate-50 px-3 py-2 text-sm" data-testid="not-forwardable">
          {referral.forwardedToName
            ? `This referral was already forwarded to ${referral.forwardedToName}.`
            : `A referral that is “${STATUS_LABELS[referral.status]}” cannot be forwarded: only one that is not yet booked or closed.`}
        </p>
      ) : referral.targets.length === 0 ? (
        <p className="mt-6 rounded-md border border-slate-300 bg-slate-50 px-3 py-2 text-sm" data-testid="no-targets">
          No other clinic accepts forwarded referrals yet. A clinic’s admin turns it on for their clinic, under Clinic settings → Forwarded referrals (“Accept
          referrals forwarded from other clinics”).
        </p>
      ) : (
        <>
          <p className="mt-2 text-slate-600">
            The receiving clinic gets a new referral with the patient’s information and the reason you give, and works it from its own queue. This referral is
            closed here with the status “Forwarded”. Its documents go with it, and stay here too.
          </p>
          {answered && !answered.ok && answered.message ? (
            <p role="alert" className="mt-4 rounded-md border border-red-300 bg-red-50 px-3 py-2 text-sm text-red-900">
              {answered.message}
            </p>
          ) : null}
          <ErrorSummary form={form} />
          <Form method="post" {...getFormProps(form)} className="mt-6 space-y-4 rounded-lg border border-slate-200 bg-white p-4">
            <input type="hidden" name="version" value={referral.version} />
            <SelectField label="Clinic" errors={fields.toClinic.errors} selectProps={{ ...getSelectProps(fields.toClinic), defaultValue: '' }}>
              <option value="" disabled>
                Choose a clinic
              </option>
              {referral.targets.map((t) => (
                <option key={t.id} value={t.id}>
                  {t.name}
                </option>
              ))}
            </SelectField>
            <TextareaField
              label="Reason"
              errors={fields.reason.errors}
              help={
                <p id="forward-reason-help" className="mt-1 text-xs text-slate-600">
                  The referrer and the receiving clinic see this.
                </p>
              }
              textareaProps={{
                ...getTextareaProps(fields.reason),
                rows: 4,
                maxLength: FORWARD_REASON_MAX,
                'aria-describedby': [fields.reason.errors ? fields.reason.errorId : null, 'forward-reason-help'].filter(Boolean).join(' '),
              }}
            />
            <FieldError id={form.errorId} errors={form.errors} />
            <div className="flex flex-wrap gap-3">
              <Button type="submit" variant="primary" disabled={sending}>
                {sending ? 'Forwarding…' : 'Forward referral'}
              </Button>
              <Link to={back} className="self-center text-sm text-brand-700 underline">
                Cancel
              </Link>
            </div>
          </Form>
        </>
      )}
    </main>
  )
}

export function ErrorBoundary() {
  return <GeneralErrorBoundary />
}
