/**
 * `npm start`: the whole of IntakePilot on loopback, real parts only.
 * embedded PostgreSQL -> PgBouncer (when installed) -> migrations -> demo data (first run) ->
 * Neon WebSocket relay -> local OpenID provider -> the built app in workerd (scripts/app-server.ts),
 * watched: restarted when it exits or stops answering /healthz (scripts/lib/app-watchdog.ts).
 *
 *   --dev         the Vite dev server instead of the built app (`npm run dev`)
 *   --no-build    serve the existing build/ (the tests build once beforehand)
 *   --ephemeral   a throwaway data directory, deleted on exit (the tests)
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { chmodSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { appBindings, appServerCommand, localMailBindings } from './lib/app-bindings'
import { superviseApp, type Watchdog } from './lib/app-watchdog'
import { startCheckpointSchedule } from './lib/audit-jobs'
import { localConfig, localIdentityProviderOptions } from './lib/config'
import { DEMO_ACCOUNTS, DEMO_PASSWORD } from './lib/demo-accounts'
import type { IdentityProvider } from './lib/idp'
import { startLocalDatabase, type LocalDatabase } from './lib/local-database'
import { claimStack, runningStack } from './lib/lock'
import { runMigrations } from './lib/migrate'
import { LOCAL_SUPERUSER, DATABASE_NAME } from './lib/postgres'
import { startMailCatcher, type MailCatcher } from './lib/mail-catcher'
import { loadOrCreateSecrets } from './lib/secrets'
import { seedIfEmpty } from './lib/seed'

const args = new Set(process.argv.slice(2))
const dev = args.has('--dev')
const ephemeral = args.has('--ephemeral')
const config = localConfig(ephemeral ? { ...process.env, DATA_DIR: process.env.DATA_DIR ?? throwawayDir() } : process.env)

function throwawayDir() {
  const dir = mkdtempSync(join(tmpdir(), 'intakepilot-'))
  // PostgreSQL runs as its own OS user when we are root: it must be able to enter the folder.
  chmodSync(dir, 0o755)
  return dir
}
const say = (line: string) => console.log(`[intakepilot] ${line}`)

const running = runningStack(config.dataDir)
if (running) {
  console.error(`IntakePilot is already running at ${running.appOrigin} (pid ${running.pid}); stop it with Ctrl-C in its terminal first.`)
  process.exit(1)
}
const release = claimStack(config.dataDir, {
  appOrigin: config.appOrigin,
  relayPort: config.relayPort,
  pgPort: config.pgPort,
  idpPort: config.idpPort,
})

let database: LocalDatabase | undefined
let idp: IdentityProvider | undefined
let mail: MailCatcher | undefined
let app: Watchdog | undefined
let stopping = false
let stopCheckpoints: (() => void) | undefined

async function shutdown(code: number) {
  if (stopping) return
  stopping = true
  say('stopping…')
  stopCheckpoints?.()
  await app?.stop()
  await idp?.close().catch(() => {})
  await mail?.close().catch(() => {})
  await database?.stopAll().catch(() => {})
  release()
  if (ephemeral) rmSync(config.dataDir, { recursive: true, force: true })
  process.exit(code)
}
process.on('SIGINT', () => void shutdown(0))
process.on('SIGTERM', () => void shutdown(0))

try {
  const secrets = loadOrCreateSecrets(config.dataDir)
  database = await startLocalDatabase({
    dataDir: join(config.dataDir, 'postgres'),
    pgPort: config.pgPort,
    relayPort: config.relayPort,
    pgbouncerPort: config.pgbouncerPort,
    persistent: true,
  })
  say(`PostgreSQL on 127.0.0.1:${config.pgPort} (local only: superuser ${LOCAL_SUPERUSER.user} / ${LOCAL_SUPERUSER.password}, database ${DATABASE_NAME})`)
  say(database.connectionPath)
  await runMigrations({ url: database.ownerUrl, wsProxy: database.wsProxy })
  if (await seedIfEmpty({ url: database.ownerUrl, wsProxy: database.wsProxy, secrets })) say('seeded the demo clinics')
  say(`Neon WebSocket relay on 127.0.0.1:${config.relayPort}`)

  // Imported here, after the lock check: oidc-provider prints a Node-version notice on import.
  const { startIdentityProvider } = await import('./lib/idp')
  idp = await startIdentityProvider(localIdentityProviderOptions(config, secrets))
  say(`OpenID provider (stands in for Entra ID) at ${idp.issuer}`)

  mail = await startMailCatcher({ smtpPort: config.smtpPort, pagePort: config.mailPagePort })
  say(`mail catcher: SMTP on 127.0.0.1:${mail.smtpPort}; the mail the app sends is at ${mail.pageUrl}`)

  const bindings = appBindings({
    config,
    database,
    secrets,
    oidcAuthority: idp.issuer,
    // Browser origins allowed to call /api/* (CORS); none unless configured.
    corsOrigins: process.env.CORS_ORIGINS,
    // A live socket's age before renewal (docs/decisions/045): the e2e stack shortens it to test renewal.
    extra: {
      ...localMailBindings(config),
      ...(process.env.LIVE_SOCKET_MAX_AGE_SECONDS ? { LIVE_SOCKET_MAX_AGE_SECONDS: process.env.LIVE_SOCKET_MAX_AGE_SECONDS } : {}),
    },
  })
  const env = { ...process.env, WRANGLER_SEND_METRICS: 'false' }
  if (!dev && !args.has('--no-build')) await run('npx', ['remix', 'vite:build'])
  const server = appServerCommand(config, bindings)
  const startApp = () =>
    dev
      ? spawn('npx', ['remix', 'vite:dev', '--host', '127.0.0.1', '--port', String(config.appPort), '--strictPort'], {
          stdio: 'inherit',
          detached: true,
          env: { ...env, ...bindings, NODE_OPTIONS: '--experimental-websocket' },
        })
      : withoutHealthChecks(spawn(server.command, server.args, { stdio: ['ignore', 'pipe', 'inherit'], detached: true, env: { ...env, ...server.env } }))
  app = superviseApp({ start: startApp, healthUrl: `${config.appOrigin}/healthz`, log: say })
  await app.ready
  // Signed checkpoints of the audit chains, every 5 minutes (docs/decisions/021).
  stopCheckpoints = startCheckpointSchedule({ dataDir: config.dataDir })
  say(`ready: ${config.appOrigin}`)
  say(`sign in with any demo account, password "${DEMO_PASSWORD}":`)
  for (const a of DEMO_ACCOUNTS.filter((a) => a.role)) say(`  ${a.email.padEnd(30)} ${a.role}${a.status === 'disabled' ? ' (disabled)' : ''}`)
  say(`sent email (caught locally): ${mail.pageUrl}`)
  say('Ctrl-C stops everything.')
} catch (error) {
  console.error('[intakepilot] could not start:', error instanceof Error ? error.message : error)
  await shutdown(1)
}

function run(command: string, commandArgs: string[]) {
  return new Promise<void>((resolve, reject) => {
    const child = spawn(command, commandArgs, { stdio: 'inherit' })
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${command} ${commandArgs.join(' ')} exited ${code}`))))
  })
}

/**
 * The app's output minus the watchdog's answered health checks (one every 5 s: the app's own
 * request log line), which would bury everything else.
 */
function withoutHealthChecks(child: ChildProcess) {
  const healthy = /"route":"\/healthz","status":200,/
  let rest = ''
  child.stdout!.on('data', (chunk: Buffer) => {
    const lines = (rest + chunk.toString('utf8')).split('\n')
    rest = lines.pop() ?? ''
    const kept = lines.filter((line) => !healthy.test(line))
    if (kept.length) process.stdout.write(kept.join('\n') + '\n')
  })
  child.stdout!.on('end', () => rest && process.stdout.write(rest))
  return child
}
