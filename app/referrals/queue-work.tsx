/**
 * Work on the queue's selection: assign it, or move its status, and the report of what was done
 * to each referral (queue-work.server.ts does the work). A plain form: the row checkboxes belong
 * to it through their `form` attribute, so it works without JavaScript; with it, the bar says
 * how many are ticked.
 */
import { Form } from '@remix-run/react'
import { useEffect, useState } from 'react'
import { FieldError } from '~/components/forms'
import { Button } from '~/components/ui/button'
import { Input, Select } from '~/components/ui/control'
import { referralStatuses } from '~/db/enums'
import { WORK_FORM } from './queue-table'
import { STATUS_LABELS } from './referral-badges'
import { CANCEL_REASONS, DECLINE_REASONS } from './reason-codes'
import { NEEDS_DATE } from './workflow'

/** A booking needs its appointment: one referral at a time, on its page. */
const BULK_STATUSES = referralStatuses.filter((s) => !NEEDS_DATE.includes(s))

export type QueueWorkReport = {
  /** What was asked: "Assigned to Dana Lee", "Status changed to In review". */
  done: string
  results: { id: string; referenceNumber: string | null; ok: boolean; why: string | null }[]
}

export type QueueWorkErrors = Partial<Record<'selected' | 'assignee' | 'to' | 'reason' | 'reasonCode' | 'form', string[]>>

export function QueueWorkBar({ assignees, errors }: { assignees: { id: string; name: string }[]; errors?: QueueWorkErrors }) {
  const ticked = useTicked()
  const failed = !!errors && Object.values(errors).some((e) => e?.length)
  // Folded away on a phone, like the filters (open when it has something to say).
  return (
    <details className="mt-4 sm:[&::details-content]:[content-visibility:visible]" open={failed || undefined}>
      <summary className="cursor-pointer rounded-lg border border-slate-200 bg-white px-4 py-3 text-sm font-medium sm:hidden">
        Work on the selection{ticked ? ` (${ticked} selected)` : ''}
      </summary>
      <Form
        method="post"
        id={WORK_FORM}
        aria-label="Work on the selected referrals"
        className="mt-2 rounded-lg border border-slate-200 bg-white p-3 text-sm sm:mt-0"
      >
        <div className="flex flex-wrap items-end gap-x-4 gap-y-2">
          <p className="w-full font-medium sm:w-auto sm:self-center" aria-live="polite" data-testid="selected-count">
            {ticked === null ? 'Tick referrals below, then:' : `${ticked} selected`}
          </p>
          <div className="flex flex-wrap items-end gap-2">
            <label htmlFor="bulk-assignee" className="block">
              <span className="block text-xs font-medium">Assign to</span>
              <Select
                id="bulk-assignee"
                name="assignee"
                defaultValue=""
                size="compact"
                className="mt-1 max-w-48"
                aria-describedby={errors?.assignee ? 'bulk-assignee-error' : undefined}
              >
                <option value="">Nobody (unassign)</option>
                {assignees.map((a) => (
                  <option key={a.id} value={a.id}>
                    {a.name}
                  </option>
                ))}
              </Select>
            </label>
            <Button type="submit" name="intent" value="bulk-assign">
              Assign selected
            </Button>
          </div>
          <div className="flex flex-wrap items-end gap-2">
            <label htmlFor="bulk-to" className="block">
              <span className="block text-xs font-medium">Status</span>
              <Select
                id="bulk-to"
                name="to"
                defaultValue=""
                size="compact"
                className="mt-1"
                aria-describedby={errors?.to ? 'bulk-to-error' : undefined}
                aria-invalid={errors?.to ? true : undefined}
              >
                <option value="">Choose a status</option>
                {BULK_STATUSES.map((s) => (
                  <option key={s} value={s}>
                    {STATUS_LABELS[s]}
                  </option>
                ))}
              </Select>
            </label>
            <label htmlFor="bulk-reason" className="block">
              <span className="block text-xs font-medium">Reason (decline, cancel)</span>
              <Input
                id="bulk-reason"
                name="reason"
                size="compact"
                className="mt-1 w-48"
                maxLength={2000}
                aria-describedby={errors?.reason ? 'bulk-reason-error' : undefined}
                aria-invalid={errors?.reason ? true : undefined}
              />
            </label>
            <label htmlFor="bulk-reason-code" className="block">
              <span className="block text-xs font-medium">Kind of reason (decline, cancel)</span>
              <Select
                id="bulk-reason-code"
                name="reasonCode"
                defaultValue=""
                size="compact"
                className="mt-1"
                aria-describedby={errors?.reasonCode ? 'bulk-reason-code-error' : undefined}
                aria-invalid={errors?.reasonCode ? true : undefined}
              >
                <option value="">Choose one</option>
                <optgroup label="Declining">
                  {Object.entries(DECLINE_REASONS).map(([code, label]) => (
                    <option key={code} value={code}>
                      {label}
                    </option>
                  ))}
                </optgroup>
                <optgroup label="Cancelling">
                  {Object.entries(CANCEL_REASONS).map(([code, label]) => (
                    <option key={code} value={code}>
                      {label}
                    </option>
                  ))}
                </optgroup>
              </Select>
            </label>
            <Button type="submit" name="intent" value="bulk-status">
              Change status
            </Button>
          </div>
        </div>
        <FieldError id="bulk-selected-error" errors={errors?.selected} />
        <FieldError id="bulk-assignee-error" errors={errors?.assignee} />
        <FieldError id="bulk-to-error" errors={errors?.to} />
        <FieldError id="bulk-reason-error" errors={errors?.reason} />
        <FieldError id="bulk-reason-code-error" errors={errors?.reasonCode} />
        <FieldError id="bulk-form-error" errors={errors?.form} />
      </Form>
    </details>
  )
}

/** How many row checkboxes are ticked; null before JavaScript runs (the server page cannot know). */
function useTicked() {
  const [ticked, setTicked] = useState<number | null>(null)
  useEffect(() => {
    const count = () => setTicked(document.querySelectorAll(`input[form="${WORK_FORM}"][data-select]:checked`).length)
    count()
    document.addEventListener('change', count)
    return () => document.removeEventListener('change', count)
  }, [])
  return ticked
}

/** Per referral: which were changed, and why each of the others was not. */
export function QueueWorkResults({ report }: { report: QueueWorkReport }) {
  const changed = report.results.filter((r) => r.ok).length
  const failed = report.results.length - changed
  return (
    <div
      role={failed ? 'alert' : 'status'}
      className={`mt-4 rounded-md border px-3 py-2 text-sm ${failed ? 'border-amber-300 bg-amber-50 text-amber-950' : 'border-emerald-300 bg-emerald-50 text-emerald-900'}`}
      data-testid="work-results"
    >
      <p className="font-medium">
        {report.done}: {changed} of {report.results.length} referral{report.results.length === 1 ? '' : 's'} changed
        {failed ? `, ${failed} not` : ''}.
      </p>
      <ul className="mt-1 list-disc pl-5">
        {report.results.map((r) => (
          <li key={r.id} data-testid="work-result" data-outcome={r.ok ? 'done' : 'refused'}>
            <span className="font-mono">{r.referenceNumber ?? 'A referral'}</span>: {r.ok ? 'done' : `not changed: ${r.why}`}
          </li>
        ))}
      </ul>
    </div>
  )
}
