/** `npm run db:seed`: the demo data, into the running local stack (`npm start` seeds on first run). */
import { localConfig } from './lib/config'
import { runningStack } from './lib/lock'
import { OWNER_ROLE, DATABASE_NAME } from './lib/postgres'
import { loadOrCreateSecrets } from './lib/secrets'
import { seedIfEmpty } from './lib/seed'

const config = localConfig()
const running = runningStack(config.dataDir)
if (!running) {
  console.error('IntakePilot is not running: `npm start` migrates and seeds on its first run.')
  process.exit(1)
}
const url = `postgres://${OWNER_ROLE.user}:${OWNER_ROLE.password}@127.0.0.1:${running.pgPort}/${DATABASE_NAME}`
const seeded = await seedIfEmpty({ url, wsProxy: `127.0.0.1:${running.relayPort}`, secrets: loadOrCreateSecrets(config.dataDir) })
console.log(seeded ? 'Seeded the demo clinics.' : 'Demo data already present; nothing to do.')
