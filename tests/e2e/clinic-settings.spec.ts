/**
 * The clinic settings page and its time zone: an admin chooses the zone every page shows times
 * in, the change is audited, a forged or unknown zone changes nothing, and only admins get in.
 * Northside's admin does the work; the zone is put back to the default at the end of each test,
 * since every page of the clinic shows its times in it.
 */
import AxeBuilder from '@axe-core/playwright'
import { and, desc, eq, sql } from 'drizzle-orm'
import { auditLogs, clinics } from '../../app/db/schema'
import { expect, SAME_ORIGIN, test, type Owner } from './fixtures'

const ADMIN = 'admin@northside.test'

const northside = async (owner: Owner) => (await owner.select().from(clinics).where(eq(clinics.slug, 'northside')))[0]!
const resetZone = (owner: Owner) => owner.execute(sql`update clinics set settings = settings - 'timeZone' where slug = 'northside'`)

test('an admin sets the clinic time zone without JavaScript, sees the zone named, and the change is audited', async ({ signedInAs, owner }) => {
  try {
    const page = await signedInAs(ADMIN, '/', { javaScriptEnabled: false })
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Clinic settings' }).click()
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('Clinic settings')
    const zone = page.getByLabel('Clinic time zone')
    // Unset: Toronto, in December Eastern Standard Time.
    await expect(zone).toHaveValue('America/Toronto')
    await expect(page.getByTestId('time-zone-now')).toHaveText(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2} E[SD]T$/)

    await zone.selectOption('America/Vancouver')
    await page.getByRole('button', { name: 'Save time zone' }).click()
    await expect(page.getByRole('status')).toHaveText('Saved.')
    await expect(zone).toHaveValue('America/Vancouver')
    await expect(page.getByTestId('time-zone-now')).toHaveText(/ P[SD]T$/)
    expect((await northside(owner)).settings.timeZone).toBe('America/Vancouver')
    const [row] = await owner
      .select()
      .from(auditLogs)
      .where(and(eq(auditLogs.clinicId, (await northside(owner)).id), eq(auditLogs.action, 'clinic.settings')))
      .orderBy(desc(auditLogs.seq))
      .limit(1)
    expect(row?.details).toEqual({ section: 'time-zone', timeZone: 'America/Vancouver' })
    expect(row?.outcome).toBe('success')

    // Reloading the saved page does not post again, and the other settings stay as they were.
    expect((await northside(owner)).settings.turnaroundHours).toEqual({ emergent: 24, urgent: 72, routine: 336 })
  } finally {
    await resetZone(owner)
  }
})

test('with JavaScript an unknown zone is refused at the field; a forged one changes nothing', async ({ signedInAs, owner }) => {
  try {
    const page = await signedInAs(ADMIN, '/admin/clinic')
    const results = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa']).analyze()
    expect(results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => v.id)).toEqual([])

    const before = await northside(owner)
    for (const timeZone of ['Mars/Olympus', 'America/Toronto\u0000', '../../etc/passwd', 'x'.repeat(5000), '']) {
      const response = await page.request.post('/admin/clinic', { form: { intent: 'time-zone', timeZone }, headers: SAME_ORIGIN })
      expect(response.status(), timeZone.slice(0, 20)).toBe(400)
      expect(await response.text()).toMatch(/Choose a time zone|cannot be stored|sent with/)
    }
    for (const form of [{ intent: 'nothing', timeZone: 'UTC' }, { timeZone: 'UTC' }, { intent: 'time-zone', timeZone: 'UTC', extra: '1' }] as Record<
      string,
      string
    >[]) {
      expect((await page.request.post('/admin/clinic', { form, headers: SAME_ORIGIN })).status()).toBe(400)
    }
    expect((await northside(owner)).settings).toEqual(before.settings)

    // The page shows the refusal at the field when the browser knows no better (a zone the list does not offer).
    await page.getByLabel('Clinic time zone').evaluate((element) => {
      element.insertAdjacentHTML('beforeend', '<option value="Mars/Olympus">Mars</option>')
      ;(element as unknown as { value: string }).value = 'Mars/Olympus'
    })
    await page.getByRole('button', { name: 'Save time zone' }).click()
    await expect(page.getByText('Choose a time zone from the list')).toBeVisible()
    await expect(page.getByLabel('Clinic time zone')).toHaveAttribute('aria-invalid', 'true')
    expect((await northside(owner)).settings).toEqual(before.settings)

    await page.getByLabel('Clinic time zone').selectOption('America/Halifax')
    await page.getByRole('button', { name: 'Save time zone' }).click()
    await expect(page.getByRole('status')).toHaveText('Saved.')
    await expect(page.getByText('Choose a time zone from the list')).toHaveCount(0)
    await expect(page.getByTestId('time-zone-now')).toHaveText(/ A[SD]T$/)
  } finally {
    await resetZone(owner)
  }
})

test('staff and referrers may not see or change the clinic settings', async ({ signedInAs, owner }) => {
  const before = await northside(owner)
  for (const who of ['staff@northside.test', 'referrer@northside.test']) {
    const page = await signedInAs(who)
    await expect(page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Clinic settings' })).toHaveCount(0)
    expect((await page.request.get('/admin/clinic')).status(), who).toBe(403)
    expect((await page.request.post('/admin/clinic', { form: { intent: 'time-zone', timeZone: 'UTC' }, headers: SAME_ORIGIN })).status(), who).toBe(403)
  }
  expect((await northside(owner)).settings).toEqual(before.settings)
})
