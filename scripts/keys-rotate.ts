/**
 * `npm run keys:rotate -- [--verify] [--blind-index] [--clinic <id>] [--batch <n>] [--no-documents]`
 * (docs/decisions/048-key-rotation.md): as the owner role, re-seals every PHI value and document
 * chunk under PHI_KEYRING's current kid, then says per clinic what is left under which kid.
 * `--verify` only reports, and exits 1 while anything is left under another kid. `--blind-index`
 * recomputes every blind index under PHI_BLIND_INDEX_KEY (the old key in PHI_BLIND_INDEX_KEY_PREVIOUS).
 * Keys come from the environment, or the local stack's .data/secrets.json.
 */
import { parseArgs } from 'node:util'
import { createDocumentCipher, createPhiCipher, parseKeyRing } from '../app/crypto/phi.server'
import { rotateBlindIndexes } from './lib/blind-index-rotation'
import { localConfig } from './lib/config'
import { openDocumentStore } from './lib/documents-store'
import { leftUnderOldKids, rotateKeys, verifyKeys, type KidCounts } from './lib/key-rotation'
import { withDatabase } from './lib/neon-node'
import { ownerConnection } from './lib/owner-connection'
import { loadOrCreateSecrets } from './lib/secrets'

const { values } = parseArgs({
  options: {
    verify: { type: 'boolean', default: false },
    'blind-index': { type: 'boolean', default: false },
    clinic: { type: 'string' },
    batch: { type: 'string', default: '200' },
    'no-documents': { type: 'boolean', default: false },
  },
})
if (values.clinic !== undefined && !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(values.clinic)) {
  console.error('--clinic must be a clinic id (a UUID)')
  process.exit(2)
}
const batchSize = Number(values.batch)
if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 5000) {
  console.error('--batch must be a whole number from 1 to 5000')
  process.exit(2)
}

const connection = ownerConnection()
const local = process.env.PHI_KEYRING ? null : loadOrCreateSecrets(localConfig().dataDir)
const keyRing = parseKeyRing(process.env.PHI_KEYRING ?? local!.phiKeyRing)
const blindIndexKey = process.env.PHI_BLIND_INDEX_KEY ?? local!.phiBlindIndexKey
const previousBlindIndexKey = process.env.PHI_BLIND_INDEX_KEY_PREVIOUS ?? local?.phiBlindIndexKeyPrevious
const cipher = createPhiCipher({ keyRing, blindIndexKey, previousBlindIndexKey })
const documents = createDocumentCipher({ keyRing })
const clinicId = values.clinic?.toLowerCase()

const describe = (byKid: KidCounts[string] | undefined) =>
  Object.entries(byKid ?? {})
    .filter(([, n]) => n)
    .map(([kind, n]) => `${n} ${kind}`)
    .join(', ')

let ok = true
if (values['blind-index']) {
  if (!previousBlindIndexKey)
    console.log('PHI_BLIND_INDEX_KEY_PREVIOUS is not set: rows are recomputed, but none can be told apart as "under the previous key".')
  const reports = await withDatabase(connection, async (db) => {
    if (!values.verify) await rotateBlindIndexes({ db, cipher, batchSize }, { clinicId })
    return rotateBlindIndexes({ db, cipher, batchSize, verifyOnly: true }, { clinicId })
  })
  for (const r of reports) {
    const left = r.underPrevious + r.mismatched + r.failed.length
    ok &&= left === 0
    console.log(
      left
        ? `LEFT    ${r.slug}: ${r.underPrevious} referrals indexed under the previous key, ${r.mismatched} under neither key, ${r.failed.length} that do not open`
        : `OK      ${r.slug}: every blind index is under the current key; PHI_BLIND_INDEX_KEY_PREVIOUS can be removed`,
    )
  }
} else {
  const store = values['no-documents'] ? null : await openDocumentStore()
  const bucket = store?.bucket ?? null
  const reports = await withDatabase(connection, (db) =>
    values.verify ? verifyKeys(db, keyRing.current, bucket, clinicId) : rotateKeys({ db, cipher, documents, bucket, batchSize }, { clinicId }),
  ).finally(() => store?.close())
  for (const r of reports) {
    const left = leftUnderOldKids(r)
    const failed = r.failed
    const rotated = values.verify ? '' : `; re-sealed now: ${describe(r.rotated) || 'nothing'}`
    ok &&= left.length === 0 && failed.length === 0
    if (left.length) for (const kid of left) console.log(`LEFT    ${r.slug}: under ${kid}: ${describe(r.byKid[kid])}${rotated}`)
    else console.log(`OK      ${r.slug}: nothing left under any kid but ${r.current} (${describe(r.byKid[r.current]) || 'nothing sealed'})${rotated}`)
    for (const f of failed) console.log(`FAILED  ${r.slug}: ${f.kind} ${f.id} does not open under any key in the ring`)
  }
  if (!bucket) console.log('Documents were not checked (--no-documents).')
  const old = Object.keys(keyRing.keys).filter((kid) => kid !== keyRing.current)
  if (ok && old.length && bucket) console.log(`Nothing is sealed under ${old.join(', ')}: ${old.length > 1 ? 'they' : 'it'} can be removed from PHI_KEYRING.`)
}
// Explicitly: wrangler's platform proxy leaves handles that would keep the process up.
process.exit(ok ? 0 : 1)
