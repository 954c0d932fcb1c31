/**
 * The queue, live (docs/decisions/045-live-queue.md): a referral that arrives is counted, "N new
 * referrals, show them", and shown when asked; a change to a row on the page brings the page's
 * rows again at once. Both by revalidating the queue's loader, so what is shown is read, and
 * audited, as any queue page is. Without JavaScript nothing here runs: the queue is the plain page.
 */
import { useNavigate, useRevalidator } from '@remix-run/react'
import { useEffect, useRef, useState } from 'react'
import { Button } from '~/components/ui/button'
import type { QueueView } from '~/referrals/queue'
import { queueUrl } from '~/referrals/queue-url'
import type { LiveChange } from './messages'
import { useClinicLive } from './use-clinic-live'

/** Changes that come together (a bulk action) bring the page once. */
const GATHER_MS = 150

export function LiveQueue({ view, shown }: { view: QueueView; shown: string[] }) {
  const revalidator = useRevalidator()
  const navigate = useNavigate()
  const [arrived, setArrived] = useState<string[]>([])
  const heard = useRef(new Set<number>())
  const onPage = useRef(new Set(shown))
  const revalidate = useRef(revalidator.revalidate)
  useEffect(() => {
    onPage.current = new Set(shown)
    revalidate.current = revalidator.revalidate
  })
  const gathering = useRef<ReturnType<typeof setTimeout>>()
  const refresh = () => {
    clearTimeout(gathering.current)
    gathering.current = setTimeout(() => revalidate.current(), GATHER_MS)
  }
  useEffect(() => () => clearTimeout(gathering.current), [])

  const live = useClinicLive({
    onMessage(message) {
      if (message.type !== 'change' || heard.current.has(message.id)) return
      heard.current.add(message.id)
      if (onPage.current.has(message.referralId)) refresh()
      else if (message.topic === 'referral.created' && mayBeInView(view, message))
        setArrived((ids) => (ids.includes(message.referralId) ? ids : [...ids, message.referralId]))
    },
    onReconnect: refresh,
  })
  // Rows the page shows now (brought by another change, or by showing them) are no longer news.
  const shownKey = shown.join()
  useEffect(() => setArrived((ids) => ids.filter((id) => !onPage.current.has(id))), [shownKey])

  const show = () => {
    setArrived([])
    // Newest first on the first page: a later page would not show them.
    if (view.cursor) navigate(queueUrl({ ...view, cursor: undefined }))
    else revalidator.revalidate()
  }
  return (
    <div aria-live="polite" className={arrived.length ? 'mt-3' : undefined} data-testid="live-queue" data-live={live}>
      {arrived.length ? (
        <Button type="button" onClick={show} className="w-full justify-center sm:w-auto">
          {arrived.length === 1 ? '1 new referral' : `${arrived.length} new referrals`}, show them
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
