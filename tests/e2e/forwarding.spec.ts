/**
 * Forwarding a referral to another clinic (docs/decisions/032-forwarding-between-clinics.md), as
 * people do it: Lakeview's admin accepts forwards, Northside's staff forward a referral with a
 * reason, the referrer sees where it went, Lakeview works the new one; and from the outside, what
 * each clinic cannot see or do. Lakeview's setting is put back at the end of each test.
 */
import AxeBuilder from '@axe-core/playwright'
import type { Page } from '@playwright/test'
import { and, count, desc, eq, sql } from 'drizzle-orm'
import { auditLogs, clinics, referralDocuments, referrals } from '../../app/db/schema'
import { clinicBySlug, expect, go, referralByReference, SAME_ORIGIN, submitReferral, test, uniquePatient, type Owner } from './fixtures'

// Both tests set Lakeview's "accepts forwards": they run one after the other, never side by side.
test.describe.configure({ mode: 'default' })

const STAFF = 'staff@northside.test'
const REFERRER = 'referrer@northside.test'

const setAccepts = (owner: Owner, slug: string, accepts: boolean | null) =>
  accepts === null
    ? owner.execute(sql`update clinics set settings = settings - 'acceptsForwards' where slug = ${slug}`)
    : owner.execute(sql`update clinics set settings = settings || jsonb_build_object('acceptsForwards', ${accepts}::boolean) where slug = ${slug}`)

async function expectNoSeriousAxe(page: Page) {
  const results = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa']).analyze()
  expect(results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => v.id)).toEqual([])
}

const verified = async (owner: Owner, clinicId: string) =>
  (await owner.execute<{ ok: boolean }>(sql`select * from audit_verify(${clinicId}::uuid)`)).rows[0]!.ok

test('without JavaScript: an admin accepts forwards, staff forward a referral with a reason, the referrer sees where it went, the other clinic works it', async ({
  signedInAs,
  owner,
}) => {
  test.slow()
  try {
    await setAccepts(owner, 'lakeview', null)
    // Lakeview's admin says the clinic accepts forwarded referrals.
    const admin = await signedInAs('admin@lakeview.test', '/admin/clinic', { javaScriptEnabled: false })
    await admin.getByLabel('Accept referrals forwarded from other clinics').check()
    await admin.getByRole('region', { name: 'Forwarded referrals' }).getByRole('button', { name: 'Save' }).click()
    await expect(admin.getByRole('region', { name: 'Forwarded referrals' }).getByRole('status')).toHaveText('Saved.')
    await expect(admin.getByLabel('Accept referrals forwarded from other clinics')).toBeChecked()
    const lakeview = await clinicBySlug(owner, 'lakeview')
    expect(lakeview.settings.acceptsForwards).toBe(true)
    const [setting] = await owner
      .select()
      .from(auditLogs)
      .where(and(eq(auditLogs.clinicId, lakeview.id), eq(auditLogs.action, 'clinic.settings')))
      .orderBy(desc(auditLogs.seq))
      .limit(1)
    expect(setting?.details).toEqual({ section: 'forwards', acceptsForwards: true })

    // Northside's referrer sends a referral.
    const referrer = await signedInAs(REFERRER, '/')
    const patient = uniquePatient()
    const reference = await submitReferral(referrer, patient)
    const original = await referralByReference(owner, reference)

    // Northside's staff forward it, first forgetting everything: the errors are at the fields.
    const staff = await signedInAs(STAFF, `/referrals/${original.id}`, { javaScriptEnabled: false })
    await staff.getByRole('link', { name: 'Forward to another clinic' }).click()
    await expect(staff.getByRole('heading', { level: 1 })).toHaveText('Forward to another clinic')
    const clinic = staff.getByLabel('Clinic')
    await expect(clinic.locator('option')).toHaveText(['Choose a clinic', 'Lakeview Orthopaedics'])
    await staff.getByRole('button', { name: 'Forward referral' }).click()
    await expect(staff.getByRole('alert').getByText('Choose the clinic to forward it to')).toBeVisible()
    await expect(clinic).toHaveAttribute('aria-invalid', 'true')
    await expect(staff.getByLabel('Reason')).toHaveAttribute('aria-invalid', 'true')
    await expect(staff.getByRole('alert').getByText('Give a reason: the referrer and the receiving clinic see it')).toBeVisible()
    expect((await referralByReference(owner, reference)).status).toBe('received')

    await clinic.selectOption({ label: 'Lakeview Orthopaedics' })
    await staff.getByLabel('Reason').fill('Lakeview runs the knee clinic this patient needs')
    await staff.getByRole('button', { name: 'Forward referral' }).click()
    const done = staff.getByTestId('forward-done')
    await expect(done).toContainText('Forwarded to Lakeview Orthopaedics.')
    const theirs = (await done.locator('.font-mono').textContent())!
    expect(theirs).toMatch(/^LAK-[0-9A-Z]{7}$/)

    // The sender's record: closed as Forwarded, saying where; no second forward.
    await staff.getByRole('link', { name: 'Back to the referral' }).click()
    await expect(staff.getByTestId('forwarded-to')).toContainText(`Forwarded to Lakeview Orthopaedics`)
    await expect(staff.getByTestId('forwarded-to')).toContainText(theirs)
    // When, in the clinic's time zone, named (Toronto by default).
    await expect(staff.getByTestId('forwarded-to')).toContainText(/ on \d{4}-\d{2}-\d{2} \d{2}:\d{2} E[SD]T\./)
    await expect(staff.getByText('Forwarded', { exact: true }).first()).toBeVisible()
    await expect(staff.getByRole('link', { name: 'Forward to another clinic' })).toHaveCount(0)
    expect((await referralByReference(owner, reference)).status).toBe('forwarded')

    // The referrer sees where it went, in the list and on the referral.
    await go(referrer, '/my-referrals')
    const row = referrer.getByRole('listitem').filter({ hasText: reference })
    await expect(row.getByTestId('forwarded-to')).toHaveText(`to Lakeview Orthopaedics (their reference ${theirs})`)
    await go(referrer, `/referrals/${original.id}`)
    await expect(referrer.getByTestId('forwarded-to')).toContainText(theirs)
    await expect(referrer.getByText('Lakeview runs the knee clinic this patient needs')).toBeVisible()

    // Lakeview's staff find it in their queue and open it: the patient, where it came from, the reason.
    const received = await referralByReference(owner, theirs)
    const lakeStaff = await signedInAs('staff@lakeview.test', `/referrals/${received.id}`, { javaScriptEnabled: false })
    await expect(lakeStaff.getByRole('heading', { level: 1 })).toHaveText(`${patient.first} ${patient.last}`)
    await expect(lakeStaff.getByTestId('forwarded-from')).toContainText('Northside Physiotherapy')
    await expect(lakeStaff.getByText('Lakeview runs the knee clinic this patient needs')).toBeVisible()
    await expect(lakeStaff.getByText('Referral received, forwarded from another clinic')).toBeVisible()

    // Neither clinic opens the other's: both answer 404, as for any referral that is not theirs.
    expect((await staff.request.get(`/referrals/${received.id}`, { maxRedirects: 0 })).status()).toBe(404)
    expect((await lakeStaff.request.get(`/referrals/${original.id}`, { maxRedirects: 0 })).status()).toBe(404)
    expect((await lakeStaff.request.get(`/referrals/${original.id}/forward`, { maxRedirects: 0 })).status()).toBe(404)

    // Both trails record the hand-off, and both chains verify.
    const northside = await clinicBySlug(owner, 'northside')
    const sent = await owner
      .select()
      .from(auditLogs)
      .where(and(eq(auditLogs.action, 'referral.forward'), eq(auditLogs.entityId, original.id)))
    // Northside's hand-off; Lakeview's try at the original's forward page, refused in its own chain.
    const byClinic = (rows: (string | null)[][]) => rows.sort((a, b) => a.join().localeCompare(b.join()))
    expect(byClinic(sent.map((r) => [r.clinicId, r.outcome]))).toEqual(
      byClinic([
        [northside.id, 'success'],
        [lakeview.id, 'denied'],
      ]),
    )
    const came = await owner
      .select()
      .from(auditLogs)
      .where(and(eq(auditLogs.action, 'referral.receive'), eq(auditLogs.entityId, received.id)))
    expect(came.map((r) => r.clinicId)).toEqual([lakeview.id])
    expect(await verified(owner, northside.id)).toBe(true)
    expect(await verified(owner, lakeview.id)).toBe(true)
  } finally {
    await setAccepts(owner, 'lakeview', null)
  }
})

test('with JavaScript: a clinic that does not accept forwards, a forged clinic id, a referrer, bad input: refused, nothing changes; the pages pass axe', async ({
  signedInAs,
  owner,
}) => {
  test.slow()
  try {
    await setAccepts(owner, 'lakeview', true)
    await setAccepts(owner, 'riverbend', false)
    const referrer = await signedInAs(REFERRER, '/')
    const reference = await submitReferral(referrer, uniquePatient())
    const original = await referralByReference(owner, reference)
    const riverbend = await clinicBySlug(owner, 'riverbend')
    const northside = await clinicBySlug(owner, 'northside')
    const staff = await signedInAs(STAFF, `/referrals/${original.id}`)
    await expectNoSeriousAxe(staff)
    await staff.getByRole('link', { name: 'Forward to another clinic' }).click()
    await expect(staff.getByLabel('Clinic')).toBeVisible()
    await expectNoSeriousAxe(staff)
    // The errors with JavaScript too, and axe with them shown.
    await staff.getByRole('button', { name: 'Forward referral' }).click()
    await expect(staff.getByRole('alert').getByText('Choose the clinic to forward it to')).toBeVisible()
    await expectNoSeriousAxe(staff)

    // Other tests add referrals to every clinic meanwhile: what counts is that none came from a forward.
    const forwardedFromNorthside = async () =>
      (await owner.select({ n: count() }).from(referrals).where(eq(referrals.forwardedFromClinicId, northside.id)))[0]!.n
    const before = await forwardedFromNorthside()
    const post = (page: Page, form: Record<string, string>) => page.request.post(`/referrals/${original.id}/forward`, { form, headers: SAME_ORIGIN })
    for (const toClinic of [riverbend.id, northside.id, crypto.randomUUID()]) {
      const refused = await post(staff, { toClinic, reason: 'Somewhere else', version: String(original.version) })
      expect(refused.status()).toBe(400)
      expect(await refused.text()).toContain('That clinic does not accept forwarded referrals. Choose another.')
    }
    for (const form of [
      { toClinic: 'lakeview', reason: 'x', version: '1' },
      { toClinic: riverbend.id, reason: '', version: '1' },
      { toClinic: riverbend.id, reason: 'x'.repeat(2001), version: '1' },
      { toClinic: riverbend.id, reason: 'x', version: 'one' },
      { toClinic: riverbend.id, reason: 'x\u0000', version: '1' },
    ]) {
      expect((await post(staff, form)).status(), JSON.stringify(form).slice(0, 60)).toBe(400)
    }
    // A stale version: the page is told someone else changed it.
    const lakeview = await clinicBySlug(owner, 'lakeview')
    const stale = await post(staff, { toClinic: lakeview.id, reason: 'x', version: String(original.version + 5) })
    expect(stale.status()).toBe(409)
    // The referrer may not forward their own referral.
    expect((await post(referrer, { toClinic: lakeview.id, reason: 'x', version: String(original.version) })).status()).toBe(403)
    expect((await referrer.request.get(`/referrals/${original.id}/forward`, { maxRedirects: 0 })).status()).toBe(403)

    expect(await referralByReference(owner, reference)).toMatchObject({ status: 'received', version: original.version, forwardedToClinicId: null })
    expect(await forwardedFromNorthside()).toBe(before)

    // When no clinic accepts, the page says so and offers no form.
    await setAccepts(owner, 'lakeview', false)
    await go(staff, `/referrals/${original.id}/forward`)
    await expect(staff.getByTestId('no-targets')).toHaveText(
      /^No other clinic accepts forwarded referrals yet\. A clinic’s admin turns it on for their clinic, under Clinic settings/,
    )
    await expect(staff.getByRole('button', { name: 'Forward referral' })).toHaveCount(0)
    await expectNoSeriousAxe(staff)

    // Staff attach a letter of three chunks; it goes with the forward (decision 039).
    const letter = Buffer.from('Consult letter: knee, left, six months.\n'.repeat(16_000))
    const attached = await staff.request.post(`/referrals/${original.id}/documents`, {
      headers: SAME_ORIGIN,
      multipart: { documents: { name: 'consult letter.txt', mimeType: 'text/plain', buffer: letter } },
    })
    expect(attached.status()).toBe(200)
    const [sentDoc] = await owner.select().from(referralDocuments).where(eq(referralDocuments.referralId, original.id))
    expect(sentDoc).toMatchObject({ sizeBytes: letter.byteLength, chunkCount: 3 })

    // With JavaScript the forward goes through as well, and the done panel passes axe.
    await setAccepts(owner, 'lakeview', true)
    await go(staff, `/referrals/${original.id}/forward`)
    await expect(staff.getByText('Its documents go with it, and stay here too.')).toBeVisible()
    await staff.getByLabel('Clinic').selectOption({ label: 'Lakeview Orthopaedics' })
    await staff.getByLabel('Reason').fill('Closer to home')
    await staff.getByRole('button', { name: 'Forward referral' }).click()
    await expect(staff.getByTestId('forward-done')).toContainText('Forwarded to Lakeview Orthopaedics.')
    await expectNoSeriousAxe(staff)

    // Lakeview's staff see the letter on their referral and download the same bytes, out of R2
    // re-sealed for them; Northside cannot reach the copy, nor Lakeview the original.
    const received = await referralByReference(owner, (await staff.getByTestId('forward-done').locator('.font-mono').textContent())!)
    const [copy] = await owner.select().from(referralDocuments).where(eq(referralDocuments.referralId, received.id))
    expect(copy).toMatchObject({ clinicId: lakeview.id, attachedWith: 'forward', uploadedBy: null, sha256: sentDoc!.sha256 })
    const lakeStaff = await signedInAs('staff@lakeview.test', `/referrals/${received.id}`)
    await expect(lakeStaff.getByTestId('document')).toContainText('consult letter.txt')
    await expect(lakeStaff.getByTestId('document')).toContainText('by the clinic that forwarded it')
    const download = await lakeStaff.request.get(`/referrals/${received.id}/documents/${copy!.id}/content?download=1`)
    expect(download.status()).toBe(200)
    expect(Buffer.from(await download.body()).equals(letter)).toBe(true)
    expect((await staff.request.get(`/referrals/${received.id}/documents/${copy!.id}/content`)).status()).toBe(404)
    expect((await lakeStaff.request.get(`/referrals/${original.id}/documents/${sentDoc!.id}/content`)).status()).toBe(404)
    // The sender keeps its own.
    const kept = await staff.request.get(`/referrals/${original.id}/documents/${sentDoc!.id}/content?download=1`)
    expect(Buffer.from(await kept.body()).equals(letter)).toBe(true)
    const [after] = await owner.select().from(clinics).where(eq(clinics.id, lakeview.id))
    expect(after!.settings.acceptsForwards).toBe(true)
  } finally {
    await setAccepts(owner, 'lakeview', null)
    await setAccepts(owner, 'riverbend', null)
  }
})
