/**
 * `npm run db:restore -- --from <file.backup> [--manifest <file>] [--create <database>]`
 * (docs/decisions/050-encrypted-backups.md): puts a backup into an empty database and verifies
 * every table's rows and every audit chain. Exits 1 if anything differs.
 *
 * - `--create <name>` (the local drill): creates that database in the running local stack, migrates
 *   it as the owner, and restores into it as the local superuser. It never touches `intakepilot`.
 * - Otherwise `RESTORE_DATABASE_URL`: an empty database already migrated to the backup's schema
 *   version (`MIGRATION_DATABASE_URL=… npm run db:migrate`), as a role that may set
 *   session_replication_role (neon_superuser on Neon).
 */
import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { sql } from 'drizzle-orm'
import { restoreDatabase, type BackupManifest } from './lib/backup'
import { localConfig } from './lib/config'
import { runningStack } from './lib/lock'
import { runMigrations } from './lib/migrate'
import { withDatabase } from './lib/neon-node'
import { DATABASE_NAME, LOCAL_SUPERUSER, OWNER_ROLE } from './lib/postgres'
import { loadOrCreateSecrets } from './lib/secrets'

const { values } = parseArgs({ options: { from: { type: 'string' }, manifest: { type: 'string' }, create: { type: 'string' } } })
if (!values.from) {
  console.error('--from <file.backup> is required')
  process.exit(2)
}
if (values.create !== undefined && (!/^[a-z][a-z0-9_]{0,40}$/.test(values.create) || values.create === DATABASE_NAME)) {
  console.error(`--create takes a new database name (lower case letters, digits, _), never ${DATABASE_NAME}`)
  process.exit(2)
}
const manifestPath = values.manifest ?? values.from.replace(/\.backup$/, '.manifest.json')
const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as BackupManifest
const dataDir = localConfig().dataDir
const backupKey = process.env.BACKUP_KEY ?? loadOrCreateSecrets(dataDir).backupKey

let target: { url: string; wsProxy?: string }
if (values.create) {
  const stack = runningStack(dataDir)
  if (!stack) {
    console.error('--create restores into the running local stack: start it with `npm start` first.')
    process.exit(1)
  }
  const wsProxy = `127.0.0.1:${stack.relayPort}`
  const url = (role: { user: string; password: string }, db: string) => `postgres://${role.user}:${role.password}@127.0.0.1:${stack.pgPort}/${db}`
  const name = values.create
  const exists = await withDatabase({ url: url(LOCAL_SUPERUSER, 'postgres'), wsProxy }, async (db) => {
    const found = await db.execute(sql`select 1 from pg_database where datname = ${name}`)
    if (!found.rows.length) await db.execute(sql.raw(`create database ${name} owner ${OWNER_ROLE.user}`))
    return found.rows.length > 0
  })
  if (exists) {
    console.error(`Database ${name} exists already: --create restores only into a new one. Pick another name.`)
    process.exit(1)
  }
  await withDatabase({ url: url(LOCAL_SUPERUSER, values.create), wsProxy }, (db) => db.execute(sql.raw(`alter schema public owner to ${OWNER_ROLE.user}`)))
  await runMigrations({ url: url(OWNER_ROLE, values.create), wsProxy })
  target = { url: url(LOCAL_SUPERUSER, values.create), wsProxy }
} else if (process.env.RESTORE_DATABASE_URL) {
  target = { url: process.env.RESTORE_DATABASE_URL, wsProxy: process.env.DATABASE_WS_PROXY }
} else {
  console.error('Set RESTORE_DATABASE_URL (an empty, migrated database), or use --create <name> with the local stack running.')
  process.exit(2)
}

const report = await withDatabase(target, (db) => restoreDatabase(db, { path: values.from!, manifest, backupKey }))
for (const [name, t] of Object.entries(report.tables))
  console.log(
    `${t.expected === t.restored && t.sameRows ? 'OK    ' : 'DIFFER'} ${name}: ${t.restored} of ${t.expected} rows${t.sameRows ? '' : ', not the same rows'}`,
  )
for (const c of report.chains) console.log(`${c.ok ? 'OK    ' : 'BROKEN'} audit chain ${c.chain}${c.problem ? `: ${c.problem}` : ''}`)
console.log(
  report.ok ? `Restored backup ${manifest.id} of ${manifest.createdAt}; every table and audit chain verifies.` : 'The restore does not match the backup.',
)
process.exit(report.ok ? 0 : 1)
