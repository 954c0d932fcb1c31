/** The clinic settings page's turnaround targets: what the Turnaround page and the queue's overdue marker measure against. */
import { getFormProps, getInputProps, useForm, type SubmissionResult } from '@conform-to/react'
import { getZodConstraint, parseWithZod } from '@conform-to/zod/v4'
import { Form, Link } from '@remix-run/react'
import { SettingsSection } from '~/clinic/settings-section'
import { Button } from '~/components/ui/button'
import { Field } from '~/components/ui/field'
import { referralPriorities } from '~/db/enums'
import { TARGETS_INTENT, TargetsSchema } from './targets'
import { PRIORITY_LABELS } from './turnaround'

export function TargetsSection({ current, saved, lastResult }: { current: Record<string, string>; saved: boolean; lastResult?: SubmissionResult<string[]> }) {
  const [form, fields] = useForm({
    id: TARGETS_INTENT,
    lastResult,
    defaultValue: current,
    constraint: getZodConstraint(TargetsSchema),
    onValidate: ({ formData }) => parseWithZod(formData, { schema: TargetsSchema }),
    shouldValidate: 'onBlur',
    shouldRevalidate: 'onInput',
  })
  return (
    <SettingsSection
      intent={TARGETS_INTENT}
      title="Turnaround targets"
      saved={saved && !lastResult}
      form={form}
      description={
        <>
          How soon a referral should be triaged and booked, from when it was received, by priority. The{' '}
          <Link to="/turnaround" className="text-sky-800 underline">
            Turnaround
          </Link>{' '}
          page measures against these, and the queue marks a referral overdue once its triage target has passed.
        </>
      }
    >
      <Form method="post" {...getFormProps(form)} className="mt-4 space-y-4">
        <input type="hidden" name="intent" value={TARGETS_INTENT} />
        {(['triage', 'booking'] as const).map((step) => (
          <fieldset key={step} className="grid gap-3 sm:grid-cols-3">
            <legend className="mb-2 text-sm font-semibold">{step === 'triage' ? 'Time to triage (hours)' : 'Time to booking (days)'}</legend>
            {referralPriorities.map((p) => {
              const field = fields[`${step}_${p}`]!
              return (
                <Field
                  key={p}
                  label={PRIORITY_LABELS[p]}
                  inputProps={{ ...getInputProps(field, { type: 'number' }), inputMode: 'numeric' }}
                  errors={field.errors}
                  controlClassName="sm:max-w-[10rem]"
                />
              )
            })}
          </fieldset>
        ))}
        <Button type="submit" variant="primary">
          Save targets
        </Button>
      </Form>
    </SettingsSection>
  )
}
