/** A purged referral's line under its heading (docs/decisions/049-retention-purge.md): its patient information is gone, on purpose. */
import { useClinicTime } from '~/utils/use-clinic-time'

export function PurgedNote({ purgedAt }: { purgedAt: string | null }) {
  const time = useClinicTime()
  if (!purgedAt) return null
  return (
    <p className="mt-3 rounded-md border border-amber-300 bg-amber-50 px-3 py-2 text-sm text-amber-900" data-testid="purged">
      <strong>Patient information purged</strong> on {time(purgedAt)}, at the end of the clinic&apos;s retention period. The patient details, notes, messages,
      AI summaries and documents were removed; the reference, status, dates and audit trail remain.
    </p>
  )
}
