/**
 * `npm run bench -- --profile`: where the Worker's CPU goes, page by page.
 *
 * After the measured load (so that the sampler's own cost is in none of the figures), each page
 * runs once more at concurrency 1 while V8's sampling profiler records workerd's isolate over
 * the inspector (Profiler.start / Profiler.stop). Each profile is written as a `.cpuprofile`
 * (Chrome DevTools → Performance → Load profile, or speedscope), and the samples are mapped,
 * through the bundle's source map, to the file and package they ran in, then printed: CPU per
 * request by group (app code, react-dom/server, zod, drizzle-orm, the Neon driver, jose, Web
 * Crypto, JSON, logging, GC…) and the ten functions with the most self time.
 */
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { originalPositionFor, TraceMap } from '@jridgewell/trace-mapping'
import type { PageKind } from './baseline'
import { runAutocannon } from './load'
import { PAGE_LABELS } from './report'
import type { PageSpec } from './requests'
import { Inspector } from './soak-inspector'

type Say = (line: string) => void

type CallFrame = { functionName: string; url: string; lineNumber: number; columnNumber: number }
type ProfileNode = { id: number; callFrame: CallFrame; hitCount?: number; children?: number[] }
type CpuProfile = { nodes: ProfileNode[]; startTime: number; endTime: number; samples: number[]; timeDeltas: number[] }

export type FunctionCost = { name: string; group: string; where: string; selfMs: number }
export type PageProfile = {
  /** The app's own functions by inclusive time (their callees counted in), the ten most costly. */
  appInclusive?: FunctionCost[]
  requests: number
  /** Sampled CPU of the isolate per request (idle excluded), in ms. */
  cpuMsPerRequest: number
  groups: { group: string; msPerRequest: number; share: number }[]
  top: FunctionCost[]
  file: string
}

/** Sampling interval: 100 µs, fine enough for a page of a few ms; the sampler's cost is not in the measured runs. */
const SAMPLING_INTERVAL_US = 100

export async function profilePages(o: {
  inspectorPort: number
  bundleDir: string
  outDir: string
  appOrigin: string
  pages: PageKind[]
  specs: Record<PageKind, PageSpec>
  durationSeconds: number
  /** Requests a run may make (the rate limit); the counters are cleared before each page. */
  capFor: (page: PageKind) => number
  beforeEach: () => Promise<void>
  say: Say
}): Promise<Record<string, PageProfile>> {
  mkdirSync(o.outDir, { recursive: true })
  const sources = new SourceLookup(join(o.bundleDir, 'index.js.map'))
  // The bundle and its map beside the profiles, so that DevTools shows the sources (the temp
  // folder they were served from is removed at the end of the run).
  for (const f of ['index.js', 'index.js.map']) {
    try {
      copyFileSync(join(o.bundleDir, f), join(o.outDir, f))
    } catch {
      // no map: the profiles still load, unmapped
    }
  }
  const inspector = await Inspector.connect(o.inspectorPort)
  const results: Record<string, PageProfile> = {}
  try {
    await inspector.send('Profiler.enable')
    await inspector.send('Profiler.setSamplingInterval', { interval: SAMPLING_INTERVAL_US })
    for (const page of o.pages) {
      await o.beforeEach()
      const spec = o.specs[page]
      await inspector.send('Profiler.start')
      const stats = await runAutocannon({
        origin: o.appOrigin,
        connections: 1,
        durationSeconds: o.durationSeconds,
        maxRequests: o.capFor(page),
        expectStatus: spec.expect,
        next: spec.next,
      })
      const { profile } = await inspector.send<{ profile: CpuProfile }>('Profiler.stop', {}, 300_000)
      const file = join(o.outDir, `${page}.cpuprofile`)
      writeFileSync(file, JSON.stringify(profile))
      const summary = summarise(profile, stats.requests, sources)
      results[page] = { ...summary, file }
      o.say(`profile ${PAGE_LABELS[page]}: ${stats.requests} requests, ${summary.cpuMsPerRequest.toFixed(2)} ms sampled CPU per request → ${file}`)
    }
    await inspector.send('Profiler.disable')
  } finally {
    inspector.close()
  }
  return results
}

/** Self time per node from the samples (each sample owns the time until the next one). */
function selfTimes(profile: CpuProfile): Map<number, number> {
  const self = new Map<number, number>()
  const { samples, timeDeltas } = profile
  for (let i = 0; i < samples.length; i++) {
    const next = i + 1 < timeDeltas.length ? timeDeltas[i + 1]! : 0
    self.set(samples[i]!, (self.get(samples[i]!) ?? 0) + Math.max(0, next))
  }
  return self
}

function summarise(profile: CpuProfile, requests: number, sources: SourceLookup): Omit<PageProfile, 'file'> {
  const self = selfTimes(profile)
  const byFunction = new Map<string, FunctionCost>()
  const byGroup = new Map<string, number>()
  for (const node of profile.nodes) {
    const us = self.get(node.id) ?? 0
    if (!us || node.callFrame.functionName === '(idle)') continue
    const { group, where } = sources.classify(node.callFrame)
    const name = node.callFrame.functionName || '(anonymous)'
    const key = `${group}\0${name}\0${where}`
    const entry = byFunction.get(key) ?? { name, group, where, selfMs: 0 }
    entry.selfMs += us / 1000
    byFunction.set(key, entry)
    byGroup.set(group, (byGroup.get(group) ?? 0) + us / 1000)
  }
  // Inclusive time of the app's own functions: each sample counts once for every distinct app
  // frame on its stack, so a component or a loader shows what it and its callees cost.
  const parent = new Map<number, ProfileNode>()
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node)
  const nodesById = new Map(profile.nodes.map((n) => [n.id, n]))
  const inclusive = new Map<string, FunctionCost>()
  for (const [id, us] of self) {
    const seen = new Set<string>()
    for (let node = nodesById.get(id); node; node = parent.get(node.id)) {
      const { group, where } = sources.classify(node.callFrame)
      if (!group.startsWith('app code')) continue
      const name = node.callFrame.functionName || '(anonymous)'
      const key = `${name}\0${where}`
      if (seen.has(key)) continue
      seen.add(key)
      const entry = inclusive.get(key) ?? { name, group, where, selfMs: 0 }
      entry.selfMs += us / 1000
      inclusive.set(key, entry)
    }
  }
  const totalMs = [...byGroup.values()].reduce((a, b) => a + b, 0)
  const per = (ms: number) => Math.round((ms / Math.max(1, requests)) * 1000) / 1000
  return {
    requests,
    cpuMsPerRequest: per(totalMs),
    groups: [...byGroup.entries()]
      .sort((a, b) => b[1] - a[1])
      .map(([group, ms]) => ({ group, msPerRequest: per(ms), share: Math.round((ms / totalMs) * 1000) / 10 })),
    top: [...byFunction.values()]
      .sort((a, b) => b.selfMs - a.selfMs)
      .slice(0, 10)
      .map((f) => ({ ...f, selfMs: per(f.selfMs) })),
    appInclusive: [...inclusive.values()]
      .sort((a, b) => b.selfMs - a.selfMs)
      .slice(0, 10)
      .map((f) => ({ ...f, selfMs: per(f.selfMs) })),
  }
}

/** Native functions V8 names but gives no script: the groups they belong to. */
const NATIVE_GROUPS: [RegExp, string][] = [
  [/^\(garbage collector\)$/, 'GC'],
  [/^\(program\)$/, 'workerd and V8 (no JavaScript frame)'],
  [/^(digest|encrypt|decrypt|importKey|exportKey|deriveKey|deriveBits|sign|verify|getRandomValues|randomUUID)$/, 'Web Crypto'],
  [/^(parse|stringify)$/, 'JSON'],
]

/** Where a frame's code came from: the bundle's source map names the file; the file names the group. */
class SourceLookup {
  private map: TraceMap | null
  private cache = new Map<string, { group: string; where: string }>()

  constructor(mapFile: string) {
    try {
      this.map = new TraceMap(readFileSync(mapFile, 'utf8'))
    } catch {
      this.map = null
    }
  }

  classify(frame: CallFrame): { group: string; where: string } {
    const key = `${frame.url}:${frame.lineNumber}:${frame.columnNumber}:${frame.functionName}`
    const known = this.cache.get(key)
    if (known) return known
    const found = this.lookup(frame)
    this.cache.set(key, found)
    return found
  }

  private lookup(frame: CallFrame): { group: string; where: string } {
    if (!frame.url) {
      const group = NATIVE_GROUPS.find(([pattern]) => pattern.test(frame.functionName))?.[1] ?? 'V8 built-ins'
      return { group, where: '(native)' }
    }
    if (!frame.url.endsWith('index.js') || !this.map) return { group: 'workerd and Miniflare glue', where: frame.url.split('/').pop() ?? frame.url }
    const position = originalPositionFor(this.map, { line: frame.lineNumber + 1, column: frame.columnNumber })
    const source = position.source ?? ''
    return { group: groupOf(source), where: `${shortPath(source)}:${position.line ?? '?'}` }
  }
}

/** node_modules/<package> (scoped or not) → the package; the app's own files → what they are. */
export function groupOf(source: string): string {
  // drizzle-orm's own source maps point one folder above its package (`../src/…`).
  if (/node_modules\/src\//.test(source)) return 'drizzle-orm'
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(source)?.[1]
  if (pkg) return pkg === 'react-dom' ? 'react-dom/server' : pkg
  if (/app\/utils\/log\.server/.test(source)) return 'logging'
  if (/build\/server\/index\.js$/.test(source)) return 'app code (routes, domain: the Remix server build)'
  if (/\/app\//.test(source)) return 'app code (request pipeline)'
  if (/functions\//.test(source)) return 'app code (Pages Function)'
  return source ? `other (${shortPath(source)})` : 'unmapped'
}

function shortPath(source: string) {
  const i = source.lastIndexOf('node_modules/')
  if (i >= 0) return source.slice(i + 'node_modules/'.length)
  return source.replace(/^(\.\.\/)+/, '')
}

/** The printed per-page summary: groups, then the top ten functions by self time. */
export function profileTable(profiles: Record<string, PageProfile>): string {
  const lines: string[] = []
  for (const [page, p] of Object.entries(profiles)) {
    lines.push(`### ${PAGE_LABELS[page as PageKind]}: ${p.cpuMsPerRequest.toFixed(2)} ms of sampled CPU per request (${p.requests} requests, ${p.file})`)
    lines.push('', '| group | ms per request | share |', '|---|---:|---:|')
    for (const g of p.groups.slice(0, 12)) lines.push(`| ${g.group} | ${g.msPerRequest.toFixed(3)} | ${g.share.toFixed(1)}% |`)
    lines.push('', '| function (self time) | group | where | ms per request |', '|---|---|---|---:|')
    for (const f of p.top) lines.push(`| \`${f.name}\` | ${f.group} | ${f.where} | ${f.selfMs.toFixed(3)} |`)
    if (p.appInclusive?.length) {
      lines.push('', '| app function (inclusive: with what it calls) | group | where | ms per request |', '|---|---|---|---:|')
      for (const f of p.appInclusive) lines.push(`| \`${f.name}\` | ${f.group} | ${f.where} | ${f.selfMs.toFixed(3)} |`)
    }
    lines.push('')
  }
  return lines.join('\n')
}
