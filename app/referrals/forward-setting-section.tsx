/** The clinic settings page's section: whether other IntakePilot clinics may forward referrals here. */
import { getFormProps, getInputProps, useForm, type SubmissionResult } from '@conform-to/react'
import { Form } from '@remix-run/react'
import { ErrorSummary, FieldError } from '~/components/forms'
import { Button } from '~/components/ui/button'
import { FORWARDS_INTENT } from './forward-setting'

export function AcceptsForwardsSection({ accepts, saved, lastResult }: { accepts: boolean; saved: boolean; lastResult?: SubmissionResult<string[]> }) {
  const [form, fields] = useForm<{ acceptsForwards: string }>({ id: FORWARDS_INTENT, lastResult, defaultValue: { acceptsForwards: accepts ? 'on' : '' } })
  const box = fields.acceptsForwards
  return (
    <section aria-labelledby="forwards-heading" className="rounded-lg border border-slate-200 bg-white p-4">
      <h2 id="forwards-heading" className="text-lg font-semibold">
        Forwarded referrals
      </h2>
      <p className="mt-1 text-sm text-slate-600">
        When this clinic accepts them, staff of other IntakePilot clinics can forward a referral here: it arrives in your queue as a new referral, with the
        reason they gave. They see only this clinic&apos;s name, never your referrals.
      </p>
      {saved && !lastResult ? (
        <p role="status" className="mt-3 rounded-md border border-emerald-300 bg-emerald-50 px-3 py-2 text-sm text-emerald-900">
          Saved.
        </p>
      ) : null}
      <ErrorSummary form={form} />
      <Form method="post" {...getFormProps(form)} className="mt-4 space-y-4">
        <input type="hidden" name="intent" value={FORWARDS_INTENT} />
        <div className="flex items-start gap-2">
          <input {...getInputProps(box, { type: 'checkbox', value: 'on' })} className="mt-1 size-4" />
          <label htmlFor={box.id} className="text-sm">
            Accept referrals forwarded from other clinics
          </label>
        </div>
        <FieldError id={box.errorId} errors={box.errors} />
        <Button type="submit" variant="primary">
          Save
        </Button>
      </Form>
    </section>
  )
}
