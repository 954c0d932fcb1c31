/**
 * The Neon WebSocket relay (scripts/lib/ws-relay.ts) in a process of its own, so that the load
 * generator and the Node baselines in the bench's main process never delay its event loop (in
 * `npm start` it shares a process with nothing busier than the identity provider).
 *
 * Round trips are the relay's own roundTrips() counter. Besides, this process notes the SQL text
 * of each statement on its way to PostgreSQL (the Query and Parse messages: text only, never the
 * parameters, which carry the values), so that the bench can list what a page runs and check
 * that the Node baseline runs the same statements as the app.
 * IPC: the parent sends { id, cmd: 'count' | 'statements' }, the relay answers { id, value }.
 */
import { fork, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { onCleanup, stopProcessGroup } from './cleanup'

export type RelayHandle = {
  port: number
  roundTrips: () => Promise<number>
  /** The statements sent since the previous call (SQL text, whitespace collapsed). */
  takeStatements: () => Promise<string[]>
  stop: () => Promise<void>
}

if (process.env.INTAKEPILOT_BENCH_RELAY === '1') {
  // PostgreSQL, and PgBouncer in front of it when there is one (the app's path).
  const ports = String(process.env.PG_PORTS).split(',').map(Number)
  const statements: string[] = []
  await traceStatements(new Set(ports), (sql) => statements.push(sql))
  const { startRelay } = await import('../lib/ws-relay')
  const relay = await startRelay({ port: Number(process.env.RELAY_PORT), targets: ports.map((port) => ({ port })) })
  process.on('message', (message: { id: number; cmd: 'count' | 'statements' }) => {
    const value = message.cmd === 'count' ? relay.roundTrips() : statements.splice(0)
    process.send!({ id: message.id, value })
  })
  process.on('disconnect', () => void relay.close().finally(() => process.exit(0)))
  process.on('SIGTERM', () => void relay.close().finally(() => process.exit(0)))
  process.on('SIGINT', () => {})
  process.send!({ ready: true })
}

/**
 * Watches what this process writes to PostgreSQL (the relay's TCP side) and reports the SQL of
 * each Query ('Q') and Parse ('P') message. Messages can span writes: each socket keeps a buffer.
 */
async function traceStatements(postgresPorts: Set<number>, onStatement: (sql: string) => void) {
  const net = (await import('node:net')).default
  const { syncBuiltinESMExports } = await import('node:module')
  // The relay's sockets to PostgreSQL, known from the moment they are created (writes can come
  // before the connection is up, when remotePort is not known yet).
  const toPostgres = new WeakSet<object>()
  const createConnection = net.createConnection
  net.createConnection = function (...args: unknown[]) {
    const socket = (createConnection as (...a: unknown[]) => import('node:net').Socket)(...args)
    const options = args[0] as { port?: number } | number
    if (postgresPorts.has(typeof options === 'object' ? Number(options.port) : Number(options))) toPostgres.add(socket)
    return socket
  } as typeof createConnection
  syncBuiltinESMExports()
  const pending = new WeakMap<object, { buffer: Buffer; started: boolean }>()
  const write = net.Socket.prototype.write
  net.Socket.prototype.write = function (this: import('node:net').Socket, data: unknown, ...rest: unknown[]) {
    if (toPostgres.has(this) && Buffer.isBuffer(data)) {
      try {
        let state = pending.get(this)
        if (!state) pending.set(this, (state = { buffer: Buffer.alloc(0), started: false }))
        state.buffer = Buffer.concat([state.buffer, data])
        for (;;) {
          const b = state.buffer
          if (!state.started) {
            // The startup message (and an SSLRequest before it) has a length but no type byte.
            if (b.length < 8) break
            const length = b.readUInt32BE(0)
            if (b.length < length) break
            if (b.readUInt32BE(4) !== 80877103) state.started = true
            state.buffer = b.subarray(length)
            continue
          }
          if (b.length < 5) break
          const type = String.fromCharCode(b[0]!)
          const length = b.readUInt32BE(1)
          if (b.length < 1 + length) break
          const body = b.subarray(5, 1 + length)
          if (type === 'Q') onStatement(collapse(body.subarray(0, body.indexOf(0)).toString('utf8')))
          if (type === 'P') {
            const nameEnd = body.indexOf(0)
            onStatement(collapse(body.subarray(nameEnd + 1, body.indexOf(0, nameEnd + 1)).toString('utf8')))
          }
          state.buffer = b.subarray(1 + length)
        }
      } catch {
        pending.delete(this)
      }
    }
    return (write as (...args: unknown[]) => boolean).call(this, data, ...rest)
  } as typeof write
}

const collapse = (sql: string) => sql.replace(/\s+/g, ' ').trim()

export async function startRelayProcess(options: { port: number; postgresPort: number; pgbouncerPort?: number }): Promise<RelayHandle> {
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), [], {
    execArgv: ['--import', 'tsx'],
    env: {
      ...process.env,
      INTAKEPILOT_BENCH_RELAY: '1',
      RELAY_PORT: String(options.port),
      PG_PORTS: [options.postgresPort, ...(options.pgbouncerPort ? [options.pgbouncerPort] : [])].join(','),
    },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    detached: true,
  })
  // A closed channel (the relay stopped, e.g. during Ctrl-C) must not crash the bench.
  child.on('error', () => {})
  const stop = () => stopProcessGroup(child, 3000)
  onCleanup('relay process', stop)
  await new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the relay process exited (${code})`)))
    child.on('message', (m: { ready?: boolean }) => m.ready && resolve())
  })
  let next = 0
  const waiting = new Map<number, (value: unknown) => void>()
  child.on('message', (m: { id?: number; value?: unknown }) => {
    if (m.id !== undefined) {
      waiting.get(m.id)?.(m.value)
      waiting.delete(m.id)
    }
  })
  const ask = <T>(cmd: 'count' | 'statements') =>
    new Promise<T>((resolve, reject) => {
      if (!child.connected) return reject(new Error('the relay process has stopped'))
      const id = next++
      waiting.set(id, resolve as (value: unknown) => void)
      child.send({ id, cmd }, (error) => {
        if (!error) return
        waiting.delete(id)
        reject(error)
      })
    })
  return { port: options.port, roundTrips: () => ask<number>('count'), takeStatements: () => ask<string[]>('statements'), stop }
}
