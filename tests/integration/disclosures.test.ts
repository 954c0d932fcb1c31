/**
 * A patient's accounting of disclosures (app/privacy/disclosures.server.ts) against the real
 * database, as the clinic's admin through RLS: found through the blind indexes, it gathers the
 * accesses to every referral of that patient, lists that showed one included, and none that
 * were only about another patient; it is recorded without the search terms; its CSV is safe to
 * open in a spreadsheet.
 */
import { randomUUID } from 'node:crypto'
import { sql } from 'drizzle-orm'
import { describe, expect, inject, test } from 'vitest'
import { recordAudit, type AuditEvent } from '../../app/audit/audit.server'
import * as s from '../../app/db/schema'
import { DEMO_TENANT_ID } from '../../scripts/lib/demo-accounts'
import { createPhiCipher, parseKeyRing } from '../../app/crypto/phi.server'
import { accountOfDisclosures, disclosuresCsv, MAX_DISCLOSURES, periodStart } from '../../app/privacy/disclosures.server'
import type { TenantScope, TenantTx } from '../../app/tenancy/tenant.server'
import { fakePatient } from '../factories/patients'
import { createRandom } from '../factories/random'
import { useTestDatabase } from '../support/db'
import { makePrivacyClinic } from '../support/privacy-clinic'

const db = useTestDatabase()
const secrets = inject('secrets')
const keys = { keyRing: parseKeyRing(secrets.phiKeyRing), blindIndexKey: secrets.phiBlindIndexKey }
const cipher = createPhiCipher(keys)
const noBucket = { put: async () => null } as unknown as R2Bucket

const audit =
  (who: TenantScope, ip: string | null = null) =>
  (tx: TenantTx, event: AuditEvent) =>
    recordAudit(tx, who, { requestId: randomUUID(), ip, userAgent: 'test-agent' }, event)

describe('accounting of disclosures', () => {
  test('every access to any referral of the patient, across referrals, and none of another patient', async () => {
    const random = createRandom(20261201)
    const [ada, bea] = [fakePatient(random), fakePatient(random)]
    // Referrals 0, 1, 2 are Ada's; 3 is Bea's. makePrivacyClinic seals no documents here (no bucket needed).
    const clinic = await makePrivacyClinic(db.owner, keys, noBucket, { referrals: 4, patients: [ada, ada, ada, bea], seed: 7 })
    const [a1, a2, a3, b1] = clinic.referrals.map((r) => r.id)
    const staff: TenantScope = { clinicId: clinic.id, userId: clinic.staff, role: 'staff' }
    const admin: TenantScope = { clinicId: clinic.id, userId: clinic.admin, role: 'admin' }
    const as = (who: TenantScope, events: AuditEvent[], ip?: string) =>
      db.as(who).tenant(async (tx) => {
        for (const e of events) await audit(who, ip)(tx, e)
      })
    await as(
      staff,
      [
        { action: 'referral.read', entityType: 'referral', entityId: a1 },
        { action: 'referral.print', entityType: 'referral', entityId: a2 },
        { action: 'document.read', entityType: 'referral', entityId: a3, details: { documentId: randomUUID(), download: true } },
        { action: 'referral.read', entityType: 'referral', entityId: b1 },
        { action: 'referral.list', entityType: 'referral', details: { ids: [a2, b1] } },
        { action: 'referral.list', entityType: 'referral', details: { ids: [b1] } },
      ],
      '203.0.113.9',
    )

    const since = periodStart(new Date(), 6)
    const byCard = await db
      .as(admin)
      .tenant((tx) =>
        accountOfDisclosures(tx, cipher, audit(admin), { clinicId: clinic.id, search: { healthCard: String(ada.health_card_number) }, since, purpose: 'read' }),
      )
    expect(byCard.referrals.map((r) => r.id).sort()).toEqual([a1, a2, a3].sort())
    const seen = byCard.rows.map((r) => `${r.action} ${r.referralId}`)
    expect(seen).toEqual(expect.arrayContaining([`referral.read ${a1}`, `referral.print ${a2}`, `document.read ${a3}`, `referral.list ${a2}`]))
    expect(byCard.rows.every((r) => [a1, a2, a3].includes(r.referralId))).toBe(true)
    expect(byCard.rows.filter((r) => r.action === 'referral.list')).toHaveLength(1)
    const read = byCard.rows.find((r) => r.action === 'referral.read')!
    expect(read).toMatchObject({
      actor: `staff ${clinic.slug.slice(5)}`,
      who: `staff ${clinic.slug.slice(5)}`,
      actorRole: 'staff',
      ip: '203.0.113.9',
      userAgent: 'test-agent',
      outcome: 'success',
    })
    expect(read.referenceNumber).toMatch(/^T-/)

    // By last name and date of birth: the same referrals.
    const byName = await db.as(admin).tenant((tx) =>
      accountOfDisclosures(tx, cipher, audit(admin), {
        clinicId: clinic.id,
        search: { lastName: String(ada.patient_last_name).toUpperCase(), dob: String(ada.patient_dob) },
        since,
        purpose: 'export',
      }),
    )
    expect(byName.referrals.map((r) => r.id).sort()).toEqual([a1, a2, a3].sort())

    // An EHR system's read of Bea's referral names the system, by its registration (decisions 058, 061).
    const [ehr] = await db.owner
      .insert(s.ehrIntegrations)
      .values({ clinicId: clinic.id, name: 'Disclosure EHR', idpTenantId: DEMO_TENANT_ID, clientId: `d-${randomUUID()}`, roles: ['Referral.Read'] })
      .returning()
    await as({ clinicId: clinic.id, userId: ehr!.id, role: 'integration' }, [{ action: 'referral.read', entityType: 'referral', entityId: b1 }])

    // Bea's accounting holds her reads and both lists, nothing of Ada's.
    const bea1 = await db
      .as(admin)
      .tenant((tx) =>
        accountOfDisclosures(tx, cipher, audit(admin), { clinicId: clinic.id, search: { healthCard: String(bea.health_card_number) }, since, purpose: 'read' }),
      )
    expect(bea1.rows.map((r) => r.action).sort()).toEqual(['referral.list', 'referral.list', 'referral.read', 'referral.read'])
    expect(bea1.rows.find((r) => r.actorRole === 'integration')).toMatchObject({ actor: 'Disclosure EHR', who: 'Disclosure EHR' })
    expect(bea1.rows.every((r) => r.referralId === b1)).toBe(true)

    // Recorded, with ids and counts, never the search terms.
    const trail = await db.owner.execute<{ action: string; details: string }>(
      sql`select action, details::text from audit_logs where clinic_id = ${clinic.id}::uuid and action like 'disclosures.%' order by seq`,
    )
    expect(trail.rows.map((r) => r.action)).toEqual(['disclosures.read', 'disclosures.export', 'disclosures.read'])
    for (const row of trail.rows)
      for (const term of [ada.health_card_number, ada.patient_last_name, bea.health_card_number, ada.patient_dob])
        expect(row.details).not.toContain(String(term))
    // An admin of another clinic, or a patient nobody has, finds nothing.
    const none = await db
      .as(admin)
      .tenant((tx) => accountOfDisclosures(tx, cipher, audit(admin), { clinicId: clinic.id, search: { healthCard: '0000000000XX' }, since, purpose: 'read' }))
    expect(none).toMatchObject({ referrals: [], rows: [] })

    const csv = disclosuresCsv([{ ...read, who: '=HYPERLINK("x")' }], false, { zone: 'America/Toronto' })
    expect(csv.split('\r\n')[1]).toContain(`"'=HYPERLINK(""x"")"`)
    expect(csv.trimEnd().split('\r\n').at(-1)).toBe('# intakepilot-disclosures: 1 rows; complete')
  }, 60_000)

  test('an answer stops at MAX_DISCLOSURES and says so, newest first; a period that ends before them holds none', async () => {
    const random = createRandom(20261202)
    const patient = fakePatient(random)
    const clinic = await makePrivacyClinic(db.owner, keys, noBucket, { referrals: 1, patients: [patient], seed: 8 })
    const [referral] = clinic.referrals.map((r) => r.id)
    const admin: TenantScope = { clinicId: clinic.id, userId: clinic.admin, role: 'admin' }
    // One more than an answer holds (the chain trigger numbers them and stamps them now).
    const before = new Date()
    await db.owner.execute(sql`insert into audit_logs (clinic_id, actor_id, actor_role, action, entity_type, entity_id, outcome)
      select ${clinic.id}::uuid, ${clinic.staff}::uuid, 'staff', 'referral.read', 'referral', ${referral}::text, 'success'
      from generate_series(1, ${MAX_DISCLOSURES + 1})`)
    const search = { healthCard: String(patient.health_card_number) }
    const all = await db
      .as(admin)
      .tenant((tx) => accountOfDisclosures(tx, cipher, audit(admin), { clinicId: clinic.id, search, since: periodStart(new Date(), 6), purpose: 'read' }))
    expect(all.truncated).toBe(true)
    expect(all.rows).toHaveLength(MAX_DISCLOSURES)
    const seqs = all.rows.map((r) => r.seq)
    expect(seqs).toEqual([...seqs].sort((a, b) => b - a))
    expect(disclosuresCsv(all.rows, true, { zone: 'UTC' }).trimEnd().split('\r\n').at(-1)).toBe(
      `# intakepilot-disclosures: ${MAX_DISCLOSURES} rows; stopped at ${MAX_DISCLOSURES}: narrow the period`,
    )
    // A period that ends before they were written holds none of them (only the referral's own making), and says it is complete.
    const earlier = await db
      .as(admin)
      .tenant((tx) =>
        accountOfDisclosures(tx, cipher, audit(admin), { clinicId: clinic.id, search, since: periodStart(before, 6), until: before, purpose: 'read' }),
      )
    expect(earlier.truncated).toBe(false)
    expect(earlier.rows.filter((r) => r.action === 'referral.read')).toEqual([])
    const [row] = (
      await db.owner.execute<{ details: Record<string, unknown> }>(
        sql`select details from audit_logs where clinic_id = ${clinic.id}::uuid and action = 'disclosures.read' order by seq desc limit 1`,
      )
    ).rows
    expect(row!.details).toMatchObject({ ids: [referral], rows: earlier.rows.length, truncated: false, until: before.toISOString(), by: 'health_card' })
  }, 120_000)
})
