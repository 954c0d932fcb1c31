/**
 * `npm run audit:retention -- [--apply] [--years 7]`: removes audit rows older than the
 * retention period (7 years, the least the database allows: drizzle/0016). A dry run unless
 * --apply. Runs as the owner role; leaves a signed checkpoint in R2 (docs/decisions/021).
 */
import { parseArgs } from 'node:util'
import { applyRetention, RETENTION_YEARS } from './lib/audit-jobs'
import { openCheckpointStore } from './lib/audit-store'
import { withDatabase } from './lib/neon-node'
import { ownerConnection } from './lib/owner-connection'

const { values } = parseArgs({ options: { apply: { type: 'boolean', default: false }, years: { type: 'string', default: String(RETENTION_YEARS) } } })
const years = Number(values.years)
if (!Number.isInteger(years) || years < RETENTION_YEARS) {
  console.error(`--years must be a whole number of years, at least ${RETENTION_YEARS}`)
  process.exit(2)
}
const cutoff = new Date()
cutoff.setUTCFullYear(cutoff.getUTCFullYear() - years)
const connection = ownerConnection()
const store = values.apply ? await openCheckpointStore() : undefined
const plans = await withDatabase(connection, (db) => applyRetention(db, { cutoff, apply: !!values.apply, store })).finally(() => store?.close())
const total = plans.reduce((n, p) => n + p.removable, 0)
for (const p of plans)
  if (p.removable) console.log(`${p.chain === '-' ? 'outside any clinic' : `clinic ${p.chain}`}: ${p.removable} rows through seq ${p.throughSeq}`)
console.log(
  values.apply
    ? `Removed ${total} audit rows older than ${cutoff.toISOString().slice(0, 10)}; signed checkpoints recorded.`
    : `Dry run: ${total} audit rows are older than ${cutoff.toISOString().slice(0, 10)}. Run with --apply to remove them.`,
)
