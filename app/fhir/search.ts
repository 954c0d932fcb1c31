/**
 * The search parameters /fhir/R4 takes, parsed into filters; anything else is refused (400,
 * each parameter named), never ignored: a client that asked for a filter we do not have must
 * not take the unfiltered list for its answer. Pure: app/fhir/search.test.ts.
 */
import type { ReferralPriority, ReferralStatus } from '~/db/enums'
import { decodeQueueCursor } from '~/referrals/queue'
import { isUuid } from '~/utils/keyset'
import { BSER_BUSINESS_STATUS, BSER_CODES, PRIORITY, REQUEST_PRIORITIES, REQUEST_STATUSES, statusesWhere, TASK_STATUSES, WORKFLOW } from './codes'

export const DEFAULT_COUNT = 25
export const MAX_COUNT = 100

export type Problem = { name: string; message: string }

/** A point in time compared with a date parameter: `at` (inclusive) .. `before` (exclusive). */
export type TimeBound = { op: 'ge' | 'gt' | 'le' | 'lt' | 'eq'; from: Date; until: Date }

/** What the server needs to turn a calendar day into an instant (the clinic's midnight). */
export type DayStart = (day: string) => Date

type Common = { count: number; cursor: string | undefined; lastUpdated: TimeBound[] }
export type ServiceRequestSearch = Common & {
  statuses: ReferralStatus[] | null
  priorities: ReferralPriority[] | null
  authored: TimeBound[]
  healthCard: string | undefined
}
export type TaskSearch = Common & { statuses: ReferralStatus[] | null; focus: string[] | null }

/** Parameters a client may send on any interaction; `_format` only in its JSON forms (we speak nothing else). */
const FORMATS = ['json', 'application/json', 'application/fhir+json']

/** Checks the parameters every read and search takes, leaving the rest to the caller. */
function common(params: URLSearchParams, problems: Problem[]) {
  for (const format of params.getAll('_format')) {
    if (!FORMATS.includes(format.split(';')[0]!.trim())) problems.push({ name: '_format', message: 'not supported: this server answers in JSON only' })
  }
}

/** A read takes no parameters but `_format`. */
export function readProblems(params: URLSearchParams): Problem[] {
  const problems: Problem[] = []
  common(params, problems)
  for (const name of new Set(params.keys())) if (name !== '_format') problems.push({ name, message: 'not supported on a read' })
  return problems
}

/** Communication?based-on=ServiceRequest/{id}: one referral's thread (a search across all of them would decrypt every message). */
export function communicationSearch(params: URLSearchParams): { referralId: string | null; problems: Problem[] } {
  const problems: Problem[] = []
  common(params, problems)
  for (const name of new Set(params.keys())) if (name !== '_format' && name !== 'based-on') problems.push({ name, message: 'not supported: only based-on' })
  const basedOn = single(params, 'based-on', problems)
  const id = basedOn?.startsWith('ServiceRequest/') ? basedOn.slice('ServiceRequest/'.length) : undefined
  if (basedOn === undefined) problems.push({ name: 'based-on', message: 'required: ServiceRequest/{id}, the referral whose messages to list' })
  else if (!isUuid(id)) problems.push({ name: 'based-on', message: 'must be ServiceRequest/{id}' })
  return { referralId: isUuid(id) ? id : null, problems }
}

function single(params: URLSearchParams, name: string, problems: Problem[]) {
  const values = params.getAll(name)
  if (values.length > 1) problems.push({ name, message: 'give it once' })
  return values[0]
}

/** Comma-separated token values (OR); `system|code` when the parameter has a system. */
function tokens(params: URLSearchParams, name: string, problems: Problem[]): string[] | null {
  const values = params.getAll(name)
  if (values.length === 0) return null
  // Repeated, they AND: the referral has one status, so two different codes match nothing.
  const sets = values.map((v) =>
    v
      .split(',')
      .map((t) => t.trim())
      .filter(Boolean),
  )
  if (sets.some((s) => s.length === 0)) problems.push({ name, message: 'give at least one code' })
  return sets.reduce((acc, set) => acc.filter((t) => set.includes(t)))
}

function countOf(params: URLSearchParams, problems: Problem[]) {
  const raw = single(params, '_count', problems)
  if (raw === undefined) return DEFAULT_COUNT
  if (!/^\d{1,4}$/.test(raw) || Number(raw) < 1 || Number(raw) > MAX_COUNT) {
    problems.push({ name: '_count', message: `a whole number from 1 to ${MAX_COUNT}` })
    return DEFAULT_COUNT
  }
  return Number(raw)
}

function cursorOf(params: URLSearchParams, problems: Problem[]) {
  const raw = single(params, '_cursor', problems)
  if (raw === undefined) return undefined
  if (raw.length > 500 || !decodeQueueCursor(raw)) {
    problems.push({ name: '_cursor', message: 'not a page link this server made' })
    return undefined
  }
  return raw
}

const DATE = /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))?)?)?$/
const PREFIX = /^(eq|ne|gt|lt|ge|le|sa|eb|ap)?(.*)$/

/** A date parameter's interval: a day, month or year in the clinic's calendar, or an instant to the second. */
export function timeBound(value: string, dayStart: DayStart): TimeBound | string {
  const [, prefix = 'eq', rest = ''] = PREFIX.exec(value) ?? []
  if (!['eq', 'gt', 'lt', 'ge', 'le'].includes(prefix)) return `the prefix ${prefix} is not supported (eq, gt, ge, lt, le)`
  const m = DATE.exec(rest)
  if (!m) return 'a date (YYYY, YYYY-MM, YYYY-MM-DD) or a date and time with its time zone'
  const [, y, mo, d, h, mi, s, zone] = m
  const pad = (n: number) => String(n).padStart(2, '0')
  const month = Number(mo ?? 1)
  const day = Number(d ?? 1)
  if (month < 1 || month > 12 || day < 1 || day > 31) return 'not a real date'
  let from: Date
  let until: Date
  if (h !== undefined) {
    if (zone === undefined) return 'a time needs its time zone (Z or ±hh:mm)'
    const seconds = s !== undefined
    from = new Date(`${y}-${mo}-${d}T${h}:${mi}:${s ?? '00'}${zone === 'Z' ? 'Z' : zone}`)
    if (Number.isNaN(from.getTime())) return 'not a real date and time'
    until = new Date(from.getTime() + (seconds ? 1000 : 60_000))
  } else {
    const start = `${y}-${pad(month)}-${pad(day)}`
    const check = new Date(`${start}T00:00:00Z`)
    if (check.getUTCDate() !== day) return 'not a real date'
    const next =
      d !== undefined
        ? new Date(check.getTime() + 86_400_000)
        : mo !== undefined
          ? new Date(Date.UTC(Number(y), month, 1))
          : new Date(Date.UTC(Number(y) + 1, 0, 1))
    from = dayStart(start)
    until = dayStart(next.toISOString().slice(0, 10))
  }
  return { op: prefix as TimeBound['op'], from, until }
}

function times(params: URLSearchParams, name: string, dayStart: DayStart, problems: Problem[]): TimeBound[] {
  const out: TimeBound[] = []
  for (const value of params.getAll(name)) {
    const bound = timeBound(value, dayStart)
    if (typeof bound === 'string') problems.push({ name, message: bound })
    else out.push(bound)
  }
  return out
}

function unknown(params: URLSearchParams, known: string[], problems: Problem[], hint: Record<string, string> = {}) {
  for (const name of new Set(params.keys())) {
    if (known.includes(name)) continue
    // Own keys only: `constructor` or `__proto__` as a parameter name must not read Object's.
    problems.push({
      name,
      message: (Object.hasOwn(hint, name) ? hint[name] : undefined) ?? `not supported here (supported: ${known.filter((k) => k !== '_format').join(', ')})`,
    })
  }
}

const SR_PARAMS = ['status', 'priority', 'authored', '_lastUpdated', '_count', '_cursor', '_format']

/**
 * ServiceRequest search. `body` is what was posted to `_search`: only there may the patient's
 * health card be given (`patient.identifier`), so that it is never in a URL or a log line.
 */
export function serviceRequestSearch(
  params: URLSearchParams,
  dayStart: DayStart,
  body?: URLSearchParams,
): { search: ServiceRequestSearch; problems: Problem[] } {
  const problems: Problem[] = []
  const all = new URLSearchParams(params)
  let healthCard: string | undefined
  if (body) {
    for (const [name, value] of body) {
      if (name === 'patient.identifier') continue
      all.append(name, value)
    }
    const cards = body.getAll('patient.identifier')
    if (cards.length > 1) problems.push({ name: 'patient.identifier', message: 'give it once' })
    if (cards[0] !== undefined) {
      // `system|value` or the value alone; the system, if given, must be a health card's.
      const [system, value] = cards[0].includes('|') ? (cards[0].split('|', 2) as [string, string]) : ['', cards[0]]
      if (system && !/health-card|hcn/i.test(system)) problems.push({ name: 'patient.identifier', message: 'only a health card number can be searched' })
      else if (!value.trim() || value.length > 40) problems.push({ name: 'patient.identifier', message: 'a health card number' })
      else healthCard = value.trim()
    }
  }
  common(all, problems)
  unknown(all, SR_PARAMS, problems, {
    'patient.identifier': 'a patient identifier is PHI: POST it to ServiceRequest/_search as a form (application/x-www-form-urlencoded)',
  })
  const statusCodes = tokens(all, 'status', problems)
  const priorityCodes = tokens(all, 'priority', problems)
  for (const code of statusCodes ?? []) {
    if (!(REQUEST_STATUSES as readonly string[]).includes(code)) problems.push({ name: 'status', message: `one of ${REQUEST_STATUSES.join(', ')}` })
  }
  for (const code of priorityCodes ?? []) {
    if (!(REQUEST_PRIORITIES as readonly string[]).includes(code)) problems.push({ name: 'priority', message: `one of ${REQUEST_PRIORITIES.join(', ')}` })
  }
  const statuses = statusCodes && [...new Set(statusCodes.flatMap((code) => statusesWhere((w) => w.request, code)))]
  const priorities = priorityCodes && (Object.keys(PRIORITY) as ReferralPriority[]).filter((p) => priorityCodes.includes(PRIORITY[p]))
  return {
    search: {
      statuses,
      priorities,
      authored: times(all, 'authored', dayStart, problems),
      lastUpdated: times(all, '_lastUpdated', dayStart, problems),
      count: countOf(all, problems),
      cursor: cursorOf(all, problems),
      healthCard,
    },
    problems,
  }
}

const TASK_PARAMS = ['focus', 'status', 'business-status', '_lastUpdated', '_count', '_cursor', '_format']

/** `ServiceRequest/{id}`, its full URL, or the id alone. */
const focusId = (value: string) => {
  const id = /(?:^|\/)ServiceRequest\/([^/]+)$/.exec(value)?.[1] ?? value
  return isUuid(id) ? id : null
}

export function taskSearch(params: URLSearchParams, dayStart: DayStart): { search: TaskSearch; problems: Problem[] } {
  const problems: Problem[] = []
  common(params, problems)
  unknown(params, TASK_PARAMS, problems)
  const focusValues = tokens(params, 'focus', problems)
  const focus = focusValues && focusValues.map(focusId)
  if (focus?.some((f) => f === null)) problems.push({ name: 'focus', message: 'a ServiceRequest reference, e.g. ServiceRequest/{id}' })
  const statusCodes = tokens(params, 'status', problems)
  for (const code of statusCodes ?? []) {
    if (!(TASK_STATUSES as readonly string[]).includes(code)) problems.push({ name: 'status', message: `one of ${TASK_STATUSES.join(', ')}` })
  }
  const businessCodes = tokens(params, 'business-status', problems)
  const business = businessCodes?.map((token) => {
    const [system, code] = token.includes('|') ? (token.split('|', 2) as [string, string]) : [null, token]
    if ((system !== null && system !== '' && system !== BSER_BUSINESS_STATUS) || !Object.hasOwn(BSER_CODES, code)) {
      problems.push({ name: 'business-status', message: `a code of ${BSER_BUSINESS_STATUS}: ${Object.keys(BSER_CODES).join(', ')}` })
    }
    return code
  })
  const byStatus = statusCodes && statusCodes.flatMap((code) => statusesWhere((w) => w.task, code))
  const byBusiness = business && business.flatMap((code) => statusesWhere((w) => w.business, code))
  const statuses = byStatus && byBusiness ? byStatus.filter((s) => byBusiness.includes(s)) : (byStatus ?? byBusiness ?? null)
  return {
    search: {
      focus: focus ? (focus.filter(Boolean) as string[]) : null,
      statuses: statuses && [...new Set(statuses)].sort((a, b) => Object.keys(WORKFLOW).indexOf(a) - Object.keys(WORKFLOW).indexOf(b)),
      lastUpdated: times(params, '_lastUpdated', dayStart, problems),
      count: countOf(params, problems),
      cursor: cursorOf(params, problems),
    },
    problems,
  }
}

/** The same search with another page: what a `next` link carries (never `patient.identifier`). */
export function pageLink(base: string, params: URLSearchParams, cursor: string) {
  const next = new URLSearchParams()
  for (const [name, value] of params) if (name !== '_cursor' && name !== 'patient.identifier') next.append(name, value)
  next.set('_cursor', cursor)
  return `${base}?${next.toString()}`
}

/** DocumentReference search: the documents of one referral, by its ServiceRequest (`related`) or its Patient (`patient`, `subject`). */
export type DocumentSearch = { referralId: string | undefined }

const DOCUMENT_PARAMS = ['related', 'patient', 'subject', '_format']

export function documentSearch(params: URLSearchParams): { search: DocumentSearch; problems: Problem[] } {
  const problems: Problem[] = []
  common(params, problems)
  unknown(params, DOCUMENT_PARAMS, problems)
  const given = (['related', 'patient', 'subject'] as const).filter((name) => params.has(name))
  if (given.length !== 1) {
    problems.push({ name: given[1] ?? 'related', message: 'give one of related (ServiceRequest/{id}), patient or subject (Patient/{id}), once' })
    return { search: { referralId: undefined }, problems }
  }
  const name = given[0]!
  const value = single(params, name, problems) ?? ''
  const kind = name === 'related' ? 'ServiceRequest' : 'Patient'
  const id = new RegExp(`(?:^|/)${kind}/([^/]+)$`).exec(value)?.[1] ?? value
  if (!isUuid(id)) problems.push({ name, message: `a ${kind} reference, e.g. ${kind}/{id}` })
  return { search: { referralId: isUuid(id) ? id : undefined }, problems }
}

/** AuditEvent search: newest first in the clinic's chain, keyset on its position (`_cursor`). */
export type AuditEventSearch = {
  count: number
  /** Rows strictly older in the chain than this position. */
  beforeSeq: number | undefined
  date: TimeBound[]
  /** IntakePilot action codes (`subtype`), OR. */
  actions: string[] | null
  /** FHIR audit-event-outcome codes (0, 4, 8), OR. */
  outcomes: string[] | null
}

const AUDIT_PARAMS = ['date', 'subtype', 'outcome', '_count', '_cursor', '_format']
const AUDIT_OUTCOMES = ['0', '4', '8']
export const AUDIT_ACTION_SYSTEM = 'urn:intakepilot:audit-action'

/** An AuditEvent page link's position: opaque to the client, checked here. */
export const encodeAuditCursor = (seq: number) => btoa(`seq:${seq}`).replace(/=+$/, '')
export function decodeAuditCursor(raw: string): number | null {
  if (raw.length > 40 || !/^[A-Za-z0-9+/]+$/.test(raw)) return null
  let text: string
  try {
    text = atob(raw)
  } catch {
    return null
  }
  const match = /^seq:([1-9]\d{0,15})$/.exec(text)
  return match && Number.isSafeInteger(Number(match[1])) ? Number(match[1]) : null
}

export function auditEventSearch(
  params: URLSearchParams,
  dayStart: DayStart,
  actionCodes: readonly string[],
): { search: AuditEventSearch; problems: Problem[] } {
  const problems: Problem[] = []
  common(params, problems)
  unknown(params, AUDIT_PARAMS, problems)
  const subtypes = tokens(params, 'subtype', problems)
  const actions = subtypes?.map((token) => {
    const [system, code] = token.includes('|') ? (token.split('|', 2) as [string, string]) : [null, token]
    if ((system !== null && system !== '' && system !== AUDIT_ACTION_SYSTEM) || !actionCodes.includes(code)) {
      problems.push({ name: 'subtype', message: `an IntakePilot action code (${AUDIT_ACTION_SYSTEM}), e.g. referral.read` })
    }
    return code
  })
  const outcomes = tokens(params, 'outcome', problems)
  for (const code of outcomes ?? [])
    if (!AUDIT_OUTCOMES.includes(code)) problems.push({ name: 'outcome', message: 'one of 0 (success), 4 (refused), 8 (error)' })
  const rawCursor = single(params, '_cursor', problems)
  const beforeSeq = rawCursor === undefined ? undefined : (decodeAuditCursor(rawCursor) ?? undefined)
  if (rawCursor !== undefined && beforeSeq === undefined) problems.push({ name: '_cursor', message: 'not a page link this server made' })
  return {
    search: { count: countOf(params, problems), beforeSeq, date: times(params, 'date', dayStart, problems), actions: actions ?? null, outcomes },
    problems,
  }
}
