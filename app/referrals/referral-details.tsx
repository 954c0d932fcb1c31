/** Read-only views of a referral: its form (rendered with the version it was made with) and its history. */
import type { IntakeFormDefinition } from '~/db/schema'
import { optionLabel } from '~/intake/intake-form-fields'
import { STATUS_LABELS } from './referral-badges'
import { reasonCodeLabel } from './reason-codes'
import type { ReferralStatus } from '~/db/schema'
import { ClinicTime } from '~/utils/use-clinic-time'

export function SubmittedForm({ definition, values }: { definition: IntakeFormDefinition; values: Record<string, unknown> }) {
  return (
    <div className="space-y-6">
      {definition.sections.map((section) => (
        <section key={section.title} className="rounded-lg border border-slate-200 bg-white p-5">
          <h2 className="font-semibold text-slate-900">{section.title}</h2>
          <dl className="mt-3 grid gap-x-6 gap-y-3 sm:grid-cols-2">
            {section.fields.map((field) => {
              const value = values[field.key]
              const empty = value === false || value === undefined || value === null || value === ''
              // A choice reads as the referrer chose it in the form ("Routine", not "routine").
              const shown = value === true ? 'Yes' : empty ? '—' : field.type === 'select' ? optionLabel(String(value)) : String(value)
              return (
                <div key={field.key} className={field.type === 'textarea' ? 'sm:col-span-2' : undefined}>
                  <dt className="text-xs font-medium uppercase tracking-wide text-slate-500">{field.label}</dt>
                  <dd className="mt-0.5 whitespace-pre-wrap text-slate-900">{shown}</dd>
                </div>
              )
            })}
          </dl>
        </section>
      ))}
    </div>
  )
}

export type HistoryEvent = {
  id: string
  type: string
  data: Record<string, unknown>
  createdAt: string
  actor: { displayName: string; role: string } | null
  body: string | null
  visibleToReferrer: boolean
}

export function History({ events }: { events: HistoryEvent[] }) {
  return (
    <ol className="space-y-3" aria-label="History">
      {events.map((event) => (
        <li key={event.id} className="rounded-md border border-slate-200 bg-white p-3 text-sm" data-testid={`event-${event.type}`}>
          <div className="flex flex-wrap items-baseline justify-between gap-2">
            <span className="font-medium text-slate-900">{describe(event)}</span>
            <span className="text-xs text-slate-500">
              <ClinicTime iso={event.createdAt} />
            </span>
          </div>
          <div className="text-xs text-slate-500">
            {event.actor ? `${event.actor.displayName} (${event.actor.role})` : 'System'}
            {event.type === 'note' ? ' · internal note, not shown to the referrer' : ''}
          </div>
          {event.body ? <p className="mt-2 whitespace-pre-wrap text-slate-800">{event.body}</p> : null}
        </li>
      ))}
    </ol>
  )
}

function describe(event: HistoryEvent) {
  const label = (s: unknown) => STATUS_LABELS[s as ReferralStatus] ?? String(s)
  switch (event.type) {
    case 'created':
      return event.data.forwardedFrom ? 'Referral received, forwarded from another clinic' : 'Referral received'
    case 'status': {
      const kind = reasonCodeLabel(event.data.reasonCode)
      return `Status: ${label(event.data.from)} → ${label(event.data.to)}${kind ? ` (${kind})` : ''}`
    }
    case 'assignment':
      return event.data.toName ? `Assigned to ${String(event.data.toName)}` : 'Unassigned'
    case 'note':
      return 'Note'
    case 'message':
      return 'Question to the referrer'
    case 'reply':
      return 'Reply from the referrer'
    default:
      return event.type
  }
}
