/**
 * Lists that show patients (app/referrals/referral-list.server.ts), against the real database
 * through db.tenant: a list gets the names it shows and, in the same transaction, the one
 * referral.list row naming every referral shown; it opens no more of a patient than it shows,
 * and a name that does not decrypt shows nothing and records nothing.
 */
import { randomUUID } from 'node:crypto'
import { eq, inArray } from 'drizzle-orm'
import { describe, expect, inject, test } from 'vitest'
import { recordAudit } from '../../app/audit/audit.server'
import { createPhiCipher, parseKeyRing, PhiDecryptError } from '../../app/crypto/phi.server'
import * as s from '../../app/db/schema'
import { createReferral } from '../../app/referrals/create-referral.server'
import { showReferralList } from '../../app/referrals/referral-list.server'
import type { TenantScope, TenantTx } from '../../app/tenancy/tenant.server'
import { fakeReferralValues } from '../factories/patients'
import { createRandom } from '../factories/random'
import { useTestDatabase } from '../support/db'

const db = useTestDatabase()
const secrets = inject('secrets')
const phi = createPhiCipher({ keyRing: parseKeyRing(secrets.phiKeyRing), blindIndexKey: secrets.phiBlindIndexKey })
const random = createRandom(Date.now() >>> 0)

async function lakeview() {
  const staff = await db.staffScopeOf('lakeview')
  const [referrer] = await db.owner.select().from(s.users).where(eq(s.users.email, 'referrer@lakeview.test'))
  const [form] = await db.owner.select().from(s.intakeForms).where(eq(s.intakeForms.clinicId, staff.clinicId!)).limit(1)
  const as: TenantScope = { clinicId: staff.clinicId, userId: referrer!.id, role: 'referrer' }
  const submit = async () => {
    const values = fakeReferralValues(random, {
      clinicSlug: 'lakeview',
      services: ['Physiotherapy assessment'],
      clinician: { name: 'Dr. Test', practice: 'Test practice' },
    })
    const created = await db.as(as).tenant((tx) =>
      createReferral(tx, phi, (t, e) => recordAudit(t, as, { requestId: randomUUID(), ip: null, userAgent: null }, e), {
        clinic: { id: staff.clinicId!, slug: 'lakeview' },
        submittedBy: referrer!.id,
        form: { version: form!.version, definition: form!.definition },
        values,
        idempotencyKey: randomUUID(),
      }),
    )
    return { id: created.id, values }
  }
  return { staff, submit }
}

/** A staff member's list of these referrals, recorded under its own request id. */
function list(staff: TenantScope, ids: string[], shows: 'name' | 'name-and-dob') {
  const requestId = randomUUID()
  const audit = (tx: TenantTx, event: Parameters<typeof recordAudit>[3]) => recordAudit(tx, staff, { requestId, ip: null, userAgent: null }, event)
  const shown = db.as(staff).tenant(async (tx) => {
    const rows = await tx
      .select({ id: s.referrals.id, clinicId: s.referrals.clinicId, formData: s.referrals.formData })
      .from(s.referrals)
      .where(inArray(s.referrals.id, ids))
    return showReferralList(tx, { phi, audit }, { rows, shows, kind: { search: false } }, (row, patient) => ({ id: row.id, ...patient }))
  })
  const recorded = async () => db.owner.select().from(s.auditLogs).where(eq(s.auditLogs.requestId, requestId))
  return { shown, recorded }
}

describe('a list of referrals', () => {
  test('shows the names and writes one referral.list row naming exactly the referrals shown', async () => {
    const { staff, submit } = await lakeview()
    const [one, two] = [await submit(), await submit()]
    const { shown, recorded } = list(staff, [one.id, two.id], 'name-and-dob')
    const items = await shown
    expect(items.sort((a, b) => a.id.localeCompare(b.id))).toEqual(
      [one, two]
        .map(({ id, values }) => ({ id, firstName: values.patient_first_name, lastName: values.patient_last_name, dob: values.patient_dob }))
        .sort((a, b) => a.id.localeCompare(b.id)),
    )
    const rows = await recorded()
    expect(rows).toHaveLength(1)
    expect(rows[0]).toMatchObject({ action: 'referral.list', entityType: 'referral', entityId: null, actorId: staff.userId, outcome: 'success' })
    expect((rows[0]!.details as { ids: string[] }).ids.sort()).toEqual([one.id, two.id].sort())
    expect(rows[0]!.details).toMatchObject({ search: false })
    // Ids only: no name, no date of birth in the row.
    expect(JSON.stringify(rows[0])).not.toContain(String(one.values.patient_last_name))
  })

  test('opens no more of a patient than it shows: a list of names leaves the date of birth sealed', async () => {
    const { staff, submit } = await lakeview()
    const one = await submit()
    const [item] = await list(staff, [one.id], 'name').shown
    expect(item).toEqual({ id: one.id, firstName: one.values.patient_first_name, lastName: one.values.patient_last_name, dob: null })
  })

  test('a name that does not decrypt (a ciphertext moved from another referral) shows nothing and records nothing', async () => {
    const { staff, submit } = await lakeview()
    const [one, two] = [await submit(), await submit()]
    const [other] = await db.owner.select({ formData: s.referrals.formData }).from(s.referrals).where(eq(s.referrals.id, two.id))
    const [mine] = await db.owner.select({ formData: s.referrals.formData }).from(s.referrals).where(eq(s.referrals.id, one.id))
    await db.owner
      .update(s.referrals)
      .set({ formData: { ...mine!.formData, patient_last_name: other!.formData.patient_last_name } })
      .where(eq(s.referrals.id, one.id))
    const { shown, recorded } = list(staff, [one.id, two.id], 'name')
    await expect(shown).rejects.toBeInstanceOf(PhiDecryptError)
    expect(await recorded()).toEqual([])
  })
})
