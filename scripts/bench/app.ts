/**
 * The built app in workerd, as `npm start` runs it (same bindings, scripts/lib/app-bindings.ts),
 * but from a SNAPSHOT: build/ is shared with other people's work and the Pages Function is
 * bundled (from functions/ and app/ source) when the app server starts. So right after the
 * bench's one `npm run build`, build/, functions/, app/ and the config files are copied into the
 * bench's temp folder and the app server runs there; nobody's later edit or rebuild can change
 * what is being measured halfway through.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { cpSync, createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync } from 'node:fs'
import { join } from 'node:path'
import { appServerCommand } from '../lib/app-bindings'
import type { LocalConfig } from '../lib/config'
import { onCleanup, sleep, stopProcessGroup } from './cleanup'

/** `npm run build` (unless told not to), then its snapshot in `<tmp>/app`: the folder to run the app server in. */
export async function buildAndSnapshot(repo: string, tmp: string, options: { build: boolean; say: (line: string) => void }) {
  if (options.build) {
    options.say('npm run build…')
    await new Promise<void>((resolve, reject) => {
      const child = spawn('npm', ['run', 'build'], { cwd: repo, stdio: ['ignore', 'ignore', 'inherit'] })
      child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`npm run build exited ${code}`))))
    })
  }
  const appDir = join(tmp, 'app')
  mkdirSync(appDir)
  snapshotBuild(repo, appDir)
  return appDir
}

export function snapshotBuild(repo: string, target: string) {
  for (const path of ['build', 'functions', 'app', 'public', 'workers']) {
    if (existsSync(join(repo, path))) cpSync(join(repo, path), join(target, path), { recursive: true })
  }
  for (const file of ['wrangler.toml', 'tsconfig.json', 'package.json', 'remix.config.ts']) cpSync(join(repo, file), join(target, file))
  symlinkSync(join(repo, 'node_modules'), join(target, 'node_modules'), 'dir')
  // The build must be whole: someone else's build running at the same time would show here.
  const assets = join(target, 'build', 'client', 'assets')
  if (!existsSync(join(target, 'build', 'server', 'index.js')) || !existsSync(assets)) {
    throw new Error('build/ is incomplete (another build running?): run the bench again')
  }
  const server = readFileSync(join(target, 'build', 'server', 'index.js'), 'utf8')
  const files = new Set(readdirSync(assets))
  const referenced = [...server.matchAll(/"\/assets\/([^"]+\.js)"/g)].map((m) => m[1]!)
  const missing = referenced.filter((f) => !files.has(f))
  if (!referenced.length || missing.length) {
    throw new Error(
      `build/ is inconsistent (server build names ${missing.length} client files that are not there; another build running?): run the bench again`,
    )
  }
}

export type RunningApp = { origin: string; process: ChildProcess; logFile: string; stop: () => Promise<void> }

export async function startApp(options: {
  cwd: string
  config: LocalConfig
  bindings: Record<string, string>
  logFile: string
  inspectorPort?: number
  bundleDir?: string
}): Promise<RunningApp> {
  const log = createWriteStream(options.logFile)
  const server = appServerCommand(options.config, options.bindings, { inspectorPort: options.inspectorPort, bundleDir: options.bundleDir })
  const child = spawn(server.command, server.args, {
    cwd: options.cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
    env: { ...process.env, ...server.env, CI: '1', NO_COLOR: '1' },
  })
  child.stdout!.pipe(log)
  child.stderr!.pipe(log)
  const stop = async () => {
    await stopProcessGroup(child)
    log.end()
  }
  onCleanup('app (workerd)', stop)
  const origin = options.config.appOrigin
  const deadline = Date.now() + 120_000
  // The log lives in the bench's temp folder, which the cleanup removes: a start that fails prints its end.
  const failed = (why: string) => new Error(`${why}; the app server's log ended with:\n${tail(options.logFile, 60)}`)
  for (;;) {
    if (child.exitCode !== null) throw failed(`the app server exited (${child.exitCode})`)
    try {
      const response = await fetch(`${origin}/healthz`)
      if (response.ok) break
    } catch {}
    if (Date.now() > deadline) throw failed(`the app did not answer ${origin}/healthz within 120 s`)
    await sleep(300)
  }
  return { origin, process: child, logFile: options.logFile, stop }
}

/** The last lines of a file, or a word that there is none. */
function tail(file: string, lines: number): string {
  if (!existsSync(file)) return '(no log)'
  return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n') || '(empty)'
}
