/**
 * A WebSocket-to-TCP relay in front of the local database, speaking the protocol of Neon's
 * proxy: the Neon serverless driver (the production driver) connects to
 * ws://127.0.0.1:<port>/v1?address=<host>:<port> and the relay pipes bytes to that port.
 * It only ever connects to the ports it was started for: PgBouncer (the app's path, as Neon's
 * `-pooler` endpoint) and PostgreSQL itself (migrations and owner jobs).
 */
import { createConnection } from 'node:net'
import { WebSocketServer, type WebSocket } from 'ws'

export type Relay = {
  port: number
  roundTrips: () => number
  /** Sessions waiting for a slot under `maxSessions` right now. */
  waiting: () => number
  close: () => Promise<void>
}

export async function startRelay(options: {
  port: number
  /**
   * Ports it may connect to on 127.0.0.1. `maxSessions`: at most this many sessions open at once
   * to that port, the rest wait their turn (in order). Without a pooler this is what bounds the
   * app's connections: workerd admits any number of requests at once and each opens its own
   * (scripts/lib/local-database.ts).
   */
  targets: { port: number; maxSessions?: number }[]
}): Promise<Relay> {
  const allowed = new Map<string, number>()
  for (const { port } of options.targets) for (const host of ['127.0.0.1', 'localhost']) allowed.set(`${host}:${port}`, port)
  const gates = new Map(options.targets.map((t) => [t.port, gate(t.maxSessions ?? Infinity)]))
  let messages = 0
  const wss = new WebSocketServer({ host: '127.0.0.1', port: options.port, path: '/v1' })
  wss.on('connection', (socket, request) => {
    const address = new URL(request.url ?? '', 'http://relay').searchParams.get('address') ?? ''
    const port = allowed.get(address)
    if (port === undefined) return socket.close(1008, 'address not allowed')
    // What the client sends before its turn comes (startup, password) is kept and sent then.
    const early: Buffer[] = []
    let tcp: ReturnType<typeof createConnection> | undefined
    let closed = false
    socket.on('message', (data: Buffer) => {
      messages++
      if (tcp) tcp.write(data)
      else early.push(data)
    })
    socket.on('close', () => {
      closed = true
      if (tcp) tcp.end()
      else leave()
    })
    socket.on('error', () => tcp?.destroy())
    const leave = gates.get(port)!.enter(() => {
      if (closed) return leave()
      tcp = createConnection({ host: '127.0.0.1', port })
      for (const chunk of early.splice(0)) tcp.write(chunk)
      tcp.on('data', (chunk) => socket.readyState === socket.OPEN && socket.send(chunk))
      tcp.once('close', () => {
        leave()
        socket.close()
      })
      tcp.on('error', () => socket.close())
    })
  })
  await new Promise<void>((resolve, reject) => {
    wss.once('listening', resolve)
    wss.once('error', reject)
  })
  return {
    port: options.port,
    // Client-to-server messages: with pipelining off, one per round trip (the bench counts them).
    roundTrips: () => messages,
    waiting: () => [...gates.values()].reduce((n, g) => n + g.waiting(), 0),
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of wss.clients) (client as WebSocket).terminate()
        wss.close(() => resolve())
      }),
  }
}

/** A counting gate: `enter(fn)` runs fn now or when a slot frees, and returns that slot's release (idempotent). */
function gate(limit: number) {
  let open = 0
  const queue: (() => void)[] = []
  return {
    waiting: () => queue.length,
    enter(fn: () => void) {
      let state: 'waiting' | 'in' | 'out' = 'waiting'
      const start = () => {
        state = 'in'
        open++
        fn()
      }
      const release = () => {
        if (state === 'waiting') {
          const i = queue.indexOf(start)
          if (i >= 0) queue.splice(i, 1)
        } else if (state === 'in') {
          open--
          queue.shift()?.()
        }
        state = 'out'
      }
      if (open < limit) start()
      else queue.push(start)
      return release
    },
  }
}
