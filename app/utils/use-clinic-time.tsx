/**
 * How a page gets the clinic's time zone: the signed-in shell's loader (routes/_app) sends it
 * with every page, from the clinic row the request already read, so no page queries for it.
 */
import { useRouteLoaderData } from '@remix-run/react'
import { clinicDayAndTime, DEFAULT_TIME_ZONE, formatClinicTime, isTimeZone } from './clinic-time'

/** The clinic's IANA zone (the default outside the signed-in shell). */
export function useClinicTimeZone(): string {
  const shell = useRouteLoaderData<{ timeZone?: unknown }>('routes/_app')
  return isTimeZone(shell?.timeZone) ? shell.timeZone : DEFAULT_TIME_ZONE
}

/** A formatter bound to the clinic's zone: `time(iso)` is `2026-12-01 09:30 EST`. */
export function useClinicTime() {
  const zone = useClinicTimeZone()
  return (at: string | Date | number, options?: { seconds?: boolean }) => formatClinicTime(at, zone, options)
}

/** A time on a page: `2026-12-01 09:30 EST`, in the clinic's zone; the instant stays machine-readable. */
export function ClinicTime({ iso, seconds }: { iso: string; seconds?: boolean }) {
  const zone = useClinicTimeZone()
  return <time dateTime={iso}>{formatClinicTime(iso, zone, { seconds })}</time>
}

/** A day on a page: the clinic's calendar day of the instant, its time and zone on hover. */
export function ClinicDate({ iso }: { iso: string }) {
  const { day, time } = clinicDayAndTime(iso, useClinicTimeZone())
  return (
    <time dateTime={iso} title={time}>
      {day}
    </time>
  )
}
