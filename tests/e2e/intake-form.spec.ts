import type { Page } from '@playwright/test'
import { and, asc, desc, eq } from 'drizzle-orm'
import { auditLogs, clinics, intakeForms, users } from '../../app/db/schema'
import { toEditorValue } from '../../app/intake/definition-schema'
import { expect, SAME_ORIGIN, test, type Owner } from './fixtures'

/*
 * Riverbend's form must stay version 1 (other tests rely on it): only the refusal test runs
 * there. Fields added to Northside's and Lakeview's forms are optional, and none is removed,
 * so later referrals with the default fields still go through.
 */
async function forms(owner: Owner, slug: string) {
  const [clinic] = await owner.select().from(clinics).where(eq(clinics.slug, slug))
  return owner.select().from(intakeForms).where(eq(intakeForms.clinicId, clinic!.id)).orderBy(asc(intakeForms.version))
}
const latest = async (owner: Owner, slug: string) => (await forms(owner, slug)).at(-1)!

const section = (page: Page, title: string) => page.getByRole('region', { name: `Section: ${title}`, exact: true })
const field = (page: Page, name: string) => page.getByRole('group', { name, exact: true })

// Both publish Northside's form: one after the other, so each knows which version comes next.
test.describe('Northside', () => {
  test.describe.configure({ mode: 'default' })

  test('with JavaScript, an admin relabels, adds and moves fields in the browser, then publishes a new version', async ({ signedInAs, owner }) => {
    const before = await latest(owner, 'northside')
    const page = await signedInAs('admin@northside.test', '/admin/intake-form')
    await expect(page).toHaveURL('/admin/intake-form')
    await expect(page.getByTestId('form-version')).toContainText(`Version ${before.version}, published`)
    // The three duplicate-detection fields are marked, and cannot be removed.
    await expect(field(page, 'Date of birth').getByText('Used for duplicate detection')).toBeVisible()
    await expect(field(page, 'Date of birth').getByRole('button', { name: /Remove/ })).toHaveCount(0)
    await expect(field(page, 'Date of birth').getByLabel('Key', { exact: true })).toHaveAttribute('readonly', '')

    // Editing happens in the browser once the page's script runs (before that, the buttons post, as without JavaScript).
    await page.waitForLoadState('networkidle')
    // Editing happens in the browser: nothing is posted until Publish.
    const posts: string[] = []
    page.on('request', (r) => void (r.method() === 'POST' && posts.push(r.url())))

    await field(page, 'Current medications').getByLabel('Label', { exact: true }).fill('Current medications and doses')
    const referral = section(page, 'Referral')
    await referral.getByRole('button', { name: 'Add a field to Referral', exact: true }).click()
    const added = field(page, 'New field')
    await expect(added.getByLabel('PHI')).toBeChecked()
    await added.getByLabel('Label', { exact: true }).fill('Referral source')
    const source = field(page, 'Referral source')
    await source.getByLabel('Key', { exact: true }).fill('referral_source')
    await source.getByLabel('Type', { exact: true }).selectOption('select')
    await source.getByLabel('Options').fill('Family doctor\nWalk-in clinic\nSpecialist')
    await source.getByLabel('PHI').uncheck()
    await expect(referral.locator('legend')).toHaveText([
      'Reason for referral',
      'Urgency',
      'Requested service',
      'Relevant history',
      'Current medications and doses',
      'Allergies',
      'Referral source',
    ])
    await source.getByRole('button', { name: 'Move Referral source up' }).click()
    await expect(referral.locator('legend')).toHaveText([
      'Reason for referral',
      'Urgency',
      'Requested service',
      'Relevant history',
      'Current medications and doses',
      'Referral source',
      'Allergies',
    ])
    expect(posts).toEqual([])

    const next = before.version + 1
    await page.getByRole('button', { name: `Publish version ${next}` }).click()
    await expect(page).toHaveURL(`/admin/intake-form?published=${next}`)
    await expect(page.getByRole('status')).toHaveText(`Published version ${next}`)
    await expect(page.getByTestId('form-version')).toContainText(`Version ${next}, published`)
    await expect(field(page, 'Referral source').getByLabel('Options')).toHaveValue('Family doctor\nWalk-in clinic\nSpecialist')

    const published = await latest(owner, 'northside')
    const [admin] = await owner.select().from(users).where(eq(users.email, 'admin@northside.test'))
    expect(published).toMatchObject({ version: next, createdBy: admin!.id })
    expect(published.publishedAt).not.toBeNull()
    const fields = published.definition.sections.find((s) => s.title === 'Referral')!.fields
    expect(fields.map((f) => f.key)).toEqual(['reason', 'urgency', 'requested_service', 'history', 'medications', 'referral_source', 'allergies'])
    expect(fields[4]).toMatchObject({ label: 'Current medications and doses', phi: true })
    expect(fields[5]).toEqual({
      key: 'referral_source',
      label: 'Referral source',
      type: 'select',
      required: false,
      phi: false,
      options: ['Family doctor', 'Walk-in clinic', 'Specialist'],
    })
    // The earlier version is untouched: referrals made with it still render with it.
    expect((await forms(owner, 'northside'))[0]!.definition.sections.find((s) => s.title === 'Referral')!.fields).toHaveLength(6)
    const [audit] = await owner
      .select()
      .from(auditLogs)
      .where(and(eq(auditLogs.action, 'form.publish'), eq(auditLogs.entityId, published.id)))
    expect(audit).toMatchObject({ outcome: 'success', actorId: admin!.id, actorRole: 'admin', entityType: 'intake_form', details: { version: next } })
  })

  test('two publishes of the same version: one wins, the other is told to reload', async ({ signedInAs, owner }) => {
    const before = await latest(owner, 'northside')
    const page = await signedInAs('admin@northside.test', '/admin/intake-form')
    await expect(page).toHaveURL('/admin/intake-form')
    const body = { ...asForm(toEditorValue(before.definition, before.version)), intent: 'publish' }
    const answers = await Promise.all([0, 1].map(() => page.request.post('/admin/intake-form', { form: body, headers: SAME_ORIGIN, maxRedirects: 0 })))
    expect(answers.map((a) => a.status()).sort()).toEqual([302, 409])
    expect(await answers.find((a) => a.status() === 409)!.text()).toContain('Someone else published a new version meanwhile; reload to see it')
    // The editor still open in the page started from the old version: refused too.
    await page.getByRole('button', { name: `Publish version ${before.version + 1}` }).click()
    await expect(page.getByRole('alert').filter({ hasText: 'Someone else published a new version meanwhile' })).toBeVisible()

    const after = await forms(owner, 'northside')
    expect(after.map((f) => f.version)).toEqual(Array.from({ length: before.version + 1 }, (_, i) => i + 1))
    const audits = await owner
      .select()
      .from(auditLogs)
      .where(eq(auditLogs.entityId, after.at(-1)!.id))
      .orderBy(desc(auditLogs.id))
    expect(audits).toHaveLength(1)
  })
})

test('without JavaScript, every button works through the server, errors included, and publishing increments the version', async ({ signedInAs, owner }) => {
  const before = await latest(owner, 'lakeview')
  const page = await signedInAs('admin@lakeview.test', '/admin/intake-form', { javaScriptEnabled: false })
  await expect(page).toHaveURL('/admin/intake-form')

  const consent = section(page, 'Consent')
  await consent.getByRole('button', { name: 'Add a field to Consent', exact: true }).click()
  await field(page, 'New field').getByLabel('Label', { exact: true }).fill('Preferred language')
  await field(page, 'New field').getByLabel('Key', { exact: true }).fill('patient_phone')
  // A second one, removed again.
  await consent.getByRole('button', { name: 'Add a field to Consent', exact: true }).click()
  await expect(consent.locator('legend')).toHaveText([/^The patient consents/, 'Preferred language', 'New field'])
  await field(page, 'New field').getByRole('button', { name: 'Remove New field' }).click()
  await field(page, 'Preferred language').getByRole('button', { name: 'Move Preferred language up' }).click()
  await expect(consent.locator('legend')).toHaveText(['Preferred language', /^The patient consents/])

  // The server finds the duplicate key; what was typed stays.
  const language = field(page, 'Preferred language')
  await page.getByRole('button', { name: `Publish version ${before.version + 1}` }).click()
  await expect(page.getByRole('alert').filter({ hasText: 'Nothing was published' })).toBeVisible()
  await expect(language.getByText('Another field already uses the key “patient_phone”')).toBeVisible()
  await expect(language.getByLabel('Key', { exact: true })).toHaveValue('patient_phone')
  expect((await latest(owner, 'lakeview')).version).toBe(before.version)

  await language.getByLabel('Key', { exact: true }).fill('preferred_language')
  await language.getByLabel('Help text').fill('If not English, we book an interpreter.')
  await page.getByRole('button', { name: `Publish version ${before.version + 1}` }).click()
  await expect(page).toHaveURL(`/admin/intake-form?published=${before.version + 1}`)
  await expect(page.getByRole('status')).toHaveText(`Published version ${before.version + 1}`)

  const published = await latest(owner, 'lakeview')
  expect(published.version).toBe(before.version + 1)
  expect(published.definition.sections.at(-1)!.fields[0]).toEqual({
    key: 'preferred_language',
    label: 'Preferred language',
    type: 'text',
    required: false,
    phi: true,
    help: 'If not English, we book an interpreter.',
  })
})

test('a bad definition shows errors next to the fields, keeps what was typed, and publishes nothing', async ({ signedInAs, owner }) => {
  const before = await latest(owner, 'riverbend')
  const page = await signedInAs('admin@riverbend.test', '/admin/intake-form')
  await field(page, 'Relevant history').getByLabel('Label', { exact: true }).fill('')
  await field(page, 'Allergies').getByLabel('Key', { exact: true }).fill('medications')
  await field(page, 'Urgency').getByLabel('Options').fill(' ')
  await page.getByRole('button', { name: `Publish version ${before.version + 1}` }).click()

  await expect(field(page, 'history').getByText('Enter a label')).toBeVisible()
  await expect(field(page, 'Allergies').getByText('Another field already uses the key “medications”')).toBeVisible()
  await expect(field(page, 'Urgency').getByText('A choice field needs at least one option')).toBeVisible()
  await expect(field(page, 'Allergies').getByLabel('Key', { exact: true })).toHaveValue('medications')
  await expect(page).toHaveURL('/admin/intake-form')

  // Forged posts: a mangled list intent, a removed duplicate-detection field. Refused, never a 500.
  const mangled = await page.request.post('/admin/intake-form', { form: { __intent__: '{not json', baseVersion: '1' }, headers: SAME_ORIGIN, maxRedirects: 0 })
  expect(mangled.status()).toBe(400)
  const value = toEditorValue(before.definition, before.version)
  value.sections[0]!.fields = value.sections[0]!.fields.filter((f) => f.key !== 'health_card_number')
  const removed = await page.request.post('/admin/intake-form', { form: { ...asForm(value), intent: 'publish' }, headers: SAME_ORIGIN, maxRedirects: 0 })
  expect(removed.status()).toBe(400)
  expect(await removed.text()).toContain('used for duplicate detection: it cannot be removed')

  expect((await latest(owner, 'riverbend')).version).toBe(before.version)
})

test('staff cannot open or post to the intake form editor', async ({ signedInAs }) => {
  const page = await signedInAs('staff@northside.test')
  await expect(page.getByTestId('current-clinic')).toHaveText('Northside Physiotherapy')
  await expect(page.getByRole('link', { name: 'Intake form' })).toHaveCount(0)
  const response = await page.goto('/admin/intake-form')
  expect(response!.status()).toBe(403)
  await expect(page.getByRole('heading', { name: 'Not allowed' })).toBeVisible()
  const post = await page.request.post('/admin/intake-form', { form: { intent: 'publish' }, headers: SAME_ORIGIN, maxRedirects: 0 })
  expect(post.status()).toBe(403)
})

/** The editor's values as the browser posts them. */
function asForm(value: ReturnType<typeof toEditorValue>) {
  const form: Record<string, string> = { baseVersion: String(value.baseVersion) }
  value.sections.forEach((section, s) => {
    form[`sections[${s}].title`] = section.title
    section.fields.forEach((f, i) => {
      const name = `sections[${s}].fields[${i}]`
      Object.assign(form, {
        [`${name}.label`]: f.label,
        [`${name}.key`]: f.key,
        [`${name}.type`]: f.type,
        [`${name}.help`]: f.help,
        [`${name}.options`]: f.options,
      })
      if (f.required) form[`${name}.required`] = 'on'
      if (f.phi) form[`${name}.phi`] = 'on'
    })
  })
  return form
}
