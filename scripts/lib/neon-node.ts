/**
 * The production Neon driver, used from Node scripts and tests. Node 20 has no global
 * WebSocket, so the driver is given the `ws` package; the rest is the same code path
 * as in workerd (app/db/client.server.ts).
 */
import { neonConfig } from '@neondatabase/serverless'
import ws from 'ws'
import { connectDatabase } from '../../app/db/client.server'

neonConfig.webSocketConstructor = ws

export { connectDatabase }

export async function withDatabase<T>(
  options: { url: string; wsProxy?: string },
  fn: (db: ReturnType<typeof connectDatabase>['db']) => Promise<T>,
): Promise<T> {
  const connection = connectDatabase(options)
  try {
    return await fn(connection.db)
  } finally {
    await connection.end()
  }
}
