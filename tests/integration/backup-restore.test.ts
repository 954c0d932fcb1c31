/**
 * The restore drill (docs/decisions/050-encrypted-backups.md): the seeded test database is backed
 * up, restored into a fresh database on the same server (migrated to the same version), and
 * compared: every table's rows and their hash, every audit chain recomputed, and a referral's PHI
 * still opens under the clinic's key. And what a restore refuses: a file altered with or without
 * its manifest, the wrong key, a database that is not empty.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { eq, sql } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest'
import { createPhiCipher, parseKeyRing } from '../../app/crypto/phi.server'
import * as s from '../../app/db/schema'
import { openFormData } from '../../app/referrals/form-data.server'
import { backupDatabase, restoreDatabase, type BackupManifest } from '../../scripts/lib/backup'
import { runMigrations } from '../../scripts/lib/migrate'
import { connectDatabase } from '../../scripts/lib/neon-node'
import { useTestDatabase } from '../support/db'

const db = useTestDatabase()
const secrets = inject('secrets')
const backupKey = randomBytes(32).toString('base64')
const name = `restore_${randomBytes(4).toString('hex')}`
const inDatabase = (url: string, database: string) => url.replace(/\/[^/?]+(\?|$)/, `/${database}$1`)

let dir: string
let superuser: ReturnType<typeof connectDatabase>
let restored: ReturnType<typeof connectDatabase>
let manifest: BackupManifest
let file: string

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'intakepilot-backup-'))
  superuser = connectDatabase({ url: db.config.superuserUrl, wsProxy: db.config.wsProxy })
  await superuser.db.execute(sql.raw(`create database ${name} owner intakepilot_owner`))
  restored = connectDatabase({ url: inDatabase(db.config.superuserUrl, name), wsProxy: db.config.wsProxy })
  await restored.db.execute(sql`alter schema public owner to intakepilot_owner`)
  await runMigrations({ url: inDatabase(db.config.ownerUrl, name), wsProxy: db.config.wsProxy })
  file = join(dir, 'drill.backup')
  manifest = await backupDatabase(db.owner, { path: file, backupKey })
}, 120_000)

afterAll(async () => {
  await restored?.end()
  await superuser?.db.execute(sql.raw(`drop database if exists ${name} with (force)`))
  await superuser?.end()
  rmSync(dir, { recursive: true, force: true })
})

describe('backup and restore', () => {
  test('the manifest says what the backup holds, and the file holds nothing readable', async () => {
    expect(manifest.tables.referrals!.rows).toBeGreaterThan(600)
    expect(manifest.tables.audit_logs!.rows).toBeGreaterThan(0)
    expect(manifest.schema.migrations).toBeGreaterThan(20)
    expect(manifest.chains.length).toBeGreaterThanOrEqual(3)
    const bytes = readFileSync(file)
    expect(bytes.byteLength).toBe(manifest.file.bytes)
    // Not even what is plain in the database: the clinics' names, a reference number.
    const [referral] = await db.owner.select().from(s.referrals).limit(1)
    for (const plain of ['Northside Physiotherapy', 'Lakeview Orthopaedics', referral!.referenceNumber, '"kid"']) expect(bytes.includes(plain)).toBe(false)
  })

  test('what a restore refuses: another key, a file altered with or without its manifest', async () => {
    const target = { path: file, manifest, backupKey: randomBytes(32).toString('base64') }
    await expect(restoreDatabase(restored.db, target)).rejects.toThrow('BACKUP_KEY is not the key this backup was sealed with')

    const altered = join(dir, 'altered.backup')
    const bytes = readFileSync(file)
    bytes[bytes.byteLength - 40] = bytes[bytes.byteLength - 40]! ^ 1
    writeFileSync(altered, bytes)
    await expect(restoreDatabase(restored.db, { path: altered, manifest, backupKey })).rejects.toThrow('does not match its manifest')
    // The manifest altered to match: the chunk itself does not open, and nothing was written.
    const { createHash } = await import('node:crypto')
    const forged = { ...manifest, file: { ...manifest.file, sha256: createHash('sha256').update(bytes).digest('hex') } }
    await expect(restoreDatabase(restored.db, { path: altered, manifest: forged, backupKey })).rejects.toThrow(/chunk \d+ does not open/)
    const [count] = (await restored.db.execute<{ n: string }>(sql`select count(*) as n from referrals`)).rows
    expect(Number(count!.n)).toBe(0)
  }, 120_000)

  test('the round trip: every table and every audit chain as it was, and the PHI opens', async () => {
    const report = await restoreDatabase(restored.db, { path: file, manifest, backupKey })
    const wrong = Object.entries(report.tables).filter(([, t]) => t.expected !== t.restored || !t.sameRows)
    expect(wrong).toEqual([])
    expect(Object.keys(report.tables).sort()).toEqual(Object.keys(manifest.tables).sort())
    expect(report.chains.filter((c) => !c.ok).map((c) => `${c.chain}: ${c.problem}`)).toEqual([])
    expect(report.chains.length).toBe(manifest.chains.length)
    expect(report.ok).toBe(true)

    // The database's own check agrees, and the trail keeps its hashes (no trigger re-wrote a row).
    const clinics = await restored.db.select().from(s.clinics)
    for (const clinic of clinics) {
      const [verdict] = (await restored.db.execute<{ ok: boolean }>(sql`select ok from audit_verify(${clinic.id}::uuid)`)).rows
      expect(verdict!.ok, clinic.slug).toBe(true)
    }
    const cipher = createPhiCipher({ keyRing: parseKeyRing(secrets.phiKeyRing), blindIndexKey: secrets.phiBlindIndexKey })
    // A seeded clinic's referral: the other PHI jobs' files make clinics of their own, under keys of their own.
    const [lakeview] = await restored.db.select().from(s.clinics).where(eq(s.clinics.slug, 'lakeview'))
    const [referral] = await restored.db.select().from(s.referrals).where(eq(s.referrals.clinicId, lakeview!.id)).limit(1)
    const [form] = await restored.db.select().from(s.intakeForms).where(eq(s.intakeForms.clinicId, referral!.clinicId)).limit(1)
    const values = await openFormData(cipher, form!.definition, { clinicId: referral!.clinicId, referralId: referral!.id }, referral!.formData)
    expect(values.patient_last_name).toEqual(expect.any(String))
    // A new row after the restore does not collide with a restored one.
    await restored.db.execute(sql`insert into audit_logs (clinic_id, actor_role, action) values (${referral!.clinicId}::uuid, 'system', 'db.restore')`)
    const [after] = (await restored.db.execute<{ ok: boolean }>(sql`select ok from audit_verify(${referral!.clinicId}::uuid)`)).rows
    expect(after!.ok).toBe(true)

    // And into a database that now holds rows, a second restore is refused.
    await expect(restoreDatabase(restored.db, { path: file, manifest, backupKey })).rejects.toThrow('the database is not empty')
  }, 180_000)
})
