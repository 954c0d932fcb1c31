/**
 * The built app in workerd, run by Miniflare directly instead of `wrangler pages dev`
 * (docs/decisions/026-app-in-workerd-without-wrangler-proxy.md).
 *
 * What `wrangler pages dev ./build/client` does, without the second workerd it puts in front of
 * the app (its ProxyWorker and InspectorProxyWorker, which keep ~40 KB per request: bench/README.md):
 * 1. `wrangler pages functions build` bundles functions/ into one Worker: the bundler, and the
 *    nodejs_compat handling, of `pages dev` and of Pages itself;
 * 2. a small entry applies build/client/_routes.json the way Pages does: an excluded path, or
 *    one no rule includes, goes to the static assets, everything else to the Function;
 * 3. Miniflare runs that in workerd with the bindings (wrangler.toml's vars, then the given
 *    ones), the R2 buckets persisted where `pages dev --persist-to` keeps them, and `ASSETS`
 *    served by wrangler's own Pages asset handler (`_headers`, `_redirects`, 404s);
 * 4. beside it, in the same workerd, the companion Worker workers/courier (bundled by
 *    `wrangler deploy --dry-run`, as a deploy bundles it), bound to the app as COURIER and
 *    CLINIC_LIVE as in production. Miniflare fires no Cron Trigger, so this fires the courier's
 *    `scheduled` every few seconds (docs/decisions/038-outbox-and-courier-worker.md).
 */
import { spawn } from 'node:child_process'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'

export type AppServerOptions = {
  /** The project folder: functions/, build/client/ and wrangler.toml are read from here. */
  cwd: string
  host: string
  port: number
  /** Bindings as strings; they win over wrangler.toml's [vars]. */
  bindings: Record<string, string>
  /** Where bindings keep their data: the folder `wrangler pages dev --persist-to` would get. */
  persistTo: string
  /** The V8 inspector of the app's isolate (the soak's heap samples); none unless given. */
  inspectorPort?: number
  /** Where the bundled Worker is written. */
  outDir: string
  /** Write index.js.map beside the bundle (the bench's CPU profiles map samples to packages with it). */
  sourcemap?: boolean
  /** How often the courier's Cron Trigger fires locally (default 5 000 ms; production: every minute). */
  courierCronMs?: number
}

/** The companion Worker's name: wrangler.toml's script_name/service in the app's bindings. */
export const COURIER_NAME = 'intakepilot-courier'

/**
 * What the courier is given of the app's bindings: the database and the origin for links, and
 * its channels' own settings by prefix. Never the PHI keys or the session secrets.
 */
const COURIER_BINDINGS = new Set(['APP_ENV', 'APP_ORIGIN', 'DATABASE_URL', 'DATABASE_WS_PROXY'])
const COURIER_PREFIXES = ['SMTP_', 'MAIL_', 'WEBHOOK_', 'COURIER_', 'LIVE_']
export const courierBindings = (bindings: Record<string, string>) =>
  Object.fromEntries(Object.entries(bindings).filter(([name]) => COURIER_BINDINGS.has(name) || COURIER_PREFIXES.some((p) => name.startsWith(p))))

export type AppServer = { url: URL; dispose: () => Promise<void> }

export async function startAppServer(options: AppServerOptions): Promise<AppServer> {
  const { Miniflare, Log, LogLevel } = await import('miniflare')
  const wrangler = await import('wrangler')
  const config = wrangler.unstable_readConfig({ config: join(options.cwd, 'wrangler.toml') })
  const assetsDir = resolve(options.cwd, config.pages_build_output_dir ?? 'build/client')
  const compatibilityDate = config.compatibility_date!
  const compatibilityFlags = config.compatibility_flags ?? []

  mkdirSync(options.outDir, { recursive: true })
  const courierDir = join(options.outDir, 'courier')
  await Promise.all([
    bundleFunctions({ cwd: options.cwd, outDir: options.outDir, compatibilityDate, compatibilityFlags, sourcemap: options.sourcemap ?? false }),
    bundleCourier({ cwd: options.cwd, outDir: courierDir }),
  ])
  const courierConfig = wrangler.unstable_readConfig({ config: join(options.cwd, COURIER_CONFIG) })
  const routes = JSON.parse(readFileSync(join(assetsDir, '_routes.json'), 'utf8')) as { include: string[]; exclude: string[] }
  const entry = join(options.outDir, 'entry.js')
  writeFileSync(entry, pagesRoutingEntry(routes))

  // Declared as returning the handler, but it is an async function: the handler comes in a promise.
  const assets = await (wrangler.unstable_generateASSETSBinding({ directory: assetsDir, log: quietAssetLog }) as unknown as Promise<
    (request: Request) => Promise<Response>
  >)
  const vars = Object.fromEntries(Object.entries(config.vars ?? {}).map(([k, v]) => [k, String(v)]))
  const courierVars = Object.fromEntries(Object.entries(courierConfig.vars ?? {}).map(([k, v]) => [k, String(v)]))
  const liveBinding = courierConfig.durable_objects.bindings.find((b: { name: string }) => b.name === 'CLINIC_LIVE')!
  const miniflare = new Miniflare({
    host: options.host,
    port: options.port,
    inspectorPort: options.inspectorPort,
    defaultPersistRoot: join(options.persistTo, 'v3'),
    // The app writes its own request log line (app/utils/log.server.ts); Miniflare's would double it.
    logRequests: false,
    log: new Log(LogLevel.WARN),
    // Offline: the placeholder `request.cf` instead of fetching Cloudflare's.
    cf: false,
    // The first worker answers on the port.
    workers: [
      {
        name: 'app',
        // Named, not discovered: the bundle has dynamic imports Miniflare's module walk refuses.
        modulesRoot: options.outDir,
        modules: [
          { type: 'ESModule', path: entry },
          { type: 'ESModule', path: join(options.outDir, 'index.js') },
        ],
        compatibilityDate,
        compatibilityFlags,
        bindings: { ...vars, ...options.bindings },
        r2Buckets: Object.fromEntries(
          (config.r2_buckets ?? []).map((b: { binding: string; bucket_name?: string }) => [b.binding, { id: b.bucket_name ?? b.binding }]),
        ),
        serviceBindings: { ASSETS: (request: unknown) => assets(request as never) as never, COURIER: COURIER_NAME },
        durableObjects: { CLINIC_LIVE: { className: liveBinding.class_name, scriptName: COURIER_NAME } },
      },
      {
        name: COURIER_NAME,
        modulesRoot: courierDir,
        modules: [{ type: 'ESModule', path: join(courierDir, 'index.js') }],
        compatibilityDate: courierConfig.compatibility_date!,
        compatibilityFlags: courierConfig.compatibility_flags ?? [],
        bindings: { ...courierVars, ...courierBindings(options.bindings) },
        durableObjects: { CLINIC_LIVE: { className: liveBinding.class_name, useSQLite: true } },
      },
    ],
  })
  const url = await miniflare.ready
  const courier = await miniflare.getWorker(COURIER_NAME)
  let ticking = false
  const cron = setInterval(() => {
    if (ticking) return
    ticking = true
    courier
      .scheduled({ cron: '* * * * *' })
      .catch((error: unknown) => console.warn('[courier] scheduled run failed:', error instanceof Error ? error.message : error))
      .finally(() => (ticking = false))
  }, options.courierCronMs ?? 5_000)
  return {
    url,
    dispose: () => {
      clearInterval(cron)
      return miniflare.dispose()
    },
  }
}

const COURIER_CONFIG = 'workers/courier/wrangler.toml'

/** The courier as `wrangler deploy` would upload it: its bundler, its nodejs_compat handling. */
function bundleCourier(options: { cwd: string; outDir: string }) {
  return runWrangler(
    options.cwd,
    ['wrangler', 'deploy', '--dry-run', '--config', COURIER_CONFIG, '--outdir', options.outDir],
    'wrangler deploy --dry-run (courier)',
  )
}

function bundleFunctions(options: { cwd: string; outDir: string; compatibilityDate: string; compatibilityFlags: string[]; sourcemap: boolean }) {
  const args = ['wrangler', 'pages', 'functions', 'build', 'functions', '--outdir', options.outDir, '--compatibility-date', options.compatibilityDate]
  if (options.sourcemap) args.push('--sourcemap')
  for (const flag of options.compatibilityFlags) args.push('--compatibility-flags', flag)
  return runWrangler(options.cwd, args, 'wrangler pages functions build')
}

function runWrangler(cwd: string, args: string[], what: string) {
  return new Promise<void>((resolveBuild, reject) => {
    const child = spawn('npx', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, WRANGLER_SEND_METRICS: 'false' } })
    let output = ''
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')))
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')))
    child.once('error', reject)
    child.once('exit', (code) => (code === 0 ? resolveBuild() : reject(new Error(`${what} exited ${code}:\n${output}`))))
  })
}

/**
 * Pages' routing, as `wrangler pages dev` wraps a Function (its pages-dev-pipeline template,
 * with the rule matching of its pages-dev-util: `/foo` also matches `/foo/`, `/foo/*` also `/foo`).
 */
function pagesRoutingEntry(routes: { include: string[]; exclude: string[] }) {
  return `import worker from './index.js'
export * from './index.js'
const toRegExp = (rule) => {
  let r
  if (rule === '/' || rule === '/*') r = rule
  else if (rule.endsWith('/*')) r = rule.slice(0, -2) + '(/*)?'
  else if (rule.endsWith('/')) r = rule.slice(0, -1) + '(/)?'
  else if (rule.endsWith('*')) r = rule
  else r = rule + '(/)?'
  return new RegExp('^' + r.replaceAll('.', '\\\\.').replaceAll('*', '.*') + '$')
}
const include = ${JSON.stringify(routes.include)}.map(toRegExp)
const exclude = ${JSON.stringify(routes.exclude)}.map(toRegExp)
export default {
  fetch(request, env, context) {
    const { pathname } = new URL(request.url)
    if (exclude.some((rule) => rule.test(pathname))) return env.ASSETS.fetch(request)
    if (include.some((rule) => rule.test(pathname))) return worker.fetch(request, env, context)
    return env.ASSETS.fetch(request)
  },
}
`
}

/** The asset handler's own log: warnings and errors only (a missing asset is the 404 it answers). */
const quietAssetLog = {
  debug() {},
  info() {},
  log() {},
  warn: (...args: unknown[]) => console.warn('[assets]', ...args),
  error: (...args: unknown[]) => console.error('[assets]', ...args),
} as never
