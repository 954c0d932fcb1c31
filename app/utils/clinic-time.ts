/**
 * Times as the clinic reads them: in the clinic's own time zone (clinics.settings.timeZone, an
 * IANA name), with the zone's abbreviation beside every time so nobody has to guess (EST or
 * EDT in Toronto). Browser-safe and pure: the server and the browser format the same instant
 * the same way (numbers from formatToParts, never a locale's own layout), so hydration agrees.
 * docs/decisions/035-readable-audit-and-clinic-time.md
 */

/** Where a clinic that has not chosen a zone is taken to be. */
export const DEFAULT_TIME_ZONE = 'America/Toronto'

/** An IANA name is short and plain; anything else is refused before Intl sees it. */
const ZONE_SHAPE = /^[A-Za-z][A-Za-z0-9_+\-/]{0,63}$/

// One formatter per zone: building one is the slow part. Only zones Intl accepts are cached,
// so the map holds at most the few hundred real zones.
const formatters = new Map<string, Intl.DateTimeFormat>()

function formatterFor(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone)
  if (!f) {
    // en-CA names the zones a Canadian clinic lives in (EST, NST, PDT...); hourCycle h23 keeps midnight at 00.
    f = new Intl.DateTimeFormat('en-CA', {
      timeZone: zone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23',
      timeZoneName: 'short',
    })
    formatters.set(zone, f)
  }
  return f
}

/** True for a time zone name this runtime knows (`America/Toronto`, `UTC`). */
export function isTimeZone(value: unknown): value is string {
  if (typeof value !== 'string' || !ZONE_SHAPE.test(value)) return false
  try {
    formatterFor(value)
    return true
  } catch {
    return false
  }
}

/** The clinic's zone from its settings; the default when it has none or an unknown one. */
export function clinicTimeZone(settings: { timeZone?: unknown } | null | undefined): string {
  const zone = settings?.timeZone
  return isTimeZone(zone) ? zone : DEFAULT_TIME_ZONE
}

type Parts = { year: string; month: string; day: string; hour: string; minute: string; second: string; zoneName: string }

function toDate(at: string | Date | number): Date | null {
  const date = at instanceof Date ? at : new Date(at)
  return Number.isNaN(date.getTime()) ? null : date
}

function partsOf(date: Date, zone: string): Parts {
  const parts: Record<string, string> = {}
  for (const p of formatterFor(isTimeZone(zone) ? zone : DEFAULT_TIME_ZONE).formatToParts(date)) parts[p.type] = p.value
  return {
    year: parts.year ?? '',
    month: parts.month ?? '',
    day: parts.day ?? '',
    // Some engines still say 24 for midnight despite h23.
    hour: parts.hour === '24' ? '00' : (parts.hour ?? ''),
    minute: parts.minute ?? '',
    second: parts.second ?? '',
    zoneName: parts.timeZoneName ?? zone,
  }
}

/** `2026-12-01 09:30 EST`: the instant in the clinic's zone, the zone named. Empty for an invalid time. */
export function formatClinicTime(at: string | Date | number, zone: string, options: { seconds?: boolean } = {}): string {
  const date = toDate(at)
  if (!date) return ''
  const p = partsOf(date, zone)
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}${options.seconds ? `:${p.second}` : ''} ${p.zoneName}`
}

/**
 * The clinic's calendar day of an instant and its full time, from one reading of the zone: a
 * queue page shows both for each of its rows (the day, and the time on hover).
 */
export function clinicDayAndTime(at: string | Date | number, zone: string): { day: string; time: string } {
  const date = toDate(at)
  if (!date) return { day: '', time: '' }
  const p = partsOf(date, zone)
  return { day: `${p.year}-${p.month}-${p.day}`, time: `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute} ${p.zoneName}` }
}

/** `2026-12-01`: the clinic's calendar day of an instant. */
export function clinicDay(at: string | Date | number, zone: string): string {
  const date = toDate(at)
  if (!date) return ''
  const p = partsOf(date, zone)
  return `${p.year}-${p.month}-${p.day}`
}

/** The zone's abbreviation at an instant (EST in January, EDT in July). */
export function zoneAbbreviation(zone: string, at: string | Date | number = Date.now()): string {
  const date = toDate(at) ?? new Date()
  return partsOf(date, zone).zoneName
}

/** How far the zone is ahead of UTC at an instant, in milliseconds (Toronto in January: -5 h). */
function offsetAt(ms: number, zone: string): number {
  const p = partsOf(new Date(ms), zone)
  const local = Date.UTC(Number(p.year), Number(p.month) - 1, Number(p.day), Number(p.hour), Number(p.minute), Number(p.second))
  return local - Math.floor(ms / 1000) * 1000
}

const DAY = /^(\d{4})-(\d{2})-(\d{2})$/

/**
 * The instant a clinic day (`YYYY-MM-DD`) begins in the zone: 2026-01-15 in Toronto begins at
 * 05:00 UTC. A day whose midnight a clock change skips begins at the first minute it has.
 * Null for a malformed day.
 */
export function startOfClinicDay(day: string, zone: string): Date | null {
  const m = DAY.exec(day)
  if (!m) return null
  const midnight = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]))
  if (Number.isNaN(midnight)) return null
  const first = midnight - offsetAt(midnight, zone)
  const second = midnight - offsetAt(first, zone)
  // Where the two guesses differ a clock change is near: the earlier instant that still falls on the day.
  const start = clinicDay(Math.min(first, second), zone) === day ? Math.min(first, second) : Math.max(first, second)
  return new Date(start)
}

const TIME_OF_DAY = /^([01]\d|2[0-3]):([0-5]\d)$/

/**
 * The instant a clinic's wall clock reads `HH:MM` on a day (a fax header's time): 2026-01-15
 * 09:30 in Toronto is 14:30 UTC. A time a clock change skips counts as the same time before
 * the change. Null for a malformed day or time.
 */
export function clinicInstant(day: string, time: string, zone: string): Date | null {
  const start = startOfClinicDay(day, zone)
  const t = TIME_OF_DAY.exec(time)
  if (!start || !t) return null
  const m = DAY.exec(day)!
  const wall = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(t[1]), Number(t[2]))
  // The offset where the day starts, then the offset at that guess: right on both sides of a change.
  const guess = wall - offsetAt(start.getTime(), zone)
  return new Date(wall - offsetAt(guess, zone))
}

/** The day after a `YYYY-MM-DD` day, as `YYYY-MM-DD` (calendar arithmetic, no zone). */
export function nextDay(day: string): string {
  const m = DAY.exec(day)
  if (!m) return day
  return new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]) + 1)).toISOString().slice(0, 10)
}

/** The zones offered on the clinic settings page: Canada's first, then every zone this runtime knows. */
export const CANADIAN_TIME_ZONES = [
  { zone: 'America/St_Johns', label: 'Newfoundland (St. John’s)' },
  { zone: 'America/Halifax', label: 'Atlantic (Halifax)' },
  { zone: 'America/Moncton', label: 'Atlantic (Moncton)' },
  { zone: 'America/Toronto', label: 'Eastern (Toronto)' },
  { zone: 'America/Winnipeg', label: 'Central (Winnipeg)' },
  { zone: 'America/Regina', label: 'Saskatchewan (Regina, no daylight time)' },
  { zone: 'America/Edmonton', label: 'Mountain (Edmonton)' },
  { zone: 'America/Vancouver', label: 'Pacific (Vancouver)' },
  { zone: 'America/Whitehorse', label: 'Yukon (Whitehorse)' },
] as const

export function allTimeZones(): string[] {
  const supported = (Intl as { supportedValuesOf?: (key: string) => string[] }).supportedValuesOf
  const zones = supported ? supported('timeZone') : []
  return zones.includes('UTC') ? zones : [...zones, 'UTC']
}
