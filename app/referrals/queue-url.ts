/**
 * The queue's links: the sort choices and the URL of a view. Apart from the view's schema
 * (queue.ts) because the page only builds links in the browser; parsing them is the server's
 * job, and importing the schema would put zod in the page's JavaScript.
 */
import type { QueueView } from './queue'

export const SORTS: Record<QueueView['sort'], string> = { received: 'Newest first', priority: 'Most urgent first', age: 'Oldest first' }

export function queueUrl(view: Partial<QueueView>) {
  const params = new URLSearchParams()
  for (const [key, value] of Object.entries(view)) {
    if (value === undefined || value === '' || value === null) continue
    if ((key === 'status' && value === 'open') || (key === 'assignee' && value === 'anyone') || (key === 'sort' && value === 'received')) continue
    params.set(key, String(value))
  }
  const search = params.toString()
  return search ? `/queue?${search}` : '/queue'
}
