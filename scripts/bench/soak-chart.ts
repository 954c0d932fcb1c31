/**
 * bench/soak.svg: memory over the soak, hand-written SVG (no dependency). Time on x; on y, workerd's
 * RSS, the isolate's heap (used, and after a forced GC), and the 128 MB an isolate gets on
 * Cloudflare. The warm-up is shaded; requests are marked along the top.
 */
import type { Sample } from './soak-report'

type Summary = {
  settings: { minutes: number; connections: number; mix: string; warmupSeconds: number }
  requests: { soak: number; warmup: number; perSecond: number }
  heap: { baselineMb: number; endMb: number; growthMbPer10k: number | null; peakMb: number }
  rss: { baselineMb: number | null; endMb: number | null; growthMbPer10k: number | null }
  machine: { others: number | null }
}

const W = 900
const H = 420
const M = { top: 56, right: 150, bottom: 48, left: 60 }
const MB = 1048576
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;')

function niceStep(range: number, ticks: number) {
  const raw = range / ticks
  const power = 10 ** Math.floor(Math.log10(raw))
  return [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? raw
}

export function soakChart(samples: Sample[], summary: Summary): string {
  const tMax = Math.max(1, ...samples.map((s) => s.t))
  const yMaxData = Math.max(140, ...samples.map((s) => (s.rss ?? 0) / MB), ...samples.map((s) => s.heapUsed / MB))
  const yStep = niceStep(yMaxData, 6)
  const yMax = Math.ceil(yMaxData / yStep) * yStep
  const x = (t: number) => M.left + (t / tMax) * (W - M.left - M.right)
  const y = (mb: number) => H - M.bottom - (mb / yMax) * (H - M.top - M.bottom)
  const path = (points: [number, number][]) => points.map(([t, v], i) => `${i ? 'L' : 'M'}${x(t).toFixed(1)},${y(v).toFixed(1)}`).join('')
  const rss = samples.filter((s) => s.rss !== null).map((s): [number, number] => [s.t, s.rss! / MB])
  const used = samples.map((s): [number, number] => [s.t, s.heapUsed / MB])
  const gc = samples.filter((s) => s.heapAfterGc !== null).map((s): [number, number] => [s.t, s.heapAfterGc! / MB])
  const warmEnd = samples.find((s) => s.phase === 'baseline')?.t ?? 0
  const out: string[] = []
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" font-family="system-ui, sans-serif" font-size="12">`)
  out.push(`<rect width="${W}" height="${H}" fill="#fff"/>`)
  const s = summary
  out.push(`<text x="${M.left}" y="22" font-size="15" font-weight="600">IntakePilot soak: workerd memory over ${Math.round(s.settings.minutes)} min (${s.settings.mix} mix, ${s.settings.connections} connections)</text>`)
  out.push(`<text x="${M.left}" y="40" fill="#475569">${esc(`${s.requests.soak.toLocaleString('en')} requests after a ${s.settings.warmupSeconds} s warm-up (${s.requests.perSecond}/s). Heap after GC ${s.heap.baselineMb} → ${s.heap.endMb} MB (${s.heap.growthMbPer10k} MB / 10k requests); RSS ${s.rss.baselineMb} → ${s.rss.endMb} MB${s.machine.others === null ? '' : `; other agents' load ${Math.round(s.machine.others * 100)}% of CPU`}`)}</text>`)
  if (warmEnd > 0) {
    out.push(`<rect x="${x(0)}" y="${M.top}" width="${(x(warmEnd) - x(0)).toFixed(1)}" height="${H - M.top - M.bottom}" fill="#f1f5f9"/>`)
    out.push(`<text x="${(x(0) + 4).toFixed(1)}" y="${M.top + 14}" fill="#64748b">warm-up</text>`)
  }
  for (let v = 0; v <= yMax; v += yStep) {
    out.push(`<line x1="${M.left}" x2="${W - M.right}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="#e2e8f0"/>`)
    out.push(`<text x="${M.left - 8}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end" fill="#475569">${v}</text>`)
  }
  const tStep = niceStep(tMax / 60, 8) * 60
  for (let t = 0; t <= tMax; t += tStep) {
    out.push(`<line x1="${x(t).toFixed(1)}" x2="${x(t).toFixed(1)}" y1="${H - M.bottom}" y2="${H - M.bottom + 4}" stroke="#475569"/>`)
    out.push(`<text x="${x(t).toFixed(1)}" y="${H - M.bottom + 18}" text-anchor="middle" fill="#475569">${Math.round(t / 60)}</text>`)
  }
  out.push(`<text x="${((M.left + W - M.right) / 2).toFixed(0)}" y="${H - 10}" text-anchor="middle" fill="#475569">minutes</text>`)
  out.push(`<text transform="translate(16 ${((M.top + H - M.bottom) / 2).toFixed(0)}) rotate(-90)" text-anchor="middle" fill="#475569">MB</text>`)
  out.push(`<line x1="${M.left}" x2="${W - M.right}" y1="${y(128).toFixed(1)}" y2="${y(128).toFixed(1)}" stroke="#dc2626" stroke-dasharray="6 4"/>`)
  const legend = (row: number, color: string, label: string, dash = '') => {
    const ly = M.top + 10 + row * 20
    out.push(`<line x1="${W - M.right + 12}" x2="${W - M.right + 36}" y1="${ly}" y2="${ly}" stroke="${color}" stroke-width="2.5"${dash ? ` stroke-dasharray="${dash}"` : ''}/>`)
    out.push(`<text x="${W - M.right + 42}" y="${ly + 4}">${label}</text>`)
  }
  if (rss.length) out.push(`<path d="${path(rss)}" fill="none" stroke="#7c3aed" stroke-width="2"/>`)
  out.push(`<path d="${path(used)}" fill="none" stroke="#0ea5e9" stroke-width="1.2" opacity="0.8"/>`)
  out.push(`<path d="${path(gc)}" fill="none" stroke="#0f766e" stroke-width="2.5"/>`)
  for (const [t, v] of gc) out.push(`<circle cx="${x(t).toFixed(1)}" cy="${y(v).toFixed(1)}" r="2.5" fill="#0f766e"/>`)
  legend(0, '#7c3aed', 'workerd RSS')
  legend(1, '#0ea5e9', 'heap used')
  legend(2, '#0f766e', 'heap after GC')
  legend(3, '#dc2626', '128 MB limit', '6 4')
  out.push(`<line x1="${M.left}" x2="${W - M.right}" y1="${H - M.bottom}" y2="${H - M.bottom}" stroke="#475569"/>`)
  out.push(`<line x1="${M.left}" x2="${M.left}" y1="${M.top}" y2="${H - M.bottom}" stroke="#475569"/>`)
  out.push('</svg>')
  return `${out.join('\n')}\n`
}
