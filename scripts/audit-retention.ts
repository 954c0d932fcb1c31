/**
 * `npm run audit:retention -- [--apply] [--years 7]`: removes audit rows older than the
 * retention period (7 years by default). A dry run unless --apply. Runs as the owner role.
 */
import { parseArgs } from 'node:util'
import { applyRetention } from './lib/audit-jobs'
import { withDatabase } from './lib/neon-node'
import { ownerConnection } from './lib/owner-connection'

const { values } = parseArgs({ options: { apply: { type: 'boolean', default: false }, years: { type: 'string', default: '7' } } })
const years = Number(values.years)
if (!Number.isFinite(years) || years < 1) {
  console.error('--years must be a number of years, at least 1')
  process.exit(2)
}
const cutoff = new Date()
cutoff.setUTCFullYear(cutoff.getUTCFullYear() - years)
const plans = await withDatabase(ownerConnection(), (db) => applyRetention(db, { cutoff, apply: !!values.apply }))
const total = plans.reduce((n, p) => n + p.removable, 0)
for (const p of plans) if (p.removable) console.log(`${p.chain === '-' ? 'outside any clinic' : `clinic ${p.chain}`}: ${p.removable} rows through seq ${p.throughSeq}`)
console.log(
  values.apply
    ? `Removed ${total} audit rows older than ${cutoff.toISOString().slice(0, 10)}; checkpoints recorded.`
    : `Dry run: ${total} audit rows are older than ${cutoff.toISOString().slice(0, 10)}. Run with --apply to remove them.`,
)
