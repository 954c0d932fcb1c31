/** The e2e stack's database, as the owner (for checking what really was written). */
import { connectDatabase } from '../../scripts/lib/neon-node'
import { OWNER_ROLE, DATABASE_NAME } from '../../scripts/lib/postgres'
import { E2E } from '../../playwright.config'

type Connection = ReturnType<typeof connectDatabase>

/**
 * Opened on first use and again after `end()`. Specs hold it at module level and end it in
 * `afterAll`, but with fullyParallel a worker runs `afterAll` whenever it leaves the file, and
 * may come back to the same file (same module) for its next test: a plain pool would be ended.
 */
export function ownerDatabase(): Connection {
  let current: Connection | null = null
  const open = () =>
    (current ??= connectDatabase({
      url: `postgres://${OWNER_ROLE.user}:${OWNER_ROLE.password}@127.0.0.1:${E2E.pgPort}/${DATABASE_NAME}`,
      wsProxy: `127.0.0.1:${E2E.relayPort}`,
    }))
  const db = new Proxy({} as Connection['db'], {
    get(_target, key) {
      const real = open().db as unknown as Record<PropertyKey, unknown>
      const value = real[key]
      return typeof value === 'function' ? value.bind(real) : value
    },
  })
  return {
    db,
    end: async () => {
      const ending = current
      current = null
      await ending?.end()
    },
  }
}
