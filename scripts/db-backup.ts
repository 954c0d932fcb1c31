/**
 * `npm run db:backup -- [--out <folder>]` (docs/decisions/050-encrypted-backups.md): a logical dump
 * of the whole database, as the owner role, in one consistent snapshot, sealed under BACKUP_KEY
 * (or the local stack's .data/secrets.json), with a manifest beside it. Writes
 * `<folder>/intakepilot-<time>.backup` and `.manifest.json` (default folder: <data dir>/backups).
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { backupDatabase } from './lib/backup'
import { localConfig } from './lib/config'
import { withDatabase } from './lib/neon-node'
import { ownerConnection } from './lib/owner-connection'
import { loadOrCreateSecrets } from './lib/secrets'

const { values } = parseArgs({ options: { out: { type: 'string' } } })
const dataDir = localConfig().dataDir
const folder = values.out ?? join(dataDir, 'backups')
const backupKey = process.env.BACKUP_KEY ?? loadOrCreateSecrets(dataDir).backupKey
mkdirSync(folder, { recursive: true, mode: 0o700 })
const name = `intakepilot-${new Date().toISOString().replace(/[:.]/g, '-')}`
const path = join(folder, `${name}.backup`)
const manifest = await withDatabase(ownerConnection(), (db) => backupDatabase(db, { path, backupKey }))
writeFileSync(join(folder, `${name}.manifest.json`), JSON.stringify(manifest, null, 2) + '\n', { mode: 0o600 })
const rows = Object.values(manifest.tables).reduce((n, t) => n + t.rows, 0)
console.log(`${path}: ${rows} rows of ${Object.keys(manifest.tables).length} tables, ${manifest.file.bytes} bytes sealed in ${manifest.file.chunks} chunks`)
console.log(`manifest: ${join(folder, `${name}.manifest.json`)} (schema: ${manifest.schema.migrations} migrations; ${manifest.chains.length} audit chains)`)
console.log('Keep BACKUP_KEY apart from the backup and from the PHI keys: without it the file cannot be read.')
process.exit(0)
