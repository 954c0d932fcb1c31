/** A forwarded referral's line under its heading: where it went (and its reference there), or where it came from. */
import { useClinicTime } from '~/utils/use-clinic-time'
import type { ForwardedFacts } from './forward'

export function ForwardedNote({ forwarded }: { forwarded: ForwardedFacts }) {
  const time = useClinicTime()
  if (forwarded.to) {
    return (
      <p className="mt-3 rounded-md border border-slate-300 bg-slate-50 px-3 py-2 text-sm text-slate-800" data-testid="forwarded-to">
        Forwarded to <strong>{forwarded.to.name}</strong> on {time(forwarded.to.at)}. Their reference:{' '}
        <span className="font-mono">{forwarded.to.referenceNumber}</span>. This record is closed here.
      </p>
    )
  }
  if (forwarded.from) {
    return (
      <p className="mt-3 rounded-md border border-sky-200 bg-sky-50 px-3 py-2 text-sm text-sky-900" data-testid="forwarded-from">
        Forwarded from <strong>{forwarded.from.name}</strong>. The reason they gave is in the history.
      </p>
    )
  }
  return null
}
