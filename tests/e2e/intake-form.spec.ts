import AxeBuilder from '@axe-core/playwright'
import type { Locator, Page } from '@playwright/test'
import { and, asc, count, desc, eq } from 'drizzle-orm'
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
const preview = (page: Page) => page.getByTestId('form-preview')
const changes = (page: Page) => page.locator('#changes')
const isOpen = (details: Locator) => details.evaluate((d) => (d as HTMLDetailsElement).open)

/** Sections are folded: unfold one (a click on its summary, with or without JavaScript). */
async function openSection(page: Page, title: string) {
  const region = section(page, title)
  if (!(await isOpen(region.locator('details').first()))) await region.locator('summary').first().click()
  await expect(region.locator('details').first()).toHaveAttribute('open', '')
  return region
}

/** A field's key sits under "Advanced". */
async function keyOf(group: Locator) {
  const box = group.getByLabel('Key', { exact: true })
  if (!(await box.isVisible())) await group.locator('summary', { hasText: 'Advanced' }).click()
  await expect(box).toBeVisible()
  return box
}

// Both publish Northside's form: one after the other, so each knows which version comes next.
test.describe('Northside', () => {
  test.describe.configure({ mode: 'default' })

  test('with JavaScript, an admin relabels, adds and moves fields in the browser, then publishes a new version', async ({ signedInAs, owner }) => {
    const before = await latest(owner, 'northside')
    const page = await signedInAs('admin@northside.test', '/admin/intake-form')
    await expect(page).toHaveURL('/admin/intake-form')
    await expect(page.getByTestId('form-version')).toContainText(`Version ${before.version}, published`)
    // Every section starts folded: the editor is a short list of them, not a 6,000 px page.
    for (const title of ['Patient', 'Referring clinician', 'Referral', 'Consent'])
      expect(await isOpen(section(page, title).locator('details').first()), title).toBe(false)
    await expect(field(page, 'Date of birth')).toBeHidden()
    expect(await page.locator('form#intake-form-editor').evaluate((form) => form.getBoundingClientRect().height)).toBeLessThan(900)
    // The three duplicate-detection fields are marked, and cannot be removed; published keys are fixed.
    await openSection(page, 'Patient')
    await expect(field(page, 'Date of birth').getByText('Used for duplicate detection')).toBeVisible()
    await expect(field(page, 'Date of birth').getByRole('button', { name: /Remove/ })).toHaveCount(0)
    await expect(await keyOf(field(page, 'Date of birth'))).toHaveAttribute('readonly', '')
    await expect(await keyOf(field(page, 'Sex'))).toHaveAttribute('readonly', '')

    // Editing happens in the browser once the page's script runs (before that, the buttons post, as without JavaScript).
    await page.waitForLoadState('networkidle')
    // Editing happens in the browser: nothing is posted until Publish.
    const posts: string[] = []
    page.on('request', (r) => void (r.method() === 'POST' && posts.push(r.url())))

    const referral = await openSection(page, 'Referral')
    await expect(changes(page)).toContainText('None yet')
    await field(page, 'Current medications').getByLabel('Label', { exact: true }).fill('Current medications and doses')
    // The preview is the referrer's form, and follows the typing; so does the list of changes.
    await expect(preview(page).getByLabel(/^Current medications and doses/)).toBeVisible()
    await expect(preview(page).getByLabel(/^Current medications( \(optional\))?$/)).toHaveCount(0)
    await expect(changes(page).getByRole('listitem')).toHaveText(['“Current medications” relabelled “Current medications and doses”'])
    // The name of "+ Add field" starts with the words it shows (WCAG 2.5.3).
    await referral.getByRole('button', { name: '+ Add field to Referral', exact: true }).click()
    const added = field(page, 'New field')
    await expect(added.getByLabel('PHI')).toBeChecked()
    await added.getByLabel('Label', { exact: true }).fill('Referral source')
    const source = field(page, 'Referral source')
    // The key is made from the label (nothing typed), shown under Advanced.
    await expect(source.locator('summary', { hasText: 'Advanced' })).toHaveText('Advanced (key: referral_source)')
    await expect(await keyOf(source)).toHaveValue('')
    await expect(await keyOf(source)).toHaveAttribute('placeholder', 'referral_source')
    await source.getByLabel('Type', { exact: true }).selectOption('select')
    await source.getByLabel('Options').fill('Family doctor\nWalk-in clinic\nSpecialist')
    await source.getByLabel('PHI').uncheck()
    await expect(
      preview(page)
        .getByLabel(/^Referral source/)
        .locator('option'),
    ).toHaveText(['Choose…', 'Family doctor', 'Walk-in clinic', 'Specialist'])
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
    await expect(changes(page).getByRole('listitem')).toHaveText([
      '“Current medications” relabelled “Current medications and doses”',
      '“Referral source” added to “Referral”',
    ])
    await expect(page.getByText('2 changes (listed above).')).toBeVisible()

    const next = before.version + 1
    await page.getByRole('button', { name: `Publish version ${next}` }).click()
    await expect(page).toHaveURL(`/admin/intake-form?published=${next}`)
    await expect(page.getByRole('status')).toHaveText(`Published version ${next}`)
    await expect(page.getByTestId('form-version')).toContainText(`Version ${next}, published`)
    await openSection(page, 'Referral')
    await expect(field(page, 'Referral source').getByLabel('Options')).toHaveValue('Family doctor\nWalk-in clinic\nSpecialist')
    // Published: the key it was given is now fixed.
    await expect(await keyOf(field(page, 'Referral source'))).toHaveValue('referral_source')
    await expect(await keyOf(field(page, 'Referral source'))).toHaveAttribute('readonly', '')
    await expect(changes(page)).toContainText('None yet')

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
    const edited = toEditorValue(before.definition, before.version)
    edited.sections[0]!.fields[0]!.help = `Checked on ${new Date().toISOString()}`
    const body = { ...asForm(edited), intent: 'publish' }
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

  const consent = await openSection(page, 'Consent')
  await consent.getByRole('button', { name: '+ Add field to Consent', exact: true }).click()
  // The server's answer keeps open the section the button was in.
  await expect(consent.locator('details').first()).toHaveAttribute('open', '')
  await field(page, 'New field').getByLabel('Label', { exact: true }).fill('Preferred language')
  await (await keyOf(field(page, 'New field'))).fill('patient_phone')
  // A second one, removed again.
  await consent.getByRole('button', { name: '+ Add field to Consent', exact: true }).click()
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

  // Left blank, the key is made from the label, by the server.
  await language.getByLabel('Key', { exact: true }).fill('')
  await language.getByLabel('Help text').fill('If not English, we book an interpreter.')
  // The changes and the preview are as the server last saw the form, until "Review changes".
  await expect(preview(page).getByLabel(/^Preferred language/)).toBeVisible()
  await page.getByRole('button', { name: 'Review changes' }).click()
  await expect(page).toHaveURL('/admin/intake-form#changes')
  await expect(changes(page).getByRole('listitem')).toHaveText(['“Preferred language” added to “Consent”'])
  await expect(preview(page).getByText('If not English, we book an interpreter.')).toBeVisible()
  expect((await latest(owner, 'lakeview')).version).toBe(before.version)

  // Publish first shows what it would publish, as the server read the form, and asks.
  const next = before.version + 1
  await page.getByRole('button', { name: `Publish version ${next}…` }).click()
  await expect(page).toHaveURL('/admin/intake-form#publish-confirm')
  const confirmation = page.getByRole('region', { name: `Publish version ${next}?` })
  await expect(confirmation).toBeInViewport()
  await expect(confirmation.getByRole('listitem')).toHaveText(['“Preferred language” added to “Consent”'])
  expect((await latest(owner, 'lakeview')).version).toBe(before.version)
  // "Keep editing" publishes nothing; an edit after the review is shown before it is published.
  await confirmation.getByRole('button', { name: 'Keep editing' }).click()
  await expect(page).toHaveURL('/admin/intake-form#changes')
  await expect(confirmation).toHaveCount(0)
  await page.getByRole('button', { name: `Publish version ${next}…` }).click()
  await openSection(page, 'Consent')
  await field(page, 'Preferred language').getByLabel('Help text').fill('If not English, we book an interpreter for the visit.')
  await confirmation.getByRole('button', { name: `Publish version ${next}`, exact: true }).click()
  await expect(confirmation.getByText('The form changed after you reviewed it: check the changes again.')).toBeVisible()
  await expect(confirmation.getByRole('listitem')).toHaveText(['“Preferred language” added to “Consent”'])
  await expect(preview(page).getByText('If not English, we book an interpreter for the visit.')).toBeVisible()
  expect((await latest(owner, 'lakeview')).version).toBe(before.version)
  // Reviewed as it stands: the second press publishes.
  await confirmation.getByRole('button', { name: `Publish version ${next}`, exact: true }).click()
  await expect(page).toHaveURL(`/admin/intake-form?published=${next}`)
  await expect(page.getByRole('status')).toHaveText(`Published version ${before.version + 1}`)

  const published = await latest(owner, 'lakeview')
  expect(published.version).toBe(before.version + 1)
  expect(published.definition.sections.at(-1)!.fields[0]).toEqual({
    key: 'preferred_language',
    label: 'Preferred language',
    type: 'text',
    required: false,
    phi: true,
    help: 'If not English, we book an interpreter for the visit.',
  })
})

test('a bad definition shows errors next to the fields, keeps what was typed, and publishes nothing', async ({ signedInAs, owner }) => {
  const before = await latest(owner, 'riverbend')
  const page = await signedInAs('admin@riverbend.test', '/admin/intake-form')
  const referral = await openSection(page, 'Referral')
  await field(page, 'Relevant history').getByLabel('Label', { exact: true }).fill('')
  // A published key is fixed; a new field's key can be typed, and must be unique.
  await expect(await keyOf(field(page, 'Allergies'))).toHaveAttribute('readonly', '')
  await referral.getByRole('button', { name: '+ Add field to Referral', exact: true }).click()
  await field(page, 'New field').getByLabel('Label', { exact: true }).fill('Allergy notes')
  await (await keyOf(field(page, 'Allergy notes'))).fill('medications')
  await field(page, 'Urgency').getByLabel('Options').fill(' ')
  await page.getByRole('button', { name: `Publish version ${before.version + 1}` }).click()

  await expect(field(page, 'history').getByText('Enter a label')).toBeVisible()
  await expect(field(page, 'Allergy notes').getByText('Another field already uses the key “medications”')).toBeVisible()
  await expect(field(page, 'Urgency').getByText('A choice field needs at least one option')).toBeVisible()
  await expect(field(page, 'Allergy notes').getByLabel('Key', { exact: true })).toHaveValue('medications')
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

test('a publish that changes nothing is refused by the server, with a clear message, and makes no version', async ({ signedInAs, owner }) => {
  const before = await latest(owner, 'riverbend')
  const publishes = async () => {
    const [row] = await owner
      .select({ n: count() })
      .from(auditLogs)
      .where(and(eq(auditLogs.action, 'form.publish'), eq(auditLogs.clinicId, before.clinicId)))
    return row!.n
  }
  const audited = await publishes()
  const refusal = `Nothing has changed since version ${before.version}: there is nothing to publish.`
  const page = await signedInAs('admin@riverbend.test', '/admin/intake-form')
  await page.waitForLoadState('networkidle')
  // Space typed after a label is no change: labels are trimmed.
  await openSection(page, 'Patient')
  await field(page, 'First name').getByLabel('Label', { exact: true }).fill('First name   ')
  await expect(changes(page)).toContainText('None yet')
  await expect(page.getByText('No changes yet.')).toBeVisible()
  await page.getByRole('button', { name: `Publish version ${before.version + 1}` }).click()
  await expect(page.getByRole('alert').filter({ hasText: refusal })).toBeVisible()
  await expect(page).toHaveURL('/admin/intake-form')

  // The server decides, whatever the page does: the published form posted back as it is.
  const answer = await page.request.post('/admin/intake-form', {
    form: { ...asForm(toEditorValue(before.definition, before.version)), intent: 'publish' },
    headers: SAME_ORIGIN,
    maxRedirects: 0,
  })
  expect(answer.status()).toBe(400)
  expect(await answer.text()).toContain(refusal)

  // Without JavaScript, Publish asks first: with nothing changed it is refused at once.
  const noScript = await signedInAs('admin@riverbend.test', '/admin/intake-form', { javaScriptEnabled: false })
  await noScript.getByRole('button', { name: `Publish version ${before.version + 1}…` }).click()
  await expect(noScript.getByRole('alert').filter({ hasText: refusal })).toBeVisible()
  await expect(noScript.getByRole('region', { name: /^Publish version/ })).toHaveCount(0)

  expect((await latest(owner, 'riverbend')).version).toBe(before.version)
  expect(await publishes()).toBe(audited)
})

test('the editor passes axe (WCAG 2.2 AA): unfolded, with keys open and errors shown', async ({ signedInAs }) => {
  const page = await signedInAs('admin@riverbend.test', '/admin/intake-form')
  await page.waitForLoadState('networkidle')
  const scan = async (state: string) => {
    // The editor's own page; the header and navigation are scanned by accessibility.spec.ts.
    const { violations } = await new AxeBuilder({ page }).include('main').withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa']).analyze()
    const serious = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
    expect(
      serious.map((v) => `${v.id}: ${v.nodes.length} (${v.nodes[0]?.target.join(' ')})`),
      state,
    ).toEqual([])
  }
  // One scan of the fullest state (a folded section's summary is scanned as well): axe is slow on two shared cores.
  for (const title of ['Patient', 'Referring clinician', 'Referral', 'Consent']) await openSection(page, title)
  for (const summary of await section(page, 'Referral').locator('summary', { hasText: 'Advanced' }).all()) await summary.click()
  await field(page, 'Relevant history').getByLabel('Label', { exact: true }).fill('')
  await field(page, 'Urgency').getByLabel('Options').fill(' ')
  await page.getByRole('button', { name: /^Publish version/ }).click()
  await expect(field(page, 'Urgency').getByText('A choice field needs at least one option')).toBeVisible()
  await scan('every section and key open, with errors')
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
        [`${name}.format`]: f.format,
      })
      if (f.required) form[`${name}.required`] = 'on'
      if (f.phi) form[`${name}.phi`] = 'on'
    })
  })
  return form
}
