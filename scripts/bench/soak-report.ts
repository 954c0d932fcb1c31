/**
 * What a soak's samples say: heap and RSS at the end of the warm-up and at the end, growth per
 * 10,000 requests (least-squares slope over the soak's samples, so one noisy sample does not
 * decide it), the peak heap, and the targets (bench/README.md "Soak").
 */
import { cpus } from 'node:os'
import type { MachineLoad } from './machine'
import type { Tally } from './soak-traffic'

export type Sample = {
  /** Seconds since the load started. */
  t: number
  requests: number
  heapUsed: number
  heapTotal: number
  /** Heap used right after a forced full GC (HeapProfiler.collectGarbage); not every sample has one. */
  heapAfterGc: number | null
  /** VmRSS of the workerd that runs the app. */
  rss: number | null
  phase: 'start' | 'warmup' | 'baseline' | 'soak'
}

export const TARGETS = { endWithin: 0.1, mbPer10k: 5, maxHeapMb: 128 }
/**
 * The CI guard: 15 s of warm-up, then 3,000 requests (or 90 s, whichever comes first). It fails
 * only on growth no healthy run comes near: more than 30 MB kept after a full GC (~10 KB a
 * request over 3,000), or, on a machine too busy to send them all, more than 10 MB kept at 8 KB
 * or more a request; or on too few answers to judge. The timing of GC and the heap's own ups and
 * downs (a few MB) cannot fail it.
 */
export const GUARD = { warmupSeconds: 15, soakRequests: 3000, maxSoakSeconds: 90, maxGrowthMb: 30, rateFloorMb: 10, maxKbPerRequest: 8, minRequests: 200 }

const MB = 1048576
const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits

function slope(points: { x: number; y: number }[]): number | null {
  if (points.length < 2) return null
  const mx = points.reduce((a, p) => a + p.x, 0) / points.length
  const my = points.reduce((a, p) => a + p.y, 0) / points.length
  const sxx = points.reduce((a, p) => a + (p.x - mx) ** 2, 0)
  if (sxx === 0) return null
  return points.reduce((a, p) => a + (p.x - mx) * (p.y - my), 0) / sxx
}

export function summarize(input: {
  samples: Sample[]
  tally: Tally
  machine: MachineLoad
  settings: { minutes: number; warmupSeconds: number; connections: number; mix: string; sampleSeconds: number; guard: boolean }
}) {
  const { samples, tally, machine, settings } = input
  const baseIndex = Math.max(
    0,
    samples.findIndex((s) => s.phase === 'baseline'),
  )
  const base = samples[baseIndex]!
  const soak = samples.slice(baseIndex)
  const last = samples[samples.length - 1]!
  const requests = last.requests - base.requests
  const seconds = last.t - base.t
  const perTenK = (pick: (s: Sample) => number | null) => {
    const b = slope(soak.filter((s) => pick(s) !== null).map((s) => ({ x: s.requests, y: pick(s)! })))
    return b === null ? null : round((b * 10_000) / MB, 2)
  }
  const heapStart = base.heapAfterGc!
  const heapEnd = last.heapAfterGc!
  const peakHeap = Math.max(...samples.map((s) => s.heapUsed))
  const heapGrowth = perTenK((s) => s.heapAfterGc)
  const rssFigures = (pick: (s: Sample) => number | null) => {
    const value = (s: Sample) => (pick(s) === null ? null : round(pick(s)! / MB, 1))
    return {
      beforeLoadMb: value(samples[0]!),
      baselineMb: value(base),
      endMb: value(last),
      growthMbPer10k: perTenK(pick),
      peakMb: round(Math.max(...samples.map((s) => pick(s) ?? 0)) / MB, 1),
    }
  }
  const endChange = (heapEnd - heapStart) / heapStart
  const targets = {
    endWithin10Percent: Math.abs(endChange) <= TARGETS.endWithin,
    growthUnder5MbPer10k: heapGrowth !== null && heapGrowth < TARGETS.mbPer10k,
    peakUnder128Mb: peakHeap < TARGETS.maxHeapMb * MB,
  }
  const unexpected = Object.values(tally.unexpected).reduce((a, b) => a + b, 0)
  const growthMb = (heapEnd - heapStart) / MB
  let guardReason: string | null = null
  if (requests < GUARD.minRequests) guardReason = `only ${requests} requests were answered after the warm-up (need ${GUARD.minRequests} to judge)`
  else if (growthMb > GUARD.maxGrowthMb) guardReason = `the heap kept ${round(growthMb)} MB after GC over ${requests} requests (limit ${GUARD.maxGrowthMb} MB)`
  else if (growthMb > GUARD.rateFloorMb && (growthMb * 1024) / requests >= GUARD.maxKbPerRequest) {
    guardReason = `the heap kept ${round(growthMb)} MB after GC over ${requests} requests, ${round((growthMb * 1024) / requests)} KB a request (limit ${GUARD.maxKbPerRequest} KB a request once over ${GUARD.rateFloorMb} MB)`
  }
  const json = {
    date: new Date().toISOString(),
    settings,
    machine: { cpus: cpus().length, busy: machine.busy, others: machine.others, cpuMs: machine.cpuMs },
    requests: {
      warmup: base.requests,
      soak: requests,
      perSecond: round(requests / Math.max(seconds, 1)),
      errors: tally.errors,
      unexpected,
      byKind: tally.byKind,
      unexpectedByKind: tally.unexpected,
    },
    heap: {
      beforeLoadMb: round(samples[0]!.heapAfterGc! / MB, 2),
      baselineMb: round(heapStart / MB, 2),
      endMb: round(heapEnd / MB, 2),
      endChangePercent: round(endChange * 100),
      growthMbPer10k: heapGrowth,
      peakMb: round(peakHeap / MB, 1),
    },
    rss: rssFigures((x) => x.rss),
    targets,
    guard: settings.guard ? { passed: guardReason === null, reason: guardReason, maxGrowthMb: GUARD.maxGrowthMb } : undefined,
    samples: samples.map((s) => ({ ...s, t: round(s.t) })),
  }
  const yes = (ok: boolean) => (ok ? 'yes' : 'NO')
  const lines = [
    `requests: ${base.requests} in the warm-up, ${requests} in the soak (${json.requests.perSecond}/s); ${unexpected} unexpected, ${tally.errors} errors${tally.firstError ? ` (first: ${tally.firstError})` : ''}`,
    ...Object.entries(tally.byKind).map(
      ([kind, codes]) =>
        `  ${kind.padEnd(15)} ${Object.entries(codes)
          .map(([c, n]) => `${c} x ${n}`)
          .join(', ')}`,
    ),
    ...(unexpected
      ? [
          `unexpected: ${Object.entries(tally.unexpected)
            .map(([k, n]) => `${k} x ${n}`)
            .join(', ')}`,
        ]
      : []),
    `heap after GC: ${json.heap.beforeLoadMb} MB before load, ${json.heap.baselineMb} MB after the warm-up, ${json.heap.endMb} MB at the end (${json.heap.endChangePercent >= 0 ? '+' : ''}${json.heap.endChangePercent}%); ${heapGrowth} MB per 10,000 requests; peak ${json.heap.peakMb} MB`,
    ...([['workerd RSS (the app)', json.rss]] as const).map(
      ([name, r]) =>
        `${name}: ${r.beforeLoadMb} MB before load, ${r.baselineMb} MB after the warm-up, ${r.endMb} MB at the end; ${r.growthMbPer10k} MB per 10,000 requests; peak ${r.peakMb} MB`,
    ),
    `machine during the soak: ${machine.busy === null ? '?' : Math.round(machine.busy * 100)}% busy, ${machine.others === null ? '?' : Math.round(machine.others * 100)}% of it others (not this soak)`,
    `targets: heap ends within 10%: ${yes(targets.endWithin10Percent)}; grows < 5 MB per 10,000 requests: ${yes(targets.growthUnder5MbPer10k)}; never over 128 MB: ${yes(targets.peakUnder128Mb)}`,
    ...(settings.guard
      ? [
          guardReason
            ? `guard: FAILED: ${guardReason}`
            : `guard: passed (${round(growthMb)} MB kept after GC over ${requests} requests; limit ${GUARD.maxGrowthMb} MB)`,
        ]
      : []),
  ]
  return { json, lines, guardPassed: guardReason === null, guardReason, grewTooMuch: guardReason !== null && requests >= GUARD.minRequests }
}
