/**
 * The staff queue's view, parsed from the URL (so a view can be bookmarked and shared).
 * Never PHI here: patient searches are posted, not put in the URL. Server-side in practice
 * (loader, API): the page builds its links with queue-url.ts, which carries no zod.
 */
import { z } from 'zod'
import { referralPriorities, referralStatuses } from '~/db/enums'
import { calendarDay } from '~/utils/form-values'
import { isPgTimestamp, isUuid } from '~/utils/keyset'

export const OPEN_STATUSES = ['received', 'in_review', 'info_requested', 'accepted', 'scheduled'] as const
/** Hours from received to triaged, when a clinic has not set its own targets. */
export const DEFAULT_TURNAROUND_HOURS = { emergent: 24, urgent: 72, routine: 336 } as const

const optional = <T extends z.ZodType>(schema: T) => z.preprocess((v) => (v === '' || v === null ? undefined : v), schema.optional())

/**
 * The keyset cursor: the last row's sort key (priority rank, PostgreSQL's text of the received
 * time, id), base64url JSON. Opaque to the browser, but it comes back from it: anything that
 * is not such a key is refused here, before it can reach PostgreSQL.
 */
export type QueueCursor = { r: number; t: string; id: string }

export const encodeQueueCursor = (c: QueueCursor) => btoa(JSON.stringify(c)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
export function decodeQueueCursor(value: string | undefined): QueueCursor | null {
  if (!value) return null
  try {
    const c = JSON.parse(atob(value.replace(/-/g, '+').replace(/_/g, '/'))) as QueueCursor
    return [0, 1, 2].includes(c.r) && isPgTimestamp(c.t) && isUuid(c.id) ? c : null
  } catch {
    return null
  }
}

export const QueueViewSchema = z.object({
  // 'replied': a referrer's reply waits for staff to acknowledge it, whatever the status.
  status: optional(z.enum(['open', 'all', 'replied', ...referralStatuses])).default('open'),
  priority: optional(z.enum(referralPriorities)),
  assignee: optional(z.enum(['anyone', 'me', 'unassigned'])).default('anyone'),
  referrer: optional(z.uuid()),
  from: optional(calendarDay('Received from')),
  to: optional(calendarDay('Received to')),
  sort: optional(z.enum(['received', 'priority', 'age'])).default('received'),
  ref: optional(z.string().trim().toUpperCase().max(20)),
  cursor: optional(
    z
      .string()
      .max(500)
      .refine((c) => decodeQueueCursor(c) !== null, 'The page link is not one this queue made'),
  ),
})
export type QueueView = z.infer<typeof QueueViewSchema>

const LABELS: Record<keyof QueueView, string> = {
  status: 'Status',
  priority: 'Priority',
  assignee: 'Assigned to',
  referrer: 'Referrer',
  from: 'Received from',
  to: 'Received to',
  sort: 'Sort',
  ref: 'Reference number',
  cursor: 'Page',
}

/**
 * A view from the URL. What cannot be used is left out (the rest of the view still applies)
 * and said in `problems`, one line per parameter, so the page can answer 400 and say why.
 */
export function readQueueView(url: URL): { view: QueueView; problems: string[] } {
  const raw: Record<string, string> = {}
  for (const key of Object.keys(QueueViewSchema.shape)) {
    const value = url.searchParams.get(key)
    if (value !== null) raw[key] = value
  }
  const parsed = QueueViewSchema.safeParse(raw)
  if (parsed.success) return { view: parsed.data, problems: [] }
  const problems = new Map<string, string>()
  for (const issue of parsed.error.issues) {
    const key = String(issue.path[0]) as keyof QueueView
    if (problems.has(key)) continue
    // The date schema's messages name the field already; for the rest, the label says which.
    problems.set(key, key === 'from' || key === 'to' ? issue.message : `${LABELS[key] ?? key}: not understood`)
    delete raw[key]
  }
  return { view: QueueViewSchema.parse(raw), problems: [...problems.values()] }
}

/** The view alone, for callers that have no one to tell (benchmarks). */
export const parseQueueView = (url: URL): QueueView => readQueueView(url).view
