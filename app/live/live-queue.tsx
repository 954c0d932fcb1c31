/**
 * The queue, live (docs/decisions/045-live-queue.md): a referral that arrives is counted, "N new
 * referrals, show them", and shown when asked; a change to a row on the page brings the page's
 * rows again at once. Both through the queue's own loader (a fetcher: what is shown is read, and
 * audited, as any queue page is), without touching the page's navigation or the outcome of the
 * last form sent (a revalidation would clear a patient search's results and a bulk action's
 * report). Without JavaScript nothing here runs: the queue is the plain page.
 */
import { useFetcher, useLocation, useNavigate } from '@remix-run/react'
import { useEffect, useRef, useState } from 'react'
import { Button } from '~/components/ui/button'
import type { QueueView } from '~/referrals/queue'
import { queueUrl } from '~/referrals/queue-url'
import type { LiveChange } from './messages'
import { useClinicLive, type LiveState } from './use-clinic-live'

/** Changes that come together (a bulk action) bring the page once. */
const GATHER_MS = 150

type QueueData = { view: QueueView; items: { id: string }[] }

/**
 * The queue's data, the freshest of what the page loaded and what the socket's changes brought
 * since; and the notice of new referrals. A navigation, or a form sent, brings new page data,
 * and what was fetched for the page before it is dropped.
 */
export function useLiveQueue<T extends QueueData>(loaded: T): { data: T; notice: LiveNotice } {
  const fetcher = useFetcher<T>()
  const location = useLocation()
  const navigate = useNavigate()
  const [fetchedFor, setFetchedFor] = useState<T | null>(null)
  const [arrived, setArrived] = useState<string[]>([])
  const data = fetchedFor === loaded && fetcher.data ? (fetcher.data as T) : loaded
  const { view } = data

  const heard = useRef(new Set<number>())
  const latest = useRef({ data, loaded, here: '', load: fetcher.load })
  useEffect(() => {
    latest.current = { data, loaded, here: `${location.pathname}${location.search}`, load: fetcher.load }
  })
  const gathering = useRef<ReturnType<typeof setTimeout>>()
  const refresh = () => {
    clearTimeout(gathering.current)
    gathering.current = setTimeout(() => {
      setFetchedFor(() => latest.current.loaded)
      latest.current.load(latest.current.here)
    }, GATHER_MS)
  }
  useEffect(() => () => clearTimeout(gathering.current), [])

  const live = useClinicLive({
    onMessage(message) {
      if (message.type !== 'change' || heard.current.has(message.id)) return
      heard.current.add(message.id)
      if (latest.current.data.items.some((i) => i.id === message.referralId)) refresh()
      else if (message.topic === 'referral.created' && mayBeInView(latest.current.data.view, message))
        setArrived((ids) => (ids.includes(message.referralId) ? ids : [...ids, message.referralId]))
    },
    onReconnect: refresh,
  })
  // Rows the page shows now (brought by another change, or by showing them) are no longer news.
  const shownKey = data.items.map((i) => i.id).join()
  useEffect(() => setArrived((ids) => ids.filter((id) => !latest.current.data.items.some((i) => i.id === id))), [shownKey])

  const show = () => {
    setArrived([])
    // Newest first on the first page: a later page would not show them.
    if (view.cursor) navigate(queueUrl({ ...view, cursor: undefined }))
    else refresh()
  }
  return { data, notice: { arrived: arrived.length, show, live } }
}

export type LiveNotice = { arrived: number; show: () => void; live: LiveState }

// A live region without the status role: the queue's work results are its status.
export function LiveQueueNotice({ arrived, show, live }: LiveNotice) {
  return (
    <div aria-live="polite" className={arrived ? 'mt-3' : undefined} data-testid="live-queue" data-live={live}>
      {arrived ? (
        <Button type="button" onClick={show} className="w-full justify-center sm:w-auto">
          {arrived === 1 ? '1 new referral' : `${arrived} new referrals`}, show them
        </Button>
      ) : null}
    </div>
  )
}

/** A new referral is received, unassigned, not yet replied to: the views that cannot show one do not count it. */
export function mayBeInView(view: QueueView, change: LiveChange) {
  if (!['open', 'all', 'received'].includes(view.status)) return false
  if (view.priority && change.priority && view.priority !== change.priority) return false
  if (view.assignee !== 'anyone' && view.assignee !== 'unassigned') return false
  return !view.ref
}
