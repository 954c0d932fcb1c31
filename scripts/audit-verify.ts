/** `npm run audit:verify`: checks every clinic's audit hash chain; exits 1 at the first break. */
import { verifyAllChains } from './lib/audit-jobs'
import { withDatabase } from './lib/neon-node'
import { ownerConnection } from './lib/owner-connection'

const reports = await withDatabase(ownerConnection(), verifyAllChains)
let broken = false
for (const r of reports) {
  const name = r.chain === '-' ? 'outside any clinic' : `clinic ${r.chain}`
  if (r.ok) console.log(`OK      ${name}: ${r.checked} rows`)
  else {
    broken = true
    console.log(`BROKEN  ${name}: row seq ${r.brokenSeq} (id ${r.brokenId}): ${r.reason}`)
  }
}
console.log(broken ? 'The audit trail has been tampered with.' : `All ${reports.length} chains verify.`)
process.exitCode = broken ? 1 : 0
