/**
 * What the Turnaround page and its CSV export show: the period read from the URL, the numbers
 * (turnaround.server.ts) and the charts drawn from them. Only counts, durations, priorities and
 * referrers' names: nothing about a patient.
 */
import type { AppLoadContext } from '@remix-run/cloudflare'
import type { ReferralPriority } from '~/db/enums'
import { clinicTimeZone } from '~/utils/clinic-time'
import { agingBars, horizontalBars, weeklyLine } from './charts.server'
import {
  AGE_BANDS,
  clinicTargets,
  PRIORITY_LABELS,
  declineReasonLabel,
  DEFAULT_PERIOD_WEEKS,
  formatHours,
  PERIOD_WEEKS,
  percent,
  type PeriodWeeks,
} from './turnaround'
import { turnaround } from './turnaround.server'

/** `?weeks=` from the URL: one of the offered periods, or a problem the page states (400). */
export function readPeriod(url: URL): { weeks: PeriodWeeks; problem: string | null } {
  const raw = url.searchParams.get('weeks')
  if (raw === null || raw === '') return { weeks: DEFAULT_PERIOD_WEEKS, problem: null }
  const weeks = PERIOD_WEEKS.find((w) => String(w) === raw)
  if (weeks) return { weeks, problem: null }
  return { weeks: DEFAULT_PERIOD_WEEKS, problem: `Period: choose ${PERIOD_WEEKS.join(', ')} weeks. Showing the last ${DEFAULT_PERIOD_WEEKS} weeks.` }
}

export async function turnaroundReport(context: AppLoadContext, clinicId: string, weeks: PeriodWeeks) {
  const targets = clinicTargets(context.clinic?.settings)
  const timeZone = clinicTimeZone(context.clinic?.settings)
  const numbers = await context.db.tenant((tx) => turnaround(tx, { clinicId, weeks, timeZone, targets }))
  const steps = (step: 'triage' | 'booking') =>
    numbers[step].map((s) => ({ ...s, targetHours: targets[step][s.priority], target: formatHours(targets[step][s.priority]) }))
  const aging = AGE_BANDS.map((band, i) => {
    const count = (p: ReferralPriority) => numbers.aging.find((a) => a.band === i && a.priority === p)?.total ?? 0
    return { label: band.label, emergent: count('emergent'), urgent: count('urgent'), routine: count('routine') }
  })
  const weekly = numbers.weekly.map((w) => ({ week: w.week, label: shortDay(w.week), total: w.total }))
  const reasons = numbers.declineReasons.map((r) => ({ reason: declineReasonLabel(r.reason), total: r.total }))
  const within = (step: 'triage' | 'booking') =>
    horizontalBars(
      steps(step).map((s) => ({
        label: `${label(s.priority)} (target ${s.target})`,
        value: s.received ? (100 * s.withinTarget) / s.received : 0,
        valueLabel: percent(s.withinTarget, s.received),
      })),
      { max: 100 },
    )
  return {
    weeks,
    timeZone,
    since: numbers.since,
    received: numbers.received,
    declined: numbers.declined,
    triage: steps('triage'),
    booking: steps('booking'),
    aging,
    openTotal: aging.reduce((sum, a) => sum + a.emergent + a.urgent + a.routine, 0),
    weekly,
    referrers: numbers.referrers,
    reasons,
    charts: {
      triage: within('triage'),
      booking: within('booking'),
      aging: agingBars(
        aging.map((a) => a.label),
        aging,
      ),
      weekly: weeklyLine(weekly),
      referrers: horizontalBars(numbers.referrers.map((r) => ({ label: r.name, value: r.total, valueLabel: String(r.total) }))),
      reasons: horizontalBars(reasons.map((r) => ({ label: r.reason, value: r.total, valueLabel: String(r.total) }))),
    },
  }
}
export type TurnaroundReport = Awaited<ReturnType<typeof turnaroundReport>>

const label = (p: ReferralPriority) => PRIORITY_LABELS[p]

/** "Mar 2" from "2026-03-02": a week's Monday, in the clinic's calendar (the SQL made it so). */
function shortDay(day: string) {
  const [y, m, d] = day.split('-').map(Number)
  return new Date(Date.UTC(y!, m! - 1, d)).toLocaleDateString('en-CA', { month: 'short', day: 'numeric', timeZone: 'UTC' })
}
