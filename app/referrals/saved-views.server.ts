/**
 * A user's saved queue views: a name for a view's filters and sort, to come back to. The view is
 * stored as the query string the queue itself builds from a parsed view (never what was posted),
 * so a saved view holds only the queue's own parameters, and never PHI (patient searches are
 * posted, not put in the URL). Only their owner sees, saves or removes them: RLS on user and
 * clinic (drizzle/0021), and the queue reads them in its one message (queuePageWithPeople).
 */
import { eq, sql } from 'drizzle-orm'
import { z } from 'zod'
import { savedQueueViews } from '~/db/schema'
import type { TenantTx } from '~/tenancy/tenant.server'
import { hasNul } from '~/utils/form-values'
import type { QueueView } from './queue'
import { queueUrl } from './queue-url'

/** Enough for anyone's working views; more is a list nobody reads. */
export const MAX_SAVED_VIEWS = 20

export const SavedViewSchema = z.discriminatedUnion('intent', [
  z.object({
    intent: z.literal('save-view'),
    name: z
      .string({ error: 'Name the view' })
      .trim()
      .min(1, 'Name the view')
      .max(60, 'Keep the name under 60 characters')
      .refine((v) => !hasNul(v), 'Name the view in plain text'),
  }),
  z.object({ intent: z.literal('delete-view'), view: z.uuid({ error: 'Reload the page: that view is not there' }) }),
])

export type SavedViewOutcome = 'saved' | 'duplicate' | 'full' | 'deleted' | 'not-found'

/** The view as a query string without its page (a saved view starts on its first page). */
export const savedQuery = (view: QueueView) => queueUrl({ ...view, cursor: undefined }).replace(/^\/queue\??/, '')

export async function saveView(tx: TenantTx, owner: { clinicId: string; userId: string }, name: string, view: QueueView): Promise<SavedViewOutcome> {
  // One statement: the limit is checked where the row is written (RLS counts only the user's own).
  const inserted = await tx.execute(sql`insert into saved_queue_views (clinic_id, user_id, name, query)
    select ${owner.clinicId}, ${owner.userId}, ${name}, ${savedQuery(view)}
    where (select count(*) from saved_queue_views) < ${MAX_SAVED_VIEWS}
    on conflict (clinic_id, user_id, lower(name)) do nothing
    returning id`)
  if (inserted.rows.length) return 'saved'
  const [taken] = await tx
    .select({ id: savedQueueViews.id })
    .from(savedQueueViews)
    .where(sql`lower(${savedQueueViews.name}) = lower(${name})`)
  return taken ? 'duplicate' : 'full'
}

export async function deleteView(tx: TenantTx, id: string): Promise<SavedViewOutcome> {
  // RLS: another user's view (or another clinic's) is simply not found.
  const deleted = await tx.delete(savedQueueViews).where(eq(savedQueueViews.id, id)).returning({ id: savedQueueViews.id })
  return deleted.length ? 'deleted' : 'not-found'
}
