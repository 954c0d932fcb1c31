/**
 * `npm run phi:purge -- [--apply] [--clinic <id>]` (docs/decisions/049-retention-purge.md): as the
 * owner role, removes the PHI of referrals that ended more than their clinic's retention period
 * ago (`phiRetentionDays`, set on /admin/clinic; clinics without one are never purged). Without
 * --apply it is a dry run that only counts. Run it daily from a cron, like the audit jobs.
 */
import { parseArgs } from 'node:util'
import { openDocumentStore } from './lib/documents-store'
import { withDatabase } from './lib/neon-node'
import { ownerConnection } from './lib/owner-connection'
import { purgeExpiredPhi } from './lib/phi-purge'

const { values } = parseArgs({ options: { apply: { type: 'boolean', default: false }, clinic: { type: 'string' } } })
if (values.clinic !== undefined && !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(values.clinic)) {
  console.error('--clinic must be a clinic id (a UUID)')
  process.exit(2)
}
const connection = ownerConnection()
const store = values.apply ? await openDocumentStore() : null
const reports = await withDatabase(connection, (db) =>
  purgeExpiredPhi({ db, bucket: store?.bucket ?? null }, { apply: !!values.apply, clinicId: values.clinic?.toLowerCase() }),
).finally(() => store?.close())
for (const r of reports) {
  if (!r.retentionDays) {
    console.log(`${r.slug}: no retention period set; nothing is purged`)
    continue
  }
  const what = `${r.referrals} referrals (${r.eventBodies} notes and messages, ${r.summaries} AI summaries, ${r.documents} documents in ${r.chunks} chunks)`
  console.log(`${r.slug}: ${values.apply ? 'purged' : 'due'} ${what}, ended more than ${r.retentionDays} days ago`)
}
console.log(
  values.apply ? "Purged; each referral and each clinic run is in its clinic's audit trail." : 'Dry run: nothing was changed. Run with --apply to purge.',
)
process.exit(0)
