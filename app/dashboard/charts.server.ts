/**
 * The dashboard's charts, drawn on the server with d3-scale and d3-shape into plain marks
 * (rectangles, paths, text) that the page renders as SVG (chart.tsx). Nothing of d3 reaches the
 * browser, and a chart reads the same without JavaScript.
 */
import { scaleBand, scaleLinear, scalePoint } from 'd3-scale'
import { area, line, stack } from 'd3-shape'
import type { ReferralPriority } from '~/db/enums'

export type Mark =
  | { kind: 'rect'; x: number; y: number; width: number; height: number; tone: Tone }
  | { kind: 'path'; d: string; tone: Tone; fill?: boolean }
  | { kind: 'text'; x: number; y: number; text: string; anchor?: 'start' | 'middle' | 'end'; muted?: boolean }
  | { kind: 'line'; x1: number; y1: number; x2: number; y2: number; tone: Tone; dashed?: boolean }
export type Tone = 'emergent' | 'urgent' | 'routine' | 'bar' | 'axis' | 'target' | 'area'
export type Chart = { width: number; height: number; marks: Mark[]; legend?: { tone: Tone; label: string }[] }

const WIDTH = 640
const PRIORITY_ORDER: ReferralPriority[] = ['emergent', 'urgent', 'routine']
const PRIORITY_LABELS: Record<ReferralPriority, string> = { emergent: 'Emergent', urgent: 'Urgent', routine: 'Routine' }

/** Whole-number ticks, at most `count`, for a count axis starting at zero. */
function countTicks(max: number, count = 5) {
  return scaleLinear()
    .domain([0, Math.max(1, max)])
    .nice(count)
    .ticks(count)
    .filter((t) => Number.isInteger(t))
}

/** One bar per row, left to right, its value written after it: referrers, reasons, shares within target. */
export function horizontalBars(rows: { label: string; value: number; valueLabel: string }[], o: { max?: number } = {}): Chart {
  const rowHeight = 28
  const left = 200
  const right = 70
  const height = Math.max(1, rows.length) * rowHeight + 8
  const x = scaleLinear()
    .domain([0, Math.max(1, o.max ?? Math.max(0, ...rows.map((r) => r.value)))])
    .range([left, WIDTH - right])
  const y = scaleBand<number>()
    .domain(rows.map((_, i) => i))
    .range([4, height - 4])
    .paddingInner(0.25)
  const marks: Mark[] = []
  rows.forEach((row, i) => {
    const top = y(i)!
    const middle = top + y.bandwidth() / 2 + 4
    marks.push({ kind: 'text', x: left - 8, y: middle, text: truncate(row.label, 30), anchor: 'end' })
    marks.push({ kind: 'rect', x: left, y: top, width: Math.max(0, x(row.value) - left), height: y.bandwidth(), tone: 'bar' })
    marks.push({ kind: 'text', x: x(row.value) + 6, y: middle, text: row.valueLabel, muted: true })
  })
  return { width: WIDTH, height, marks }
}

/** Open referrals by how long they have waited, stacked by priority. */
export function agingBars(bands: readonly string[], counts: Record<ReferralPriority, number>[]): Chart {
  const height = 260
  const margin = { top: 12, right: 12, bottom: 36, left: 44 }
  const series = stack<Record<ReferralPriority, number>, ReferralPriority>().keys(PRIORITY_ORDER)(counts)
  const max = Math.max(0, ...counts.map((c) => c.emergent + c.urgent + c.routine))
  const ticks = countTicks(max)
  const y = scaleLinear()
    .domain([0, ticks.at(-1) ?? 1])
    .range([height - margin.bottom, margin.top])
  const x = scaleBand<number>()
    .domain(bands.map((_, i) => i))
    .range([margin.left, WIDTH - margin.right])
    .padding(0.2)
  const marks: Mark[] = yAxis(ticks, y, margin.left)
  for (const s of series)
    s.forEach(([from, to], i) => {
      if (to > from) marks.push({ kind: 'rect', x: x(i)!, y: y(to), width: x.bandwidth(), height: y(from) - y(to), tone: s.key })
    })
  bands.forEach((label, i) => marks.push({ kind: 'text', x: x(i)! + x.bandwidth() / 2, y: height - margin.bottom + 18, text: label, anchor: 'middle' }))
  return { width: WIDTH, height, marks, legend: PRIORITY_ORDER.map((p) => ({ tone: p, label: PRIORITY_LABELS[p] })) }
}

/** Referrals received per week: a line over a shaded area, one point a week. */
export function weeklyLine(weeks: { label: string; total: number }[]): Chart {
  const height = 240
  const margin = { top: 12, right: 16, bottom: 36, left: 44 }
  const ticks = countTicks(Math.max(0, ...weeks.map((w) => w.total)))
  const y = scaleLinear()
    .domain([0, ticks.at(-1) ?? 1])
    .range([height - margin.bottom, margin.top])
  const x = scalePoint<number>()
    .domain(weeks.map((_, i) => i))
    .range([margin.left + 8, WIDTH - margin.right - 8])
  const points = weeks.map((w, i) => [x(i)!, y(w.total)] as [number, number])
  const marks: Mark[] = yAxis(ticks, y, margin.left)
  if (points.length > 0) {
    marks.push({ kind: 'path', d: area().y0(y(0))(points) ?? '', tone: 'area', fill: true })
    marks.push({ kind: 'path', d: line()(points) ?? '', tone: 'bar' })
  }
  // Every label would crowd a year of weeks: about eight of them, the last always.
  const every = Math.max(1, Math.ceil(weeks.length / 8))
  weeks.forEach((w, i) => {
    if (i % every === (weeks.length - 1) % every) marks.push({ kind: 'text', x: x(i)!, y: height - margin.bottom + 18, text: w.label, anchor: 'middle' })
  })
  return { width: WIDTH, height, marks }
}

function yAxis(ticks: number[], y: (v: number) => number, left: number): Mark[] {
  return ticks.flatMap((t): Mark[] => [
    { kind: 'line', x1: left, y1: y(t), x2: WIDTH - 12, y2: y(t), tone: 'axis' },
    { kind: 'text', x: left - 6, y: y(t) + 4, text: t.toLocaleString('en-CA'), anchor: 'end', muted: true },
  ])
}

const truncate = (text: string, max: number) => (text.length > max ? `${text.slice(0, max - 1)}…` : text)
