/**
 * The staff queue's view, parsed from the URL (so a view can be bookmarked and shared).
 * Never PHI here: patient searches are posted, not put in the URL. Server-side in practice
 * (loader, API): the page builds its links with queue-url.ts, which carries no zod.
 */
import { z } from 'zod'
import { referralPriorities, referralStatuses } from '~/db/enums'

export const OPEN_STATUSES = ['received', 'in_review', 'info_requested', 'accepted', 'scheduled'] as const
/** Hours from received to triaged, when a clinic has not set its own targets. */
export const DEFAULT_TURNAROUND_HOURS = { emergent: 24, urgent: 72, routine: 336 } as const

const optional = <T extends z.ZodType>(schema: T) => z.preprocess((v) => (v === '' || v === null ? undefined : v), schema.optional())

export const QueueViewSchema = z.object({
  status: optional(z.enum(['open', 'all', ...referralStatuses])).default('open'),
  priority: optional(z.enum(referralPriorities)),
  assignee: optional(z.enum(['anyone', 'me', 'unassigned'])).default('anyone'),
  referrer: optional(z.uuid()),
  from: optional(z.iso.date()),
  to: optional(z.iso.date()),
  sort: optional(z.enum(['received', 'priority', 'age'])).default('received'),
  ref: optional(z.string().trim().toUpperCase().max(20)),
  cursor: optional(z.string().max(500)),
})
export type QueueView = z.infer<typeof QueueViewSchema>

export function parseQueueView(url: URL): QueueView {
  const raw = Object.fromEntries(url.searchParams)
  const parsed = QueueViewSchema.safeParse(raw)
  // A hand-edited URL falls back to the default view rather than an error page.
  return parsed.success ? parsed.data : QueueViewSchema.parse({})
}
