/**
 * The referrer's own work on the new-referral page: the health card format the form declares
 * (with and without JavaScript), the profile that fills the form, drafts kept on the server
 * (sealed, theirs alone, gone once sent) and templates that never keep the patient.
 */
import AxeBuilder from '@axe-core/playwright'
import { eq, sql } from 'drizzle-orm'
import type { Page } from '@playwright/test'
import { referralDrafts, referralTemplates } from '../../app/db/schema'
import { expect, fillReferral, referralValues, test, uniquePatient, userByEmail } from './fixtures'

const ME = 'referrer2@riverbend.test'
const COLLEAGUE = 'referrer@riverbend.test'
const WCAG = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa']

async function seriousViolations(page: Page) {
  const results = await new AxeBuilder({ page }).withTags(WCAG).analyze()
  return results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id}: ${v.nodes.map((n) => n.target).join(', ')}`)
}

const CARD_ERROR = 'enter the 10 digits of an Ontario health card'

test.describe('the health card number is checked against the form’s format', () => {
  test('without JavaScript: “12” is refused at the field, a real card number is sent', async ({ signedInAs }) => {
    const page = await signedInAs(ME, '/referrals/new', { javaScriptEnabled: false })
    const patient = uniquePatient()
    await fillReferral(page, { ...referralValues(patient), health_card_number: '12' })
    await page.getByRole('button', { name: 'Send referral' }).click()
    const card = page.locator('[name=health_card_number]')
    await expect(card).toHaveAttribute('aria-invalid', 'true')
    const described = ((await card.getAttribute('aria-describedby')) ?? '').split(' ').filter(Boolean)
    await expect(page.locator(described.map((id) => `[id="${id}"]`).join(',')).filter({ hasText: CARD_ERROR })).toHaveCount(1)
    await expect(page).toHaveURL('/referrals/new')

    await card.fill(patient.card)
    await page.locator('input[name=consent]').check()
    await page.getByRole('button', { name: 'Send referral' }).click()
    await expect(page).toHaveURL(/\/my-referrals\?submitted=RIV-/)
  })

  test('with JavaScript: the error shows when the field is left, and nothing is posted', async ({ signedInAs }) => {
    const page = await signedInAs(ME, '/referrals/new')
    const posts: string[] = []
    page.on('request', (r) => void (r.method() === 'POST' && posts.push(r.url())))
    const card = page.locator('[name=health_card_number]')
    await card.fill('12')
    await card.blur()
    await expect(card).toHaveAttribute('aria-invalid', 'true')
    await expect(page.getByRole('group', { name: 'Patient' }).getByText(CARD_ERROR)).toBeVisible()
    await card.fill('1234 567 890 ab')
    await expect(card).not.toHaveAttribute('aria-invalid', 'true')
    expect(posts).toEqual([])
  })
})

test('the profile fills the referring clinician’s fields of a new referral', async ({ signedInAs }) => {
  const page = await signedInAs(ME, '/profile', { javaScriptEnabled: false })
  await page.getByLabel('Your name, as on a referral').fill('Dr. Imani Profile')
  await page.getByLabel('Practice').fill('Riverside Family Practice')
  await page.getByLabel('Phone').fill('(613) 555-0117')
  await page.getByLabel('Billing number').fill('998877')
  await page.getByRole('button', { name: 'Save profile' }).click()
  await expect(page.getByRole('status')).toHaveText('Saved.')

  await page.getByLabel('Phone').fill('not a phone')
  await page.getByRole('button', { name: 'Save profile' }).click()
  await expect(page.getByLabel('Phone')).toHaveAttribute('aria-invalid', 'true')
  await expect(page.getByRole('status').filter({ hasText: 'Saved.' })).toHaveCount(0)

  await page.goto('/referrals/new')
  await expect(page.locator('[name=clinician_name]')).toHaveValue('Dr. Imani Profile')
  await expect(page.locator('[name=clinician_practice]')).toHaveValue('Riverside Family Practice')
  await expect(page.locator('[name=clinician_phone]')).toHaveValue('(613) 555-0117')
  await expect(page.locator('[name=clinician_billing_number]')).toHaveValue('998877')
  await expect(page.locator('[name=patient_last_name]')).toHaveValue('')
})

test('the profile page passes axe, empty or with a field error', async ({ signedInAs }) => {
  // axe runs in the page: with JavaScript on.
  const page = await signedInAs(ME, '/profile')
  expect(await seriousViolations(page)).toEqual([])
  await page.getByLabel('Fax').fill('x')
  await page.getByRole('button', { name: 'Save profile' }).click()
  await expect(page.getByLabel('Fax')).toHaveAttribute('aria-invalid', 'true')
  expect(await seriousViolations(page)).toEqual([])
})

test('a draft is kept on the server, sealed, for its referrer only, and goes when the referral is sent', async ({ signedInAs, owner }) => {
  const me = await userByEmail(owner, ME)
  const page = await signedInAs(ME, '/referrals/new')
  await page.waitForLoadState('networkidle')
  const patient = uniquePatient()
  // Unfinished (no reason, no consent): a draft is not checked.
  await page.locator('[name=patient_first_name]').fill(patient.first)
  await page.locator('[name=patient_last_name]').fill(patient.last)
  await page.locator('[name=health_card_number]').fill(patient.card)
  await page.getByRole('button', { name: 'Save draft', exact: true }).click()
  await expect(page).toHaveURL(/\/referrals\/new\?draft=[0-9a-f-]{36}&done=draft-saved/)
  const draftId = new URL(page.url()).searchParams.get('draft')!
  await expect(page.getByRole('status').filter({ hasText: 'Draft saved' })).toBeVisible()
  await expect(page.getByTestId('drafts')).toContainText(`${patient.first} ${patient.last}`)
  await expect(page.locator('[name=patient_last_name]')).toHaveValue(patient.last)
  expect(await seriousViolations(page)).toEqual([])

  // At rest: one sealed value, none of what was typed.
  const [row] = (await owner.execute(sql`select to_jsonb(d)::text as text, user_id from referral_drafts d where id = ${draftId}`)).rows as {
    text: string
    user_id: string
  }[]
  expect(row!.user_id).toBe(me.id)
  for (const typed of [patient.first, patient.last, patient.card, patient.card.replace(/-/g, '')]) expect(row!.text).not.toContain(typed)

  // Another referrer of the same clinic: not in their list, and the link does not open it.
  const colleague = await signedInAs(COLLEAGUE, '/referrals/new')
  await expect(colleague.getByText(`${patient.first} ${patient.last}`)).toHaveCount(0)
  const theirs = await colleague.goto(`/referrals/new?draft=${draftId}`)
  expect(theirs?.status()).toBe(404)
  await expect(colleague.locator('[name=patient_last_name]')).toHaveCount(0)
  // Nor can they discard it.
  const discard = await colleague.request.post('/referrals/new?intent=discard-draft', {
    form: { id: draftId },
    headers: { Origin: new URL(colleague.url()).origin },
  })
  expect(discard.status()).toBe(404)
  expect(await owner.select().from(referralDrafts).where(eq(referralDrafts.id, draftId))).toHaveLength(1)

  // Finished and sent: the draft goes with it.
  await fillReferral(page, referralValues(patient))
  await page.getByRole('button', { name: 'Send referral' }).click()
  await expect(page).toHaveURL(/\/my-referrals\?submitted=RIV-/)
  expect(await owner.select().from(referralDrafts).where(eq(referralDrafts.id, draftId))).toHaveLength(0)
})

test('“Save as template” keeps the non-patient fields only, and starts a new referral from them', async ({ signedInAs, owner }) => {
  const page = await signedInAs(ME, '/referrals/new', { javaScriptEnabled: false })
  const patient = uniquePatient()
  await fillReferral(page, referralValues(patient), { urgency: 'urgent' })
  const name = `Urgent sleep study ${Date.now()}`
  await page.getByRole('button', { name: 'Save as template' }).click()
  // Without a name: said at the field, and what was typed is still there.
  await expect(page.getByLabel(/Template name/)).toHaveAttribute('aria-invalid', 'true')
  await expect(page.locator('[name=patient_last_name]')).toHaveValue(patient.last)
  await page.getByLabel(/Template name/).fill(name)
  await page.getByRole('button', { name: 'Save as template' }).click()
  await expect(page.getByRole('status').filter({ hasText: `Template “${name}” saved` })).toBeVisible()
  await expect(page.locator('[name=patient_last_name]')).toHaveValue(patient.last)

  const [stored] = await owner.select().from(referralTemplates).where(eq(referralTemplates.name, name))
  expect(stored!.values).toMatchObject({ urgency: 'urgent', clinician_name: 'Dr. Amara Okafor' })
  const text = JSON.stringify(stored)
  for (const typed of [patient.first, patient.last, patient.card, patient.dob, 'Ramipril', 'knee pain']) expect(text).not.toContain(typed)
  expect(Object.keys(stored!.values)).not.toContain('consent')

  await page.goto('/referrals/new')
  await page.getByRole('link', { name: `Use the template ${name}` }).click()
  await expect(page.locator('select[name=urgency]')).toHaveValue('urgent')
  await expect(page.locator('[name=clinician_name]')).toHaveValue('Dr. Amara Okafor')
  await expect(page.locator('[name=patient_last_name]')).toHaveValue('')
  await expect(page.locator('input[name=consent]')).not.toBeChecked()

  // Another referrer cannot use it.
  const colleague = await signedInAs(COLLEAGUE, `/referrals/new?template=${stored!.id}`)
  await expect(colleague.getByRole('heading', { name: 'Not found' })).toBeVisible()
  await expect(colleague.locator('[name=clinician_name]')).toHaveCount(0)
})
