/** The clinic settings page's PHI retention: how long after a referral ends its patient information is kept. */
import { getFormProps, getInputProps, useForm, type SubmissionResult } from '@conform-to/react'
import { getZodConstraint, parseWithZod } from '@conform-to/zod/v4'
import { Form } from '@remix-run/react'
import { ErrorSummary } from '~/components/forms'
import { Button } from '~/components/ui/button'
import { Field } from '~/components/ui/field'
import { MAX_RETENTION_DAYS, MIN_RETENTION_DAYS, RETENTION_INTENT, RetentionSchema } from './retention'

export function RetentionSection({ days, saved, lastResult }: { days: number | null; saved: boolean; lastResult?: SubmissionResult<string[]> }) {
  const [form, fields] = useForm({
    id: RETENTION_INTENT,
    lastResult,
    defaultValue: { retentionDays: days === null ? '' : String(days) },
    constraint: getZodConstraint(RetentionSchema),
    onValidate: ({ formData }) => parseWithZod(formData, { schema: RetentionSchema }),
    shouldValidate: 'onBlur',
    shouldRevalidate: 'onInput',
  })
  return (
    <section aria-labelledby="retention-heading" className="rounded-lg border border-slate-200 bg-white p-4">
      <h2 id="retention-heading" className="text-lg font-semibold">
        Patient information retention
      </h2>
      <p className="mt-1 text-sm text-slate-600">
        {days === null
          ? 'Patient information is kept: no retention period is set.'
          : `Patient information is purged ${days} days after a referral is closed, declined, cancelled or forwarded.`}{' '}
        A purge removes the patient details, notes, messages, AI summaries and documents, and cannot be undone. The referral&apos;s reference, status and dates
        stay, and so does the audit trail, which is kept for 7 years.
      </p>
      {saved && !lastResult ? (
        <p role="status" className="mt-3 rounded-md border border-emerald-300 bg-emerald-50 px-3 py-2 text-sm text-emerald-900">
          Saved.
        </p>
      ) : null}
      <ErrorSummary form={form} />
      <Form method="post" {...getFormProps(form)} className="mt-4 space-y-4">
        <input type="hidden" name="intent" value={RETENTION_INTENT} />
        <Field
          label="Purge patient information after (days)"
          help={`From ${MIN_RETENTION_DAYS} to ${MAX_RETENTION_DAYS} days. Leave it empty to keep patient information.`}
          inputProps={{ ...getInputProps(fields.retentionDays, { type: 'number' }), inputMode: 'numeric' }}
          errors={fields.retentionDays.errors}
          controlClassName="sm:max-w-[10rem]"
        />
        <Button type="submit" variant="primary">
          Save retention
        </Button>
      </Form>
    </section>
  )
}
