import { createPhiCipher, parseKeyRing } from '../../app/crypto/phi.server'
import { isSeeded, seedDemoData } from '../../tests/factories/seed'
import { withDatabase } from './neon-node'
import type { LocalSecrets } from './secrets'

/** Seeds the demo data unless it is already there. Returns whether it seeded. */
export async function seedIfEmpty(options: { url: string; wsProxy?: string; secrets: Pick<LocalSecrets, 'phiKeyRing' | 'phiBlindIndexKey'> }) {
  const cipher = createPhiCipher({ keyRing: parseKeyRing(options.secrets.phiKeyRing), blindIndexKey: options.secrets.phiBlindIndexKey })
  return withDatabase(options, async (db) => {
    if (await isSeeded(db)) return false
    await db.transaction(async (tx) => seedDemoData(tx as unknown as typeof db, cipher))
    return true
  })
}
