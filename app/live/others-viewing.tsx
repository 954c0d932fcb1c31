/**
 * Who else of the clinic's staff has this referral open now (docs/decisions/045-live-queue.md),
 * so that two people do not work it at once. Names come from the clinic's object, which only the
 * clinic's own staff can join; nothing shows without JavaScript, or when nobody else is here.
 */
import { useState } from 'react'
import type { LivePresence } from './messages'
import { useClinicLive } from './use-clinic-live'

export function OthersViewing({ referralId }: { referralId: string }) {
  const [people, setPeople] = useState<LivePresence['people']>([])
  const live = useClinicLive({
    referralId,
    onMessage(message) {
      if (message.type === 'presence' && message.referralId === referralId) setPeople(message.people)
    },
    onDrop: () => setPeople([]),
  })
  return (
    // A live region without the status role: the page's own outcome messages are its status.
    <p
      aria-live="polite"
      className={people.length ? 'mt-3 rounded-md border border-sky-200 bg-sky-50 px-3 py-2 text-sm text-sky-900' : undefined}
      data-testid="others-viewing"
      data-live={live}
    >
      {people.length ? <>Also open now by {listOf(people.map((p) => p.name))}.</> : null}
    </p>
  )
}

const listOf = (names: string[]) => (names.length < 2 ? names.join('') : `${names.slice(0, -1).join(', ')} and ${names.at(-1)}`)
