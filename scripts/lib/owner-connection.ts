/**
 * The owner's connection for jobs (audit verify/retention, seed): MIGRATION_DATABASE_URL
 * (Neon, or anything else) when set, otherwise the running local stack.
 */
import { localConfig } from './config'
import { runningStack } from './lock'
import { DATABASE_NAME, OWNER_ROLE } from './postgres'

export function ownerConnection(): { url: string; wsProxy?: string } {
  if (process.env.MIGRATION_DATABASE_URL) {
    return { url: process.env.MIGRATION_DATABASE_URL, wsProxy: process.env.DATABASE_WS_PROXY }
  }
  const running = runningStack(localConfig().dataDir)
  if (!running) {
    console.error('Set MIGRATION_DATABASE_URL (the owner role), or start IntakePilot locally with `npm start` first.')
    process.exit(1)
  }
  return {
    url: `postgres://${OWNER_ROLE.user}:${OWNER_ROLE.password}@127.0.0.1:${running.pgPort}/${DATABASE_NAME}`,
    wsProxy: `127.0.0.1:${running.relayPort}`,
  }
}
