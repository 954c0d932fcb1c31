/**
 * `npm run audit:verify [-- --clinic <id>]`: recomputes every clinic's audit hash chain here, outside the database,
 * and compares it with the signed checkpoints in R2 (docs/decisions/021). Exits 1 on any break.
 */
import { parseArgs } from 'node:util'
import { verifyAllChains } from './lib/audit-jobs'
import { openCheckpointStore } from './lib/audit-store'
import { withDatabase } from './lib/neon-node'
import { ownerConnection } from './lib/owner-connection'

const { values } = parseArgs({ options: { clinic: { type: 'string' } } })
if (values.clinic !== undefined && !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(values.clinic)) {
  console.error('--clinic must be a clinic id (a UUID)')
  process.exit(2)
}
const connection = ownerConnection()
const store = await openCheckpointStore()
const report = await withDatabase(connection, (db) => verifyAllChains(db, store, values.clinic?.toLowerCase())).finally(() => store.close())
for (const key of report.badCheckpoints) console.log(`BROKEN  checkpoint ${key}: its signature does not verify`)
for (const r of report.chains) {
  const name = r.chain === '-' ? 'outside any clinic' : `clinic ${r.chain}`
  if (!r.ok) console.log(`BROKEN  ${name}: ${r.problem}`)
  else {
    const anchoring = r.anchored ? `${r.anchored} signed checkpoints match` : 'no signed checkpoint yet'
    console.log(`OK      ${name}: ${r.checked} rows; ${anchoring}${r.unanchored ? `; ${r.unanchored} newest rows not yet anchored` : ''}`)
  }
}
console.log(report.ok ? `All ${report.chains.length} chains verify.` : 'The audit trail has been tampered with.')
// Explicitly: wrangler's platform proxy leaves handles that would keep the process up, or reset its code.
process.exit(report.ok ? 0 : 1)
