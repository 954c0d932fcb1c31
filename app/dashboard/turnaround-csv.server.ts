/**
 * The Turnaround page as CSV, one fact a row (section, item, measure, value), so a spreadsheet
 * can filter and pivot it. Cells go through the audit export's csvCell: a referrer's name that
 * starts like a formula is written as text.
 */
import { csvCell } from '~/audit/audit-formats'
import { PRIORITY_LABELS } from './turnaround'
import type { TurnaroundReport } from './turnaround-page.server'

type Fact = [section: string, item: string, measure: string, value: string | number | null]

const hours = (h: number | null) => (h === null ? null : Math.round(h * 10) / 10)

export function turnaroundCsv(r: TurnaroundReport): string {
  const facts: Fact[] = [
    ['period', 'since', 'date', r.since],
    ['period', 'weeks', 'count', r.weeks],
    ['period', 'time_zone', 'name', r.timeZone],
    ['period', 'received', 'count', r.received],
    ['period', 'declined', 'count', r.declined],
    ['open', 'all', 'count', r.openTotal],
  ]
  for (const [section, rows, reached] of [
    ['triage', r.triage, 'triaged'],
    ['booking', r.booking, 'booked'],
  ] as const)
    for (const s of rows) {
      const item = PRIORITY_LABELS[s.priority]
      facts.push(
        [section, item, 'received', s.received],
        [section, item, reached, s.reached],
        [section, item, 'within_target', s.withinTarget],
        [section, item, 'target_hours', s.targetHours],
        [section, item, 'median_hours', hours(s.medianHours)],
        [section, item, 'p90_hours', hours(s.p90Hours)],
      )
    }
  for (const a of r.aging)
    facts.push(['aging', a.label, 'emergent', a.emergent], ['aging', a.label, 'urgent', a.urgent], ['aging', a.label, 'routine', a.routine])
  for (const w of r.weekly) facts.push(['weekly', w.week, 'received', w.total])
  for (const p of r.referrers) {
    const item = p.organization ? `${p.name} (${p.organization})` : p.name
    facts.push(['referrer', item, 'received', p.total], ['referrer', item, 'declined', p.declined])
  }
  for (const x of r.reasons) facts.push(['decline_reason', x.reason, 'declined', x.total])
  return ['section,item,measure,value\r\n', ...facts.map((f) => `${f.map(csvCell).join(',')}\r\n`)].join('')
}
