/**
 * bench/soak.svg: memory over the soak, hand-written SVG (no dependency), two panels on one time
 * axis. Top: the isolate's heap (used, and after a forced full GC) against the 128 MB an isolate
 * gets on Cloudflare. Bottom: RSS of the workerd process that runs the app. The warm-up is shaded.
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
const M = { top: 64, right: 200, left: 60, gap: 44, bottom: 56 }
const PANEL = 190
const H = M.top + PANEL * 2 + M.gap + M.bottom
const MB = 1048576
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;')

function niceStep(range: number, ticks: number) {
  const raw = range / ticks
  const power = 10 ** Math.floor(Math.log10(raw))
  return [1, 2, 2.5, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? raw
}

type Line = { points: [number, number][]; color: string; width: number; label: string; dash?: string; dots?: boolean }

export function soakChart(samples: Sample[], summary: Summary): string {
  const tMax = Math.max(1, ...samples.map((s) => s.t))
  const x = (t: number) => M.left + (t / tMax) * (W - M.left - M.right)
  const warmEnd = samples.find((s) => s.phase === 'baseline')?.t ?? 0
  const out: string[] = []
  const s = summary
  const pct = s.machine.others === null ? '' : `; other agents used ${Math.round(s.machine.others * 100)}% of the machine's CPU meanwhile`
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" font-family="system-ui, sans-serif" font-size="12">`)
  out.push(`<rect width="${W}" height="${H}" fill="#fff"/>`)
  out.push(
    `<text x="${M.left}" y="22" font-size="15" font-weight="600">IntakePilot soak: ${Math.round(s.settings.minutes)} min of ${s.settings.mix === 'all' ? 'mixed traffic' : `${s.settings.mix} traffic`}, ${s.settings.connections} connections, after a ${s.settings.warmupSeconds} s warm-up</text>`,
  )
  out.push(
    `<text x="${M.left}" y="40" fill="#475569">${esc(`${s.requests.soak.toLocaleString('en')} requests (${s.requests.perSecond}/s). Heap after GC ${s.heap.baselineMb} → ${s.heap.endMb} MB, ${s.heap.growthMbPer10k} MB per 10,000 requests, peak ${s.heap.peakMb} MB`)}</text>`,
  )
  out.push(
    `<text x="${M.left}" y="56" fill="#475569">${esc(`App's workerd RSS ${s.rss.baselineMb} → ${s.rss.endMb} MB, ${s.rss.growthMbPer10k} MB per 10,000 requests${pct}`)}</text>`,
  )

  const panel = (top: number, title: string, lines: Line[], minMax: number, limit?: { at: number; label: string }) => {
    const bottom = top + PANEL
    const yMaxData = Math.max(minMax, ...lines.flatMap((l) => l.points.map((p) => p[1])))
    const yStep = niceStep(yMaxData, 5)
    const yMax = Math.ceil(yMaxData / yStep) * yStep
    const y = (mb: number) => bottom - (mb / yMax) * PANEL
    if (warmEnd > 0) {
      out.push(`<rect x="${x(0)}" y="${top}" width="${(x(warmEnd) - x(0)).toFixed(1)}" height="${PANEL}" fill="#f1f5f9"/>`)
      out.push(`<text x="${(x(0) + 4).toFixed(1)}" y="${bottom - 6}" fill="#64748b">warm-up</text>`)
    }
    for (let v = 0; v <= yMax + 1e-9; v += yStep) {
      out.push(`<line x1="${M.left}" x2="${W - M.right}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="#e2e8f0"/>`)
      out.push(`<text x="${M.left - 8}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end" fill="#475569">${Math.round(v)}</text>`)
    }
    out.push(`<text x="${M.left}" y="${top - 6}" font-weight="600">${esc(title)}</text>`)
    out.push(`<text transform="translate(18 ${(top + PANEL / 2).toFixed(0)}) rotate(-90)" text-anchor="middle" fill="#475569">MB</text>`)
    if (limit) {
      out.push(
        `<line x1="${M.left}" x2="${W - M.right}" y1="${y(limit.at).toFixed(1)}" y2="${y(limit.at).toFixed(1)}" stroke="#dc2626" stroke-dasharray="6 4"/>`,
      )
    }
    lines.forEach((line, row) => {
      if (!line.points.length) return
      const d = line.points.map(([t, v], i) => `${i ? 'L' : 'M'}${x(t).toFixed(1)},${y(v).toFixed(1)}`).join('')
      out.push(`<path d="${d}" fill="none" stroke="${line.color}" stroke-width="${line.width}"${line.dash ? ` stroke-dasharray="${line.dash}"` : ''}/>`)
      if (line.dots) for (const [t, v] of line.points) out.push(`<circle cx="${x(t).toFixed(1)}" cy="${y(v).toFixed(1)}" r="2.5" fill="${line.color}"/>`)
      const ly = top + 12 + row * 20
      out.push(
        `<line x1="${W - M.right + 12}" x2="${W - M.right + 36}" y1="${ly}" y2="${ly}" stroke="${line.color}" stroke-width="2.5"${line.dash ? ` stroke-dasharray="${line.dash}"` : ''}/>`,
      )
      out.push(`<text x="${W - M.right + 42}" y="${ly + 4}">${esc(line.label)}</text>`)
    })
    if (limit) {
      const ly = top + 12 + lines.length * 20
      out.push(`<line x1="${W - M.right + 12}" x2="${W - M.right + 36}" y1="${ly}" y2="${ly}" stroke="#dc2626" stroke-width="2" stroke-dasharray="6 4"/>`)
      out.push(`<text x="${W - M.right + 42}" y="${ly + 4}">${esc(limit.label)}</text>`)
    }
    out.push(`<line x1="${M.left}" x2="${W - M.right}" y1="${bottom}" y2="${bottom}" stroke="#475569"/>`)
    out.push(`<line x1="${M.left}" x2="${M.left}" y1="${top}" y2="${bottom}" stroke="#475569"/>`)
    return bottom
  }

  const mbOf = (pick: (s: Sample) => number | null) => samples.filter((x) => pick(x) !== null).map((x): [number, number] => [x.t, pick(x)! / MB])
  const top1 = M.top + 18
  panel(
    top1,
    "The Worker's heap (V8 isolate)",
    [
      { points: mbOf((x) => x.heapUsed), color: '#0ea5e9', width: 1.2, label: 'heap used' },
      { points: mbOf((x) => x.heapAfterGc), color: '#0f766e', width: 2.5, label: 'heap after full GC', dots: true },
    ],
    140,
    { at: 128, label: '128 MB (Cloudflare)' },
  )
  const top2 = top1 + PANEL + M.gap
  const bottom = panel(
    top2,
    "Resident memory (RSS) of the app's workerd",
    [{ points: mbOf((x) => x.rss), color: '#7c3aed', width: 2, label: "the app's workerd" }],
    140,
  )
  const tStep = niceStep(tMax / 60, 8)
  for (let m = 0; m * 60 <= tMax + 1e-9; m += tStep) {
    const px = x(m * 60).toFixed(1)
    out.push(`<line x1="${px}" x2="${px}" y1="${bottom}" y2="${bottom + 4}" stroke="#475569"/>`)
    out.push(`<text x="${px}" y="${bottom + 17}" text-anchor="middle" fill="#475569">${Number.isInteger(m) ? m : m.toFixed(1)}</text>`)
  }
  out.push(`<text x="${((M.left + W - M.right) / 2).toFixed(0)}" y="${H - 8}" text-anchor="middle" fill="#475569">minutes since the load started</text>`)
  out.push('</svg>')
  return `${out.join('\n')}\n`
}

// Redraws the chart from a results file: npx tsx scripts/bench/soak-chart.ts bench/soak-results.json bench/soak.svg
if (process.argv[1] && import.meta.filename === process.argv[1]) {
  const { readFileSync, writeFileSync } = await import('node:fs')
  const [from, to] = process.argv.slice(2)
  if (!from || !to) {
    console.error('usage: npx tsx scripts/bench/soak-chart.ts soak-results.json soak.svg')
    process.exit(2)
  }
  const results = JSON.parse(readFileSync(from, 'utf8'))
  writeFileSync(to, soakChart(results.samples, results))
}
