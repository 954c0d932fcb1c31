/**
 * The referral page's work forms. Each posts to the page action with its `intent`; the action
 * validates with work-schema.ts through conform and answers with each form's own result, so
 * errors show next to the field they are about, with JavaScript or without.
 */
import { getFormProps, getTextareaProps, useForm, type SubmissionResult } from '@conform-to/react'
import { Form, useActionData, useNavigation } from '@remix-run/react'
import { FieldError } from '~/components/forms'
import { Button } from '~/components/ui/button'
import { Select, Textarea } from '~/components/ui/control'
import type { ReferralStatus } from '~/db/enums'
import type { WorkFields, WorkIntent } from './work-schema'

/** What the page action answers: a message for the page, and the form's own result. */
export type WorkAnswer = {
  ok: boolean
  message: string | null
  intent: WorkIntent | null
  result: SubmissionResult<string[]> | null
  /** A status post: the move it asked for (its small form stays open to show why it failed). */
  move?: ReferralStatus | null
}

function useWorkForm(intent: WorkIntent) {
  const answer = useActionData<WorkAnswer>()
  return useForm<WorkFields>({ id: `work-${intent}`, lastResult: answer?.intent === intent ? answer.result : undefined })
}

const invalid = (errors?: string[]) => (errors?.length ? true : undefined)

export function AssignForm({
  assignedTo,
  version,
  assignees,
  me,
}: {
  assignedTo: string | null
  version: number
  assignees: { id: string; displayName: string }[]
  /** The signed-in member, when they can be assigned: "Assign to me" is one press. */
  me: string | null
}) {
  const [form, fields] = useWorkForm('assign')
  const busy = useNavigation().state !== 'idle'
  return (
    <div>
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
            className="min-w-0 grow"
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
      {me && me !== assignedTo ? (
        // The same post as choosing oneself in the list above, in one press.
        <Form method="post" className="mt-2">
          <input type="hidden" name="intent" value="assign" />
          <input type="hidden" name="assignee" value={me} />
          <input type="hidden" name="version" value={version} />
          <Button type="submit" size="xs" disabled={busy}>
            Assign to me
          </Button>
        </Form>
      ) : null}
    </div>
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
