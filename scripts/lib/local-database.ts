/** The local database as the app sees it: embedded PostgreSQL behind the Neon WebSocket relay. */
import { startLocalPostgres, type LocalPostgres } from './postgres'
import { startRelay, type Relay } from './ws-relay'

export type LocalDatabase = LocalPostgres & { relay: Relay; wsProxy: string; stopAll: () => Promise<void> }

export async function startLocalDatabase(options: {
  dataDir: string
  pgPort: number
  relayPort: number
  persistent: boolean
}): Promise<LocalDatabase> {
  const postgres = await startLocalPostgres({ dataDir: options.dataDir, port: options.pgPort, persistent: options.persistent })
  let relay: Relay
  try {
    relay = await startRelay({ port: options.relayPort, postgresPort: options.pgPort })
  } catch (error) {
    await postgres.stop()
    throw error
  }
  return {
    ...postgres,
    relay,
    wsProxy: `127.0.0.1:${relay.port}`,
    stopAll: async () => {
      await relay.close()
      await postgres.stop()
    },
  }
}
