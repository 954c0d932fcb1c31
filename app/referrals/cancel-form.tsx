/**
 * The sender's cancel, on the referral page as the referrer sees it (docs/decisions/060-sender-cancels.md):
 * a disclosure (works without JavaScript) holding a small form that asks for the reason the
 * clinic reads and is itself the confirmation. A refused post opens it again, the error at its field.
 */
import { getFormProps, getTextareaProps, useForm } from '@conform-to/react'
import { Form, useActionData, useNavigation } from '@remix-run/react'
import { FieldError } from '~/components/forms'
import { Button } from '~/components/ui/button'
import { TextareaField } from '~/components/ui/field'
import type { WorkAnswer } from './work-forms'
import type { WorkFields } from './work-schema'

export function CancelForm({ version }: { version: number }) {
  const answer = useActionData<WorkAnswer>()
  const busy = useNavigation().state !== 'idle'
  const failed = answer?.intent === 'cancel' && !answer.ok
  const [form, fields] = useForm<WorkFields>({ id: 'work-cancel', lastResult: answer?.intent === 'cancel' ? answer.result : undefined })
  const explainId = `${form.id}-explain`
  return (
    <details open={failed || undefined} className="rounded-lg border border-slate-200 bg-white p-4">
      <summary className="cursor-pointer text-sm font-medium text-red-800">Cancel referral…</summary>
      <Form method="post" {...getFormProps(form)} aria-labelledby={`${form.id}-title`} aria-describedby={explainId} className="mt-3 space-y-3">
        <h2 id={`${form.id}-title`} className="font-semibold">
          Cancel this referral?
        </h2>
        <p id={explainId} className="text-sm text-slate-700">
          The clinic stops working on it and reads your reason. Only the clinic can reopen it.
        </p>
        <input type="hidden" name="intent" value="cancel" />
        {/* Not conform's: after a conflict the page reloads, and the next try must carry the new version. */}
        <input type="hidden" name="version" value={version} />
        <TextareaField
          label="Reason (the clinic sees it)"
          textareaProps={{ ...getTextareaProps(fields.reason), rows: 3, maxLength: 2000 }}
          errors={fields.reason.errors}
          controlClassName="text-sm"
        />
        <FieldError id={fields.version.errorId} errors={fields.version.errors} />
        <FieldError id={form.errorId} errors={form.errors} />
        <Button type="submit" variant="primary" disabled={busy}>
          Cancel referral
        </Button>
      </Form>
    </details>
  )
}
