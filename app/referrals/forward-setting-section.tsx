/** The clinic settings page's section: whether other IntakePilot clinics may forward referrals here. */
import { getFormProps, getInputProps, useForm, type SubmissionResult } from '@conform-to/react'
import { Form } from '@remix-run/react'
import { SettingsSection } from '~/clinic/settings-section'
import { FieldError } from '~/components/forms'
import { Button } from '~/components/ui/button'
import { FORWARDS_INTENT } from './forward-setting'

export function AcceptsForwardsSection({ accepts, saved, lastResult }: { accepts: boolean; saved: boolean; lastResult?: SubmissionResult<string[]> }) {
  const [form, fields] = useForm<{ acceptsForwards: string }>({ id: FORWARDS_INTENT, lastResult, defaultValue: { acceptsForwards: accepts ? 'on' : '' } })
  const box = fields.acceptsForwards
  return (
    <SettingsSection
      intent={FORWARDS_INTENT}
      title="Forwarded referrals"
      saved={saved && !lastResult}
      form={form}
      description={
        <>
          When this clinic accepts them, staff of other IntakePilot clinics can forward a referral here: it arrives in your queue as a new referral, with the
          reason they gave and its documents. They see only this clinic&apos;s name, never your referrals.
        </>
      }
    >
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
    </SettingsSection>
  )
}
