/**
 * PHI retention from the outside (docs/decisions/049-retention-purge.md): an admin sets the period
 * on the clinic settings page (field errors for what cannot be one, audited), and a referral the
 * owner's purge job has purged says so on its page, to staff and to its referrer, with no
 * patient detail left on it. Riverbend's setting is put back at the end of each test.
 */
import AxeBuilder from '@axe-core/playwright'
import { and, desc, eq, sql } from 'drizzle-orm'
import { auditLogs, referrals } from '../../app/db/schema'
import { purgeExpiredPhi } from '../../scripts/lib/phi-purge'
import { clinicBySlug, expect, go, referralByReference, submitReferral, test, uniquePatient, type Owner } from './fixtures'

const DAY = 86_400_000
const reset = (owner: Owner) => owner.execute(sql`update clinics set settings = settings - 'phiRetentionDays' where slug = 'riverbend'`)

test('an admin sets the retention period without JavaScript; a period too short is refused at its field; the change is audited', async ({
  signedInAs,
  owner,
}) => {
  try {
    const page = await signedInAs('admin@riverbend.test', '/admin/clinic', { javaScriptEnabled: false })
    const section = page.getByRole('region', { name: 'Patient information retention' })
    await expect(section).toContainText('Patient information is kept: no retention period is set.')
    const days = section.getByLabel('Purge patient information after (days)')
    await days.fill('30')
    await section.getByRole('button', { name: 'Save retention' }).click()
    await expect(page.getByRole('region', { name: 'Patient information retention' })).toContainText('At least 90 days: a purge cannot be undone')
    expect((await clinicBySlug(owner, 'riverbend')).settings.phiRetentionDays).toBeUndefined()

    await page.getByLabel('Purge patient information after (days)').fill('365')
    await page.getByRole('button', { name: 'Save retention' }).click()
    await expect(page.getByRole('region', { name: 'Patient information retention' }).getByRole('status')).toHaveText('Saved.')
    await expect(page.getByRole('region', { name: 'Patient information retention' })).toContainText('purged 365 days after a referral is closed')
    const clinic = await clinicBySlug(owner, 'riverbend')
    expect(clinic.settings.phiRetentionDays).toBe(365)
    const [row] = await owner
      .select()
      .from(auditLogs)
      .where(and(eq(auditLogs.clinicId, clinic.id), eq(auditLogs.action, 'clinic.settings')))
      .orderBy(desc(auditLogs.seq))
      .limit(1)
    expect(row?.details).toEqual({ section: 'retention', phiRetentionDays: 365 })

    // Emptied: kept again.
    await page.getByLabel('Purge patient information after (days)').fill('')
    await page.getByRole('button', { name: 'Save retention' }).click()
    await expect(page.getByRole('region', { name: 'Patient information retention' })).toContainText('no retention period is set')
    expect((await clinicBySlug(owner, 'riverbend')).settings.phiRetentionDays).toBeNull()
  } finally {
    await reset(owner)
  }
})

test('a purged referral says so on its page, to staff and to its referrer, and shows no patient detail', async ({ signedInAs, owner }) => {
  const patient = uniquePatient()
  const referrer = await signedInAs('referrer@riverbend.test', '/my-referrals')
  const reference = await submitReferral(referrer, patient)
  const referral = await referralByReference(owner, reference)
  const clinic = await clinicBySlug(owner, 'riverbend')
  try {
    // The longest period there is, and a referral that ended longer ago than that: nothing else of the clinic is due.
    await owner.execute(sql`update clinics set settings = settings || '{"phiRetentionDays": 36500}'::jsonb where id = ${clinic.id}::uuid`)
    await owner
      .update(referrals)
      .set({ status: 'closed', closedAt: new Date(Date.now() - 36_501 * DAY) })
      .where(eq(referrals.id, referral.id))
    const noDocuments = { delete: async (keys: string | string[]) => expect([keys].flat()).toEqual([]) }
    const [report] = await purgeExpiredPhi({ db: owner, bucket: noDocuments }, { apply: true, clinicId: clinic.id })
    expect(report!.referrals).toBe(1)

    for (const page of [await signedInAs('staff@riverbend.test', `/referrals/${referral.id}`), referrer]) {
      if (page === referrer) await go(page, `/referrals/${referral.id}`)
      await expect(page.getByTestId('purged')).toContainText('Patient information purged')
      await expect(page.getByRole('heading', { level: 1 })).toHaveText('Referral')
      await expect(page.getByText(reference, { exact: false }).first()).toBeVisible()
      const text = await page.locator('main').innerText()
      for (const detail of [patient.first, patient.last, patient.card]) expect(text).not.toContain(detail)
      const axe = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa']).analyze()
      expect(axe.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')).toEqual([])
    }
  } finally {
    await reset(owner)
  }
})
