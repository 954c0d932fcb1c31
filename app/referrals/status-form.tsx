/**
 * The referral page's status panel: one button per move the workflow allows. A move that needs
 * nothing more goes at once; a decline or a cancel, and a booking, open a small form of their
 * own (`?move=declined`, a plain link, so it works without JavaScript) that asks only for what
 * that move needs and is itself the confirmation. Errors come back to that form, at the field.
 */
import { getFormProps, getInputProps, getSelectProps, getTextareaProps, useForm } from '@conform-to/react'
import { Form, Link, useActionData, useNavigation, useSearchParams } from '@remix-run/react'
import { useState } from 'react'
import { FieldError } from '~/components/forms'
import { Button, buttonClass } from '~/components/ui/button'
import { Input, Select, Textarea } from '~/components/ui/control'
import type { ReferralStatus } from '~/db/enums'
import { reasonCodesFor } from './reason-codes'
import { STATUS_LABELS } from './referral-badges'
import type { WorkAnswer } from './work-forms'
import type { WorkFields } from './work-schema'
import { canMove, moveLabel, moveStep, NEXT_STATUSES } from './workflow'

/** The address that opens a move's small form, and the one that closes it. */
export const moveUrl = (referralId: string, to?: ReferralStatus) => `/referrals/${referralId}${to ? `?move=${to}#work-status` : ''}`

export function StatusForm({ referralId, status, version }: { referralId: string; status: ReferralStatus; version: number }) {
  const answer = useActionData<WorkAnswer>()
  const [params] = useSearchParams()
  const busy = useNavigation().state !== 'idle'
  const moves = NEXT_STATUSES[status]
  // With JavaScript a move's link opens its form in place, without a navigation: one would
  // interrupt the reload that follows a move, and this page does not reload for its own query
  // (shouldRevalidate), so the next post would carry the old version. A new answer forgets it.
  const [choice, setChoice] = useState<{ to: ReferralStatus | 'none'; after: WorkAnswer | undefined }>()
  const picked = choice && choice.after === answer ? choice.to : undefined
  const pick = (to: ReferralStatus | 'none') => setChoice({ to, after: answer })
  // The small form that is open: the one picked, the one whose post just failed, or the one the address asks for.
  const failed = answer?.intent === 'status' && !answer.ok ? answer.move : null
  const wanted = (picked !== undefined ? (picked === 'none' ? null : picked) : (failed ?? params.get('move'))) as ReferralStatus | null
  const open = wanted && canMove(status, wanted) && moveStep(wanted) !== 'direct' ? wanted : null
  // A refused direct move (a forged or stale post) says why under the buttons.
  const directErrors = !open && answer?.intent === 'status' && !answer.ok ? Object.values(answer.result?.error ?? {}).flat() : []
  return (
    <section aria-labelledby="status-heading" className="space-y-2">
      <h2 id="status-heading" className="text-sm font-medium">
        Status: <span className="font-normal">{STATUS_LABELS[status]}</span>
      </h2>
      <Form method="post" action={moveUrl(referralId)} className="flex flex-wrap gap-2" aria-label="Change status">
        <input type="hidden" name="intent" value="status" />
        {/* Not conform's: after a conflict the page reloads, and the next try must carry the new version. */}
        <input type="hidden" name="version" value={version} />
        {moves.map((to) =>
          moveStep(to) === 'direct' ? (
            <Button key={to} type="submit" name="to" value={to} disabled={busy}>
              {moveLabel(status, to)}
            </Button>
          ) : (
            <Link
              key={to}
              to={moveUrl(referralId, to)}
              onClick={(event) => {
                event.preventDefault()
                pick(to)
              }}
              aria-current={open === to ? 'true' : undefined}
              className={buttonClass({ className: open === to ? 'ring-2 ring-brand-700' : undefined })}
            >
              {moveLabel(status, to)}…
            </Link>
          ),
        )}
      </Form>
      <FieldError id="status-direct-error" errors={directErrors.filter((e): e is string => !!e)} />
      {open ? <MoveForm key={`${open}-${version}`} referralId={referralId} to={open} version={version} onClose={() => pick('none')} /> : null}
    </section>
  )
}

const MOVE_FORMS = {
  declined: { title: 'Decline this referral?', explain: 'The referral closes and the referrer reads your reason.', confirm: 'Decline referral' },
  cancelled: { title: 'Cancel this referral?', explain: 'The referral closes and the referrer reads your reason.', confirm: 'Cancel referral' },
  scheduled: { title: 'Book the appointment', explain: 'The referrer sees the date and time.', confirm: 'Book appointment' },
} as const

function MoveForm({ referralId, to, version, onClose }: { referralId: string; to: ReferralStatus; version: number; onClose: () => void }) {
  const answer = useActionData<WorkAnswer>()
  const busy = useNavigation().state !== 'idle'
  const [form, fields] = useForm<WorkFields>({ id: 'work-status', lastResult: answer?.intent === 'status' && answer.move === to ? answer.result : undefined })
  const words = MOVE_FORMS[to as keyof typeof MOVE_FORMS] ?? { title: moveLabel(to, to), explain: '', confirm: moveLabel(to, to) }
  const step = moveStep(to)
  const explainId = `${form.id}-explain`
  return (
    <Form
      method="post"
      action={moveUrl(referralId)}
      {...getFormProps(form)}
      aria-labelledby={`${form.id}-title`}
      aria-describedby={explainId}
      className="space-y-3 rounded-md border border-slate-300 bg-slate-50 p-3"
    >
      <h3 id={`${form.id}-title`} className="font-semibold">
        {words.title}
      </h3>
      <p id={explainId} className="text-sm text-slate-700">
        {words.explain}
      </p>
      <input type="hidden" name="intent" value="status" />
      <input type="hidden" name="to" value={to} />
      <input type="hidden" name="version" value={version} />
      {step === 'confirm-with-reason' ? (
        <>
          <div>
            <label htmlFor={fields.reasonCode.id} className="block text-sm font-medium">
              Kind of reason
            </label>
            {/* eslint-disable-next-line jsx-a11y/no-autofocus -- the form opens because this field is what the move asks for */}
            <Select {...getSelectProps(fields.reasonCode)} autoFocus defaultValue={fields.reasonCode.initialValue ?? ''} className="mt-1 block text-sm">
              <option value="" disabled>
                Choose one
              </option>
              {Object.entries(reasonCodesFor(to) ?? {}).map(([code, label]) => (
                <option key={code} value={code}>
                  {label}
                </option>
              ))}
            </Select>
            <FieldError id={fields.reasonCode.errorId} errors={fields.reasonCode.errors} />
          </div>
          <div>
            <label htmlFor={fields.reason.id} className="block text-sm font-medium">
              Reason (the referrer sees it)
            </label>
            <Textarea {...getTextareaProps(fields.reason)} rows={3} maxLength={2000} className="mt-1 block w-full text-sm" />
            <FieldError id={fields.reason.errorId} errors={fields.reason.errors} />
          </div>
        </>
      ) : (
        <div className="flex flex-wrap gap-3">
          <div>
            <label htmlFor={fields.scheduledFor.id} className="block text-sm font-medium">
              Appointment date
            </label>
            {/* eslint-disable-next-line jsx-a11y/no-autofocus -- the form opens because this field is what the move asks for */}
            <Input {...getInputProps(fields.scheduledFor, { type: 'date' })} autoFocus className="mt-1 block text-sm" />
            <FieldError id={fields.scheduledFor.errorId} errors={fields.scheduledFor.errors} />
          </div>
          <div>
            <label htmlFor={fields.scheduledTime.id} className="block text-sm font-medium">
              Appointment time (clinic time)
            </label>
            <Input {...getInputProps(fields.scheduledTime, { type: 'time' })} className="mt-1 block text-sm" />
            <FieldError id={fields.scheduledTime.errorId} errors={fields.scheduledTime.errors} />
          </div>
        </div>
      )}
      <FieldError id={fields.to.errorId} errors={fields.to.errors} />
      <FieldError id={fields.version.errorId} errors={fields.version.errors} />
      <FieldError id={form.errorId} errors={form.errors} />
      <div className="flex flex-wrap items-center gap-3">
        <Button type="submit" variant="primary" disabled={busy}>
          {words.confirm}
        </Button>
        <Link
          to={moveUrl(referralId)}
          onClick={(event) => {
            event.preventDefault()
            onClose()
          }}
          className="text-sm text-brand-700 underline"
        >
          Go back without changing the status
        </Link>
      </div>
    </Form>
  )
}
