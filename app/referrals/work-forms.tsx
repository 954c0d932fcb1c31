/**
 * The referral page's work forms. Each posts to the page action with its `intent`; the action
 * validates with work-schema.ts through conform and answers with each form's own result, so
 * errors show next to the field they are about, with JavaScript or without.
 */
import { getFormProps, getInputProps, getTextareaProps, useForm, type SubmissionResult } from '@conform-to/react'
import { Form, useActionData, useNavigation } from '@remix-run/react'
import { FieldError } from '~/components/forms'
import { Button } from '~/components/ui/button'
import { Input, Select, Textarea } from '~/components/ui/control'
import { STATUS_LABELS } from './referral-badges'
import type { ReferralStatus } from '~/db/enums'
import type { WorkFields, WorkIntent } from './work-schema'
import { NEXT_STATUSES } from './workflow'

/** What the page action answers: a message for the page, and the form's own result. */
export type WorkAnswer = { ok: boolean; message: string | null; intent: WorkIntent | null; result: SubmissionResult<string[]> | null }

function useWorkForm(intent: WorkIntent) {
  const answer = useActionData<WorkAnswer>()
  return useForm<WorkFields>({ id: `work-${intent}`, lastResult: answer?.intent === intent ? answer.result : undefined })
}

const invalid = (errors?: string[]) => (errors?.length ? true : undefined)

export function StatusForm({ status, version }: { status: ReferralStatus; version: number }) {
  const [form, fields] = useWorkForm('status')
  const busy = useNavigation().state !== 'idle'
  return (
    <Form method="post" {...getFormProps(form)} className="space-y-2">
      <input type="hidden" name="intent" value="status" />
      {/* Not conform's: after a conflict the page reloads, and the next try must carry the new version. */}
      <input type="hidden" name="version" value={version} />
      <label htmlFor={fields.to.id} className="block text-sm font-medium">
        Move to
      </label>
      <div className="flex gap-2">
        <Select
          id={fields.to.id}
          name={fields.to.name}
          aria-invalid={invalid(fields.to.errors)}
          aria-describedby={fields.to.errors ? fields.to.errorId : undefined}
          className="grow"
        >
          {NEXT_STATUSES[status].map((s) => (
            <option key={s} value={s}>
              {STATUS_LABELS[s]}
            </option>
          ))}
        </Select>
        <Button type="submit" variant="primary" disabled={busy}>
          Change status
        </Button>
      </div>
      <FieldError id={fields.to.errorId} errors={fields.to.errors} />
      <label htmlFor={fields.reason.id} className="block text-xs text-slate-600">
        Reason (required to decline or cancel; the referrer sees it)
      </label>
      <Textarea {...getTextareaProps(fields.reason)} rows={2} maxLength={2000} className="block w-full text-sm" />
      <FieldError id={fields.reason.errorId} errors={fields.reason.errors} />
      <label htmlFor={fields.scheduledFor.id} className="block text-xs text-slate-600">
        Appointment date (required to schedule)
      </label>
      <Input {...getInputProps(fields.scheduledFor, { type: 'date' })} className="block text-sm" />
      <FieldError id={fields.scheduledFor.errorId} errors={fields.scheduledFor.errors} />
      <FieldError id={fields.version.errorId} errors={fields.version.errors} />
      <FieldError id={form.errorId} errors={form.errors} />
    </Form>
  )
}

export function AssignForm({
  assignedTo,
  version,
  assignees,
}: {
  assignedTo: string | null
  version: number
  assignees: { id: string; displayName: string }[]
}) {
  const [form, fields] = useWorkForm('assign')
  const busy = useNavigation().state !== 'idle'
  return (
    <Form method="post" {...getFormProps(form)} className="space-y-2">
      <input type="hidden" name="intent" value="assign" />
      <input type="hidden" name="version" value={version} />
      <label htmlFor={fields.assignee.id} className="block text-sm font-medium">
        Assigned to
      </label>
      <div className="flex gap-2">
        <Select
          id={fields.assignee.id}
          name={fields.assignee.name}
          defaultValue={assignedTo ?? ''}
          key={assignedTo ?? 'none'}
          aria-invalid={invalid(fields.assignee.errors)}
          aria-describedby={fields.assignee.errors ? fields.assignee.errorId : undefined}
          className="grow"
        >
          <option value="">Unassigned</option>
          {assignees.map((p) => (
            <option key={p.id} value={p.id}>
              {p.displayName}
            </option>
          ))}
        </Select>
        <Button type="submit" disabled={busy}>
          Assign
        </Button>
      </div>
      <FieldError id={fields.assignee.errorId} errors={fields.assignee.errors} />
      <FieldError id={fields.version.errorId} errors={fields.version.errors} />
      <FieldError id={form.errorId} errors={form.errors} />
    </Form>
  )
}

export function TextForm({ intent, label, button, help }: { intent: 'note' | 'message' | 'reply'; label: string; button: string; help?: string }) {
  const [form, fields] = useWorkForm(intent)
  const helpId = `${fields.body.id}-help`
  return (
    <Form method="post" {...getFormProps(form)} className="space-y-2">
      <input type="hidden" name="intent" value={intent} />
      <label htmlFor={fields.body.id} className="block text-sm font-medium">
        {label}
      </label>
      <Textarea
        {...getTextareaProps(fields.body, { ariaDescribedBy: help ? helpId : undefined })}
        rows={3}
        required
        maxLength={4000}
        className="block w-full"
      />
      {help ? (
        <p id={helpId} className="text-xs text-slate-500">
          {help}
        </p>
      ) : null}
      <FieldError id={fields.body.errorId} errors={fields.body.errors} />
      <FieldError id={form.errorId} errors={form.errors} />
      <Button type="submit">{button}</Button>
    </Form>
  )
}
