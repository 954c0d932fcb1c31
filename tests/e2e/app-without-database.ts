/**
 * A second IntakePilot on its own port, started as `npm start` starts the e2e stack (the same
 * build, bindings and identity provider): either with the database relay pointed at a port
 * where nothing listens (the database is unreachable), or on the e2e stack's own database with
 * bindings of its own (a short request deadline). Its own session secrets unless given the main
 * stack's: API calls with bearer tokens work on it, page sessions of the main stack do not. Its app server's process group
 * is always ended, by stop() or, if the test process dies first, when it exits.
 */
import { spawn } from 'node:child_process'
import { chmodSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { appBindings, appServerCommand } from '../../scripts/lib/app-bindings'
import { localConfig } from '../../scripts/lib/config'
import { APP_ROLE } from '../../scripts/lib/postgres'
import { loadOrCreateSecrets, type LocalSecrets } from '../../scripts/lib/secrets'
import { freePort } from '../support/free-port'
import { E2E, ISSUER, stackDatabaseUrl } from './fixtures'

/** `secrets`: the e2e stack's own, so its cookies (session, drafts) open here too. */
export const startAppWithoutDatabase = (options: { secrets?: LocalSecrets } = {}) => startSecondApp({ database: 'unreachable', ...options })

/** `secrets`: the e2e stack's own, so its cookies (session, drafts) open here too; else new ones. */
export async function startSecondApp(options: { database: 'unreachable' | 'shared'; bindings?: Record<string, string>; secrets?: LocalSecrets }) {
  const dataDir = mkdtempSync(join(tmpdir(), 'intakepilot-nodb-'))
  chmodSync(dataDir, 0o755)
  const [appPort, closedPort] = [await freePort(), await freePort()]
  const config = localConfig({ ...process.env, APP_PORT: String(appPort), DATA_DIR: dataDir })
  const bindings = appBindings({
    config,
    database: {
      appUrl: stackDatabaseUrl(APP_ROLE),
      wsProxy: `127.0.0.1:${options.database === 'shared' ? E2E.relayPort : closedPort}`,
    },
    secrets: options.secrets ?? loadOrCreateSecrets(dataDir),
    oidcAuthority: ISSUER,
    corsOrigins: E2E.corsOrigin,
    extra: options.bindings,
  })
  const server = appServerCommand(config, bindings)
  const child = spawn(server.command, server.args, { detached: true, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...server.env } })
  let stderr = ''
  child.stderr.on('data', (chunk: Buffer) => void (stderr = (stderr + chunk.toString()).slice(-4000)))

  const killGroup = (signal: NodeJS.Signals) => {
    try {
      if (child.pid && child.exitCode === null && child.signalCode === null) process.kill(-child.pid, signal)
    } catch {}
  }
  const onExit = () => killGroup('SIGKILL')
  process.once('exit', onExit)

  async function stop() {
    process.off('exit', onExit)
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve))
      killGroup('SIGTERM')
      const timer = setTimeout(() => killGroup('SIGKILL'), 5000)
      await exited
      clearTimeout(timer)
    }
    rmSync(dataDir, { recursive: true, force: true })
  }

  const origin = config.appOrigin
  try {
    // Ready when it answers at all (without a database its /healthz is a 503 by design).
    const deadline = Date.now() + 60_000
    for (;;) {
      if (child.exitCode !== null) throw new Error(`the app server exited (${child.exitCode}): ${stderr}`)
      if (Date.now() > deadline) throw new Error(`the second app did not answer within 60 s: ${stderr}`)
      const answered = await fetch(`${origin}/healthz`).then(
        (r) => r.status,
        () => 0,
      )
      if (answered) break
      await new Promise((resolve) => setTimeout(resolve, 250))
    }
  } catch (error) {
    await stop()
    throw error
  }
  return { origin, stop }
}
