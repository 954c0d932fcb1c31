/**
 * The queue's views and filters. "My work" and the user's saved views are links (a view is its
 * URL); the filters apply as soon as one changes when JavaScript runs, and with the Apply button
 * when it does not. Below 640 px they fold away behind "Filters and search" (a <details>, so it
 * opens without JavaScript too); on a wider screen they are always shown.
 */
import { Form, Link, useNavigate } from '@remix-run/react'
import { useEffect, useRef, type ReactNode } from 'react'
import { Button } from '~/components/ui/button'
import { Input } from '~/components/ui/control'
import { FieldError } from '~/components/forms'
import { DateField, filterProps, SelectField } from '~/components/ui/field'
import { referralPriorities, referralStatuses } from '~/db/enums'
import type { QueueView } from './queue'
import { queueUrl } from './queue-url'
import { STATUS_LABELS } from './referral-badges'

export type SavedView = { id: string; name: string; query: string }

/** "My work": the user's own open referrals, most urgent first. */
export const MY_WORK: Partial<QueueView> = { assignee: 'me', status: 'open', sort: 'priority' }

export function QueueViews({ views, current, saveErrors }: { views: SavedView[]; current: string; saveErrors?: string[] }) {
  const here = (query: string) => (query === current ? 'page' : undefined)
  const myWork = queueUrl(MY_WORK)
  return (
    <nav aria-label="Views" className="mt-4 flex flex-wrap items-center gap-2 text-sm">
      <ViewLink to="/queue" current={here('')}>
        All open
      </ViewLink>
      <ViewLink to={myWork} current={here(myWork.replace(/^\/queue\??/, ''))}>
        My work
      </ViewLink>
      <ViewLink to={queueUrl({ status: 'replied' })} current={here('status=replied')}>
        Reply received
      </ViewLink>
      {views.map((v) => (
        <span key={v.id} className="inline-flex items-center" data-testid="saved-view">
          <ViewLink to={v.query ? `/queue?${v.query}` : '/queue'} current={here(v.query)}>
            {v.name}
          </ViewLink>
          <Form method="post" className="inline">
            <input type="hidden" name="intent" value="delete-view" />
            <input type="hidden" name="view" value={v.id} />
            <button type="submit" className="ml-0.5 rounded px-1.5 py-1 text-slate-600 hover:bg-slate-100 hover:text-red-700">
              <span aria-hidden="true">×</span>
              <span className="sr-only">Remove the saved view {v.name}</span>
            </button>
          </Form>
        </span>
      ))}
      <Form method="post" className="inline-flex items-center gap-1" aria-label="Save this view">
        <input type="hidden" name="intent" value="save-view" />
        <label htmlFor="save-view-name" className="sr-only">
          Name for this view
        </label>
        <Input
          id="save-view-name"
          name="name"
          size="compact"
          maxLength={60}
          placeholder="Name this view"
          className="w-36"
          aria-invalid={saveErrors?.length ? true : undefined}
          aria-describedby={saveErrors?.length ? 'save-view-name-error' : undefined}
        />
        <Button type="submit">Save view</Button>
      </Form>
      <FieldError id="save-view-name-error" errors={saveErrors} className="w-full" />
    </nav>
  )
}

function ViewLink({ to, current, children }: { to: string; current?: 'page'; children: ReactNode }) {
  return (
    <Link
      to={to}
      aria-current={current}
      className={`rounded-full border px-3 py-1 ${current ? 'border-brand-700 bg-brand-700 text-white' : 'border-slate-300 bg-white text-slate-800 hover:bg-slate-50'}`}
    >
      {children}
    </Link>
  )
}

const FILTERS = ['status', 'priority', 'assignee', 'referrer', 'from', 'to'] as const

/**
 * The filter controls are uncontrolled (they work without JavaScript): when the view changes by
 * a link (Reset, a saved view, My work), they are set to show it, except the one being used.
 */
function useFormShowing(view: QueueView) {
  const ref = useRef<HTMLFormElement>(null)
  const shown = queueUrl({ ...view, cursor: undefined })
  useEffect(() => {
    for (const name of FILTERS) {
      const control = ref.current?.elements.namedItem(name)
      if ((control instanceof HTMLSelectElement || control instanceof HTMLInputElement) && control !== document.activeElement) control.value = view[name] ?? ''
    }
    // eslint-disable-next-line react-hooks/exhaustive-deps -- `shown` says everything of the view the controls show
  }, [shown])
  return ref
}

/** Filters and searches, folded away on a phone. `children`: the searches (reference number, patient). */
export function QueueFilters({ view, referrers, children }: { view: QueueView; referrers: { id: string; name: string }[]; children: ReactNode }) {
  const navigate = useNavigate()
  const form = useFormShowing(view)
  // With JavaScript the view's address is the queue's own (no empty or default parameters).
  const apply = (target: HTMLFormElement) => {
    const values = Object.fromEntries([...new FormData(target)].map(([k, v]) => [k, String(v)]))
    navigate(queueUrl(values))
  }
  const active =
    (['priority', 'referrer', 'from', 'to'] as const).filter((k) => view[k]).length + (view.status !== 'open' ? 1 : 0) + (view.assignee !== 'anyone' ? 1 : 0)
  return (
    <details className="mt-4 sm:[&::details-content]:[content-visibility:visible]" data-testid="filters">
      <summary className="cursor-pointer rounded-lg border border-slate-200 bg-white px-4 py-3 text-sm font-medium sm:hidden">
        Filters and search{active ? ` (${active} active)` : ''}
      </summary>
      <Form
        method="get"
        className="mt-2 grid gap-3 rounded-lg border border-slate-200 bg-white p-4 text-sm sm:mt-0 sm:grid-cols-4 lg:grid-cols-8"
        aria-label="Filters"
        ref={form}
        // With JavaScript a filter applies as soon as it changes; the Apply button is for without.
        onChange={(event) => apply(event.currentTarget)}
        onSubmit={(event) => {
          event.preventDefault()
          apply(event.currentTarget)
        }}
      >
        <SelectField
          label="Status"
          selectProps={filterProps('status', view.status)}
          options={[['open', 'Open'], ['all', 'All'], ['replied', 'Reply received'], ...referralStatuses.map((s) => [s, STATUS_LABELS[s]] as const)]}
        />
        <SelectField
          label="Priority"
          selectProps={filterProps('priority', view.priority)}
          options={[['', 'Any'], ...referralPriorities.map((p) => [p, p[0]!.toUpperCase() + p.slice(1)] as const)]}
        />
        <SelectField
          label="Assigned to"
          selectProps={filterProps('assignee', view.assignee)}
          options={[
            ['anyone', 'Anyone'],
            ['me', 'Me'],
            ['unassigned', 'Unassigned'],
          ]}
        />
        <SelectField
          label="Referrer"
          selectProps={filterProps('referrer', view.referrer)}
          options={[['', 'Any'], ...referrers.map((r) => [r.id, r.name] as const)]}
        />
        <DateField label="Received from" inputProps={filterProps('from', view.from)} />
        <DateField label="Received to" inputProps={filterProps('to', view.to)} />
        {/* The sort is chosen with the column headers; the filters keep it. */}
        {view.sort !== 'received' ? <input type="hidden" name="sort" value={view.sort} /> : null}
        <div className="flex items-end gap-2">
          <Button type="submit" variant="primary" size="md">
            Apply
          </Button>
          <Link to="/queue" className="rounded-md px-2 py-2 text-sm text-slate-700 underline">
            Reset
          </Link>
        </div>
      </Form>
      {children}
    </details>
  )
}
