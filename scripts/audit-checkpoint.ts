/**
 * `npm run audit:checkpoint [-- --every <seconds>]`: signs every chain's head into R2
 * (docs/decisions/021). Once, or every N seconds until stopped: `npm start` runs it every
 * 5 minutes; production runs it from a cron (README, "Audit trail").
 */
import { parseArgs } from 'node:util'
import { checkpointAllChains } from './lib/audit-jobs'
import { openCheckpointStore } from './lib/audit-store'
import { withDatabase } from './lib/neon-node'
import { ownerConnection } from './lib/owner-connection'

const { values } = parseArgs({ options: { every: { type: 'string' } } })
const every = values.every === undefined ? null : Number(values.every)
if (every !== null && !(Number.isInteger(every) && every >= 10)) {
  console.error('--every must be a whole number of seconds, at least 10')
  process.exit(2)
}

async function once() {
  const store = await openCheckpointStore()
  try {
    const heads = await withDatabase(ownerConnection(), (db) => checkpointAllChains(db, store))
    console.log(`[audit:checkpoint] ${new Date().toISOString()}: signed ${heads.length} chain heads`)
  } finally {
    await store.close()
  }
}

await once()
if (every !== null) {
  const timer = setInterval(
    () => void once().catch((error) => console.error('[audit:checkpoint] failed:', error instanceof Error ? error.message : error)),
    every * 1000,
  )
  const stop = () => (clearInterval(timer), process.exit(0))
  process.on('SIGINT', stop)
  process.on('SIGTERM', stop)
}
