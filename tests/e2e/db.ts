/** The e2e stack's database, as the owner (for checking what really was written). */
import { connectDatabase } from '../../scripts/lib/neon-node'
import { OWNER_ROLE, DATABASE_NAME } from '../../scripts/lib/postgres'
import { E2E } from '../../playwright.config'

export function ownerDatabase() {
  return connectDatabase({
    url: `postgres://${OWNER_ROLE.user}:${OWNER_ROLE.password}@127.0.0.1:${E2E.pgPort}/${DATABASE_NAME}`,
    wsProxy: `127.0.0.1:${E2E.relayPort}`,
  })
}
