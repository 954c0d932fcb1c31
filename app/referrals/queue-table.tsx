/**
 * The queue's rows: a table on a wide screen and, below 640 px, a list of cards (the same
 * markup, laid out as blocks: nothing scrolls sideways on a phone). Column headers sort (links,
 * so they work without JavaScript, with aria-sort saying the order); each row can be ticked for
 * the work on the selection (queue-work.tsx: checkboxes that belong to that form) and taken with
 * "Assign to me". Rows are what the keyboard shortcuts move through (queue-shortcuts.tsx).
 */
import { Form, Link, useNavigate } from '@remix-run/react'
import { useLayoutEffect, useRef, type FocusEvent, type MouseEvent, type ReactNode } from 'react'
import { cx } from '~/components/ui/control'
import type { IntakeChannel, ReferralPriority, ReferralStatus } from '~/db/schema'
import type { QueueView } from './queue'
import { queueUrl } from './queue-url'
import { DuplicateBadge, EnteredBadge, PriorityBadge, StatusBadge } from './referral-badges'
import { ClinicDate } from '~/utils/use-clinic-time'

export type QueueItem = {
  id: string
  version: number
  referenceNumber: string
  patient: string
  dob: string | null
  status: ReferralStatus
  priority: ReferralPriority
  receivedAt: string
  ageDays: number
  targetHours: number
  overdue: boolean
  assignee: string | null
  assignedToMe: boolean
  referrer: string
  entered: IntakeChannel | null
  duplicate: boolean
  replyReceived: boolean
}

/** The form the row checkboxes belong to (queue-work.tsx). */
export const WORK_FORM = 'queue-work'
/**
 * The one form every row's "Assign to me" button submits (its name and value say which
 * referral): one form for the page rather than one a row, which the server rendered 25 times.
 */
const ASSIGN_FORM = 'queue-assign-me'

// Below sm each row is a card and each cell a line of it; the cell's column name is shown
// before it from data-label (CSS content, so the cell's own text stays what it says). The two
// are classes of app/tailwind.css (queue-card-row, queue-cell): written out as utilities they
// were 1.5 KB of every row's HTML, for the server to render and escape 25 times a page.
const CARD_ROW = 'queue-card-row'
const CELL = 'queue-cell'

function Cell({ label, className, children }: { label?: string; className?: string; children: ReactNode }) {
  return (
    <td data-label={label ? `${label}:` : undefined} className={cx(CELL, className)}>
      {children}
    </td>
  )
}

/** A header that sorts: the first click its natural order, the received column flips between newest and oldest. */
function SortHeader({ view, label, sorts }: { view: QueueView; label: string; sorts: { first: QueueView['sort']; then?: QueueView['sort'] } }) {
  const active = view.sort === sorts.first ? 'first' : view.sort === sorts.then ? 'then' : null
  const next = active === 'first' && sorts.then ? sorts.then : sorts.first
  const order = active === null ? undefined : (active === 'first') === (sorts.first === 'age') ? 'ascending' : 'descending'
  return (
    <th aria-sort={order} className="px-4 py-2 font-medium">
      <Link
        to={queueUrl({ ...view, sort: next, cursor: undefined })}
        className="inline-flex items-center gap-1 text-slate-700 underline-offset-2 hover:underline"
      >
        {label}
        <span aria-hidden="true" className="text-xs">
          {order === 'ascending' ? '▲' : order === 'descending' ? '▼' : '↕'}
        </span>
        <span className="sr-only">, sort {next === 'received' ? 'newest first' : next === 'age' ? 'oldest first' : 'most urgent first'}</span>
      </Link>
    </th>
  )
}

/** A queue row, and its referral's link: what the open handler, the focus keeper and the keyboard shortcuts find. */
export const QUEUE_ROW = '[data-testid="queue-row"]'
export const ROW_LINK = 'a[data-row-link]'

/**
 * The rows' links are plain anchors, opened in the app by this one handler for the whole table:
 * a Remix Link is a component with its own hooks (prefetch state, href resolution, click
 * handler), and 25 of them were 4% of the queue page's Worker CPU. Without JavaScript, or with a
 * modifier key or another button (a new tab), the anchor is followed as any link.
 */
function useOpenRow() {
  const navigate = useNavigate()
  return (event: MouseEvent<HTMLElement>) => {
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return
    const link = event.target instanceof Element ? event.target.closest<HTMLAnchorElement>(ROW_LINK) : null
    const href = link?.getAttribute('href')
    if (!href) return
    event.preventDefault()
    navigate(href)
  }
}

/**
 * A row that leaves the page while it has the focus (a live update: someone else triaged it, or
 * the view no longer holds it) hands the focus to the row that takes its place, so a keyboard
 * user keeps their place in the queue rather than starting again from the top of the page. Only
 * when the focus went with the row: a user who moved it elsewhere keeps it there.
 */
function useKeepRowFocus(items: QueueItem[]) {
  const body = useRef<HTMLTableSectionElement>(null)
  const focused = useRef<{ row: Element; index: number } | null>(null)
  const rows = () => [...(body.current?.querySelectorAll(`:scope > ${QUEUE_ROW}`) ?? [])]
  const onFocus = (event: FocusEvent<HTMLElement>) => {
    const row = event.target.closest(QUEUE_ROW)
    focused.current = row ? { row, index: rows().indexOf(row) } : null
  }
  const onBlur = (event: FocusEvent<HTMLElement>) => {
    const to = event.relatedTarget
    if (event.target.isConnected && !(to instanceof Node && body.current?.contains(to))) focused.current = null
  }
  useLayoutEffect(() => {
    const was = focused.current
    if (!was || was.row.isConnected) return
    focused.current = null
    const active = document.activeElement
    if (active && active !== document.body) return
    const now = rows()
    now[Math.min(was.index, now.length - 1)]?.querySelector<HTMLElement>(ROW_LINK)?.focus()
  }, [items])
  return { ref: body, onFocus, onBlur }
}

export function QueueTable({ view, items, busy, selectable }: { view: QueueView; items: QueueItem[]; busy: boolean; selectable: boolean }) {
  const openRow = useOpenRow()
  const keepRowFocus = useKeepRowFocus(items)
  return (
    <div className={cx('mt-2 sm:overflow-hidden sm:rounded-lg sm:border sm:border-slate-200 sm:bg-white', busy && 'opacity-60')}>
      {selectable ? (
        <Form method="post" id={ASSIGN_FORM} hidden>
          <input type="hidden" name="intent" value="assign-me" />
        </Form>
      ) : null}
      <table className="block w-full text-left text-sm sm:table" aria-label="Referrals" aria-describedby="queue-total">
        <thead className="bg-slate-50 text-slate-600 max-sm:sr-only">
          <tr>
            <th className="px-4 py-2 font-medium">Patient</th>
            <th className="px-4 py-2 font-medium">Reference</th>
            <SortHeader view={view} label="Priority" sorts={{ first: 'priority' }} />
            <th className="px-4 py-2 font-medium">Status</th>
            <SortHeader view={view} label="Received" sorts={{ first: 'received', then: 'age' }} />
            <th className="px-4 py-2 font-medium">Assigned</th>
            <th className="px-4 py-2 font-medium">Referrer</th>
            <th className="px-4 py-2 font-medium">
              <span className="sr-only">Actions</span>
            </th>
          </tr>
        </thead>
        {/* A click on a row's link, handed to the app's router (useOpenRow); the links themselves take the keyboard. */}
        {/* eslint-disable-next-line jsx-a11y/click-events-have-key-events, jsx-a11y/no-noninteractive-element-interactions */}
        <tbody className="block sm:table-row-group sm:divide-y sm:divide-slate-100" onClick={openRow} {...keepRowFocus}>
          {items.map((item, index) => (
            <tr key={item.id} className={cx(CARD_ROW, 'focus-within:bg-brand-50 sm:hover:bg-slate-50')} data-testid="queue-row">
              <Cell className="max-sm:flex max-sm:items-start max-sm:gap-2">
                <div className="flex items-start gap-2">
                  {selectable ? (
                    <input
                      type="checkbox"
                      form={WORK_FORM}
                      name={`selected[${index}]`}
                      value={`${item.id}:${item.version}`}
                      aria-label={`Select ${item.referenceNumber}`}
                      className="mt-1 size-4"
                      data-select
                    />
                  ) : null}
                  <div>
                    {/* data-discover: Remix learns the referral route from these as from its own Links. */}
                    <a href={`/referrals/${item.id}`} className="font-medium text-brand-800 hover:underline" data-row-link data-discover="true">
                      {item.patient}
                    </a>
                    {item.dob ? <div className="text-xs text-slate-600">{`DOB ${item.dob}`}</div> : null}
                    {item.duplicate || item.entered ? (
                      <div className="mt-1 flex flex-wrap gap-1">
                        {item.duplicate ? <DuplicateBadge /> : null}
                        {item.entered ? <EnteredBadge channel={item.entered} /> : null}
                      </div>
                    ) : null}
                  </div>
                </div>
              </Cell>
              <Cell label="Reference">
                {/* On the number only: the phone card's "Reference:" label is the cell's, and "NOR-" should not wrap away from its code. */}
                <span className="whitespace-nowrap font-mono text-xs">{item.referenceNumber}</span>
              </Cell>
              <Cell label="Priority">
                <PriorityBadge priority={item.priority} />
              </Cell>
              <Cell label="Status">
                <StatusBadge status={item.status} />
                {item.replyReceived ? <ReplyMarker /> : null}
              </Cell>
              <Cell label="Received" className="sm:whitespace-nowrap">
                <ClinicDate iso={item.receivedAt} />
                <div className="text-xs text-slate-600 max-sm:inline max-sm:pl-2">{ageAndTarget(item)}</div>
                {item.overdue ? (
                  <div className="mt-0.5 text-xs font-semibold text-red-700" data-testid="overdue">
                    Overdue for triage
                  </div>
                ) : null}
              </Cell>
              <Cell label="Assigned">{item.assignee ?? <span className="text-slate-600">Unassigned</span>}</Cell>
              <Cell label="Referrer" className="text-slate-600">
                {item.referrer}
              </Cell>
              <td className="block pt-2 sm:table-cell sm:px-4 sm:py-2">{selectable && !item.assignedToMe ? <AssignToMe item={item} /> : null}</td>
            </tr>
          ))}
          {items.length === 0 ? (
            <tr className="block sm:table-row">
              <td colSpan={8} className="block px-4 py-10 text-center text-slate-600 sm:table-cell">
                No referrals match this view.
              </td>
            </tr>
          ) : null}
        </tbody>
      </table>
    </div>
  )
}

/**
 * "3 d ago · target 2 d" as one text: React writes each piece of mixed text as its own node with
 * a comment between them, 25 rows over.
 */
function ageAndTarget(item: QueueItem): string {
  const age = item.ageDays === 0 ? 'today' : `${item.ageDays} d ago`
  const target = item.targetHours < 48 ? `${item.targetHours} h` : `${Math.round(item.targetHours / 24)} d`
  return `${age} · target ${target}`
}

/** The referrer answered and no one has marked it seen (the referral page shows the answer). */
function ReplyMarker() {
  return (
    <span
      className="mt-1 inline-flex items-center gap-1 rounded-full bg-sky-700 px-2 py-0.5 text-xs font-semibold whitespace-nowrap text-white sm:flex sm:w-fit"
      data-testid="reply-marker"
    >
      <span aria-hidden="true">●</span> Reply received
    </span>
  )
}

function AssignToMe({ item }: { item: QueueItem }) {
  return (
    <button
      type="submit"
      form={ASSIGN_FORM}
      name="referral"
      value={`${item.id}:${item.version}`}
      className="rounded-md border border-slate-300 bg-white px-2 py-1 text-xs whitespace-nowrap hover:bg-slate-50"
      data-assign-me
    >
      Assign to me<span className="sr-only">{` (${item.referenceNumber})`}</span>
    </button>
  )
}
