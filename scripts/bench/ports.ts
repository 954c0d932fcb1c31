/** The bench's fixed ports, checked before anything starts: two benches must not share a machine's ports. */
import { createServer } from 'node:net'

export async function assertPortsFree(ports: Record<string, number>, bench: string) {
  for (const [name, port] of Object.entries(ports)) {
    const free = await new Promise<boolean>((resolve) => {
      const server = createServer()
      server.once('error', () => resolve(false))
      server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)))
    })
    if (!free) throw new Error(`port ${port} (${name}) is in use: is another ${bench} running?`)
  }
}
