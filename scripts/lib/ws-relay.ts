/**
 * A WebSocket-to-TCP relay in front of the local PostgreSQL, speaking the protocol of Neon's
 * proxy: the Neon serverless driver (the production driver) connects to
 * ws://127.0.0.1:<port>/v1?address=<host>:<port> and the relay pipes bytes to PostgreSQL.
 * It only ever connects to the one PostgreSQL it was started for.
 */
import { createConnection } from 'node:net'
import { WebSocketServer } from 'ws'

export type Relay = { port: number; roundTrips: () => number; close: () => Promise<void> }

export async function startRelay(options: { port: number; postgresPort: number }): Promise<Relay> {
  const allowed = new Set([`127.0.0.1:${options.postgresPort}`, `localhost:${options.postgresPort}`])
  let messages = 0
  const wss = new WebSocketServer({ host: '127.0.0.1', port: options.port, path: '/v1' })
  wss.on('connection', (socket, request) => {
    const address = new URL(request.url ?? '', 'http://relay').searchParams.get('address') ?? ''
    if (!allowed.has(address)) return socket.close(1008, 'address not allowed')
    const tcp = createConnection({ host: '127.0.0.1', port: options.postgresPort })
    tcp.on('data', (chunk) => socket.readyState === socket.OPEN && socket.send(chunk))
    tcp.on('close', () => socket.close())
    tcp.on('error', () => socket.close())
    socket.on('message', (data: Buffer) => {
      messages++
      tcp.write(data)
    })
    socket.on('close', () => tcp.end())
    socket.on('error', () => tcp.destroy())
  })
  await new Promise<void>((resolve, reject) => {
    wss.once('listening', resolve)
    wss.once('error', reject)
  })
  return {
    port: options.port,
    // Client-to-server messages: with pipelining off, one per round trip (bench, issue 8).
    roundTrips: () => messages,
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of wss.clients) client.terminate()
        wss.close(() => resolve())
      }),
  }
}
