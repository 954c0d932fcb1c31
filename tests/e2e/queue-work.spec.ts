import AxeBuilder from '@axe-core/playwright'
import type { Page } from '@playwright/test'
import { and, eq, sql } from 'drizzle-orm'
import { referrals, savedQueueViews } from '../../app/db/schema'
import { auditFor, expect, go, referralByReference, SAME_ORIGIN, submitReferral, test, uniquePatient, userByEmail } from './fixtures'

/*
 * The queue's daily work: a reply the clinic must see, work on a selection with a report per
 * referral, saved views, keyboard shortcuts, and the phone layout. Riverbend's staff work fresh
 * referrals of their own (submitted here), never the seeded ones other tests read.
 */
const STAFF = 'staff@riverbend.test'
const REFERRER = 'referrer@riverbend.test'
const WCAG = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa']

async function expectNoSeriousAxe(page: Page, what: string) {
  const { violations } = await new AxeBuilder({ page }).withTags(WCAG).analyze()
  const bad = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
  expect(
    bad.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`),
    what,
  ).toEqual([])
}

const row = (page: Page, reference: string) => page.getByTestId('queue-row').filter({ hasText: reference })

test('bulk assign: each ticked referral is assigned and audited; one changed meanwhile is reported and left alone', async ({ signedInAs, owner }) => {
  test.setTimeout(90_000)
  const referrer = await signedInAs(REFERRER)
  const refs = [
    await submitReferral(referrer, uniquePatient()),
    await submitReferral(referrer, uniquePatient()),
    await submitReferral(referrer, uniquePatient()),
  ]
  const admin = await userByEmail(owner, 'admin@riverbend.test')

  const page = await signedInAs(STAFF, '/queue?status=received')
  for (const ref of refs)
    await row(page, ref)
      .getByRole('checkbox', { name: `Select ${ref}` })
      .check()
  await expect(page.getByTestId('selected-count')).toHaveText('3 selected')
  // Someone else works the second one after this page was shown: its version moves on.
  const stale = await referralByReference(owner, refs[1]!)
  await owner
    .update(referrals)
    .set({ version: sql`${referrals.version} + 1` })
    .where(eq(referrals.id, stale.id))
  const bar = page.getByRole('form', { name: 'Work on the selected referrals' })
  await bar.getByLabel('Assign to').selectOption({ label: 'Riverbend Admin' })
  await bar.getByRole('button', { name: 'Assign selected' }).click()

  const report = page.getByTestId('work-results')
  await expect(report).toContainText('Assigned: 2 of 3 referrals changed, 1 not.')
  await expect(report.getByTestId('work-result').filter({ hasText: refs[0]! })).toHaveAttribute('data-outcome', 'done')
  await expect(report.getByTestId('work-result').filter({ hasText: refs[1]! })).toContainText('changed by someone else')
  await expect(report.getByTestId('work-result').filter({ hasText: refs[2]! })).toHaveAttribute('data-outcome', 'done')
  // The rows say so after the page reloaded them.
  await expect(row(page, refs[0]!)).toContainText('Riverbend Admin')
  await expect(row(page, refs[1]!)).toContainText('Unassigned')

  for (const [i, ref] of refs.entries()) {
    const r = await referralByReference(owner, ref)
    expect(r.assignedTo, ref).toBe(i === 1 ? null : admin.id)
    expect((await auditFor(owner, 'referral.assign', r.id)).length, ref).toBe(i === 1 ? 0 : 1)
  }
})

test('without JavaScript the selection is a plain form: status change for two, with field errors when the reason is missing', async ({ signedInAs, owner }) => {
  test.setTimeout(90_000)
  const referrer = await signedInAs(REFERRER)
  const refs = [await submitReferral(referrer, uniquePatient()), await submitReferral(referrer, uniquePatient())]
  const page = await signedInAs(STAFF, '/queue?status=received', { javaScriptEnabled: false })
  const bar = page.getByRole('form', { name: 'Work on the selected referrals' })
  // Nothing ticked: said at the form, nothing changes.
  await bar.getByLabel('Status').selectOption('in_review')
  await bar.getByRole('button', { name: 'Change status' }).click()
  await expect(bar.getByText('Select at least one referral')).toBeVisible()

  for (const ref of refs)
    await row(page, ref)
      .getByRole('checkbox', { name: `Select ${ref}` })
      .check()
  await bar.getByLabel('Status').selectOption('declined')
  await bar.getByRole('button', { name: 'Change status' }).click()
  await expect(bar.getByText('Give a reason: the referrers will see it')).toBeVisible()
  await expect(bar.getByRole('textbox', { name: 'Reason (decline, cancel)' })).toHaveAttribute('aria-invalid', 'true')
  await expect(bar.getByLabel('Kind of reason (decline, cancel)')).toHaveAttribute('aria-invalid', 'true')
  await expect(bar.getByText('Choose a kind of reason for declining')).toBeVisible()
  for (const ref of refs) expect((await referralByReference(owner, ref)).status).toBe('received')

  for (const ref of refs)
    await row(page, ref)
      .getByRole('checkbox', { name: `Select ${ref}` })
      .check()
  await bar.getByLabel('Status').selectOption('in_review')
  await bar.getByRole('button', { name: 'Change status' }).click()
  await expect(page.getByTestId('work-results')).toContainText('Status changed to In review: 2 of 2 referrals changed.')
  for (const ref of refs) {
    const r = await referralByReference(owner, ref)
    expect(r.status).toBe('in_review')
    expect(await auditFor(owner, 'referral.status', r.id)).toHaveLength(1)
  }
})

test('a reply is marked in the queue and shown at the top of the referral until someone marks it seen', async ({ signedInAs, owner }) => {
  test.setTimeout(90_000)
  const referrer = await signedInAs(REFERRER)
  const reference = await submitReferral(referrer, uniquePatient())
  const referral = await referralByReference(owner, reference)

  // The clinic asks; the referrer answers on their own page.
  const staff = await signedInAs(STAFF, `/referrals/${referral.id}`)
  await staff.getByLabel('Ask the referrer').fill('Please send the sleep study from March.')
  await staff.getByRole('button', { name: 'Send question' }).click()
  await expect(staff.getByText('Question sent to the referrer.')).toBeVisible()
  await go(staff, `/queue?ref=${reference}`)
  await expect(row(staff, reference).getByTestId('reply-marker')).toHaveCount(0)

  await go(referrer, `/referrals/${referral.id}`)
  await referrer.getByLabel('Reply to the clinic').fill('Attached at the front desk; the study is dated March 4.')
  await referrer.getByRole('button', { name: 'Send reply' }).click()
  await expect(referrer.getByText('Reply sent.')).toBeVisible()
  // The referrer never sees the clinic's marker.
  await expect(referrer.getByTestId('reply-received')).toHaveCount(0)

  await go(staff, `/queue?ref=${reference}`)
  await expect(row(staff, reference)).toContainText('Waiting on referrer')
  await expect(row(staff, reference).getByTestId('reply-marker')).toHaveText(/Reply received/)
  // The filter finds it among the clinic's replies.
  await go(staff, '/queue?status=replied')
  await expect(row(staff, reference)).toHaveCount(1)
  await expectNoSeriousAxe(staff, 'queue with a reply marker')

  await row(staff, reference).getByRole('link').first().click()
  const top = staff.getByTestId('reply-received')
  await expect(top).toContainText('the study is dated March 4')
  await expect(top).toContainText('In answer to: Please send the sleep study from March.')
  await expectNoSeriousAxe(staff, 'referral page with a reply to acknowledge')
  await top.getByRole('button', { name: 'Mark reply as seen' }).click()
  await expect(staff.getByText('Reply marked as seen.')).toBeVisible()
  await expect(staff.getByTestId('reply-received')).toHaveCount(0)
  expect((await referralByReference(owner, reference)).replyReceivedAt).toBeNull()
  const acknowledged = await auditFor(owner, 'referral.update', referral.id)
  expect(acknowledged.filter((a) => (a.details as { event?: string } | null)?.event === 'reply-acknowledged')).toHaveLength(1)

  await go(staff, `/queue?ref=${reference}`)
  await expect(row(staff, reference).getByTestId('reply-marker')).toHaveCount(0)
})

test('keyboard: j/k move through the rows, Enter opens, a assigns to me, ? shows the help; never while typing', async ({ signedInAs, owner }) => {
  test.setTimeout(90_000)
  const referrer = await signedInAs(REFERRER)
  const reference = await submitReferral(referrer, uniquePatient())
  const page = await signedInAs(STAFF, '/queue?status=received')
  await page.waitForLoadState('networkidle')

  // Typing in a field is typing: j, k, a and ? go into the box.
  const name = page.getByLabel('Name for this view')
  await name.click()
  await page.keyboard.type('jka?')
  await expect(name).toHaveValue('jka?')
  await expect(page.getByRole('dialog')).toHaveCount(0)
  await name.fill('')
  await name.blur()

  // Other tests send Riverbend referrals meanwhile, and the live queue puts a new one on top: each
  // move is judged by the row it lands on (its link), next to the row it left, not by a position.
  const focused = () =>
    page.evaluate(() => {
      const all = [...document.querySelectorAll('[data-testid="queue-row"] [data-row-link]')]
      const at = all.indexOf(document.activeElement!)
      return { href: at < 0 ? null : all[at]!.getAttribute('href'), after: at > 0 ? all[at - 1]!.getAttribute('href') : null }
    })
  await page.keyboard.press('j')
  await expect.poll(async () => (await focused()).href).toMatch(/^\/referrals\//)
  const first = (await focused()).href
  await page.keyboard.press('j')
  await expect.poll(async () => (await focused()).after).toBe(first)
  const second = (await focused()).href
  await page.keyboard.press('j')
  await expect.poll(async () => (await focused()).after).toBe(second)
  await page.keyboard.press('k')
  await expect.poll(async () => (await focused()).href).toBe(second)

  await page.keyboard.press('?')
  const help = page.getByRole('dialog', { name: 'Keyboard shortcuts' })
  await expect(help).toBeVisible()
  await expect(help).toContainText('Assign the referral to me')
  await expectNoSeriousAxe(page, 'queue with the shortcuts dialog open')
  await page.keyboard.press('Escape')
  await expect(help).toBeHidden()

  // a: the focused referral is assigned to me (its row's own form), then Enter opens it.
  const mine = row(page, reference).locator('[data-row-link]')
  await mine.focus()
  await page.keyboard.press('a')
  await expect(page.getByTestId('work-results')).toContainText('Assigned to you: 1 of 1 referral changed.')
  const staff = await userByEmail(owner, STAFF)
  expect((await referralByReference(owner, reference)).assignedTo).toBe(staff.id)
  await row(page, reference).locator('[data-row-link]').focus()
  await page.keyboard.press('Enter')
  await expect(page).toHaveURL(/\/referrals\/[0-9a-f-]{36}$/)
})

for (const javaScriptEnabled of [true, false]) {
  test(`a row's "Assign to me" assigns that referral and no other (${javaScriptEnabled ? 'with' : 'without'} JavaScript)`, async ({ signedInAs, owner }) => {
    const referrer = await signedInAs(REFERRER)
    const [mine, other] = [await submitReferral(referrer, uniquePatient()), await submitReferral(referrer, uniquePatient())]
    const page = await signedInAs(STAFF, '/queue?status=received&assignee=unassigned', { javaScriptEnabled })
    await row(page, mine)
      .getByRole('button', { name: `Assign to me (${mine})` })
      .click()
    await expect(page.getByTestId('work-results')).toContainText('Assigned to you: 1 of 1 referral changed.')
    const staff = await userByEmail(owner, STAFF)
    expect((await referralByReference(owner, mine)).assignedTo).toBe(staff.id)
    expect((await referralByReference(owner, other)).assignedTo).toBeNull()
    // The row it was on no longer offers it; the other row still does.
    await expect(row(page, other).getByRole('button', { name: `Assign to me (${other})` })).toBeVisible()
    await expect(row(page, mine).getByRole('button', { name: /^Assign to me/ })).toHaveCount(0)
  })
}

test('saved views are the user’s own; "My work" shows what is assigned to me; the total counts the view', async ({ signedInAs, owner }) => {
  const page = await signedInAs(STAFF, '/queue?priority=urgent&assignee=unassigned')
  await expect(page.getByTestId('queue-total')).toHaveText(/^(\d[\d,]*|More than 1,000) referrals? in this view$/)
  const truth = await owner
    .select({ n: sql<number>`count(*)::int` })
    .from(referrals)
    .where(
      and(
        eq(referrals.clinicId, (await userByEmail(owner, STAFF)).clinicId!),
        eq(referrals.priority, 'urgent'),
        sql`${referrals.assignedTo} is null and ${referrals.status} in ('received','in_review','info_requested','accepted','scheduled')`,
      ),
    )
  const shownTotal = (await page.getByTestId('queue-total').textContent())!
  if (truth[0]!.n <= 1000) expect(shownTotal).toContain(`${truth[0]!.n.toLocaleString('en-CA')} referral`)

  const name = `Urgent unassigned ${Date.now().toString(36)}`
  await page.getByLabel('Name for this view').fill(name)
  await page.getByRole('button', { name: 'Save view' }).click()
  const saved = page.getByRole('navigation', { name: 'Views' }).getByRole('link', { name })
  await expect(saved).toBeVisible()
  await expect(saved).toHaveAttribute('href', '/queue?priority=urgent&assignee=unassigned')
  await expect(saved).toHaveAttribute('aria-current', 'page')
  // The same name again is refused at the field.
  await page.getByLabel('Name for this view').fill(name.toUpperCase())
  await page.getByRole('button', { name: 'Save view' }).click()
  await expect(page.getByText('You already have a view with that name')).toBeVisible()

  // Another user of the same clinic does not see it.
  const admin = await signedInAs('admin@riverbend.test', '/queue')
  await expect(admin.getByRole('navigation', { name: 'Views' })).toBeVisible()
  await expect(admin.getByRole('link', { name })).toHaveCount(0)
  // Nor can they remove it by its id.
  const [row] = await owner.select().from(savedQueueViews).where(eq(savedQueueViews.name, name))
  const removal = await admin.request.post('/queue', { form: { intent: 'delete-view', view: row!.id }, headers: { Origin: new URL(admin.url()).origin } })
  expect(removal.status()).toBe(404)
  expect(await owner.select().from(savedQueueViews).where(eq(savedQueueViews.id, row!.id))).toHaveLength(1)

  await page.getByRole('link', { name: 'My work' }).click()
  await expect(page).toHaveURL('/queue?assignee=me&sort=priority')
  await expect(page.getByRole('form', { name: 'Filters' }).getByLabel('Assigned to')).toHaveValue('me')
  await page.getByRole('button', { name: `Remove the saved view ${name}` }).click()
  await expect(page.getByText('Removed the saved view.')).toBeVisible()
  await expect(page.getByRole('link', { name })).toHaveCount(0)
})

test('filters apply as soon as they change, with JavaScript', async ({ signedInAs }) => {
  const page = await signedInAs(STAFF, '/queue')
  await page.waitForLoadState('networkidle')
  await page.getByRole('form', { name: 'Filters' }).getByLabel('Priority').selectOption('emergent')
  await expect(page).toHaveURL('/queue?priority=emergent')
  await expect(page.getByTestId('queue-row').filter({ hasNotText: 'Emergent' })).toHaveCount(0)
  expect(await page.getByTestId('queue-row').count()).toBeGreaterThan(0)
})

test('on a 390 px phone: cards, folded filters, nothing scrolls sideways', async ({ signedInAs }) => {
  const page = await signedInAs(STAFF, '/queue?status=all')
  await page.setViewportSize({ width: 390, height: 844 })
  await go(page, '/queue?status=all')
  const fits = () => page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth }))
  const first = await fits()
  expect(first.scroll).toBeLessThanOrEqual(first.client)
  // The filters are folded away behind their summary; the first card is on the first screen.
  await expect(page.getByRole('form', { name: 'Filters' })).toBeHidden()
  const card = page.getByTestId('queue-row').first()
  await expect(card).toBeInViewport()
  // A card shows status, received and assignee on the screen, not off to the right.
  const box = (await card.boundingBox())!
  expect(box.x + box.width).toBeLessThanOrEqual(390)
  await page.screenshot({ path: test.info().outputPath('queue-390.png'), fullPage: true })
  await expectNoSeriousAxe(page, 'queue at 390 px')

  await page.getByText('Filters and search').click()
  await expect(page.getByRole('form', { name: 'Filters' })).toBeVisible()
  const open = await fits()
  expect(open.scroll).toBeLessThanOrEqual(open.client)
  await page.screenshot({ path: test.info().outputPath('queue-390-filters.png'), fullPage: true })

  // Desktop: the filters are always there, with no summary to open.
  await page.setViewportSize({ width: 1280, height: 900 })
  await expect(page.getByRole('form', { name: 'Filters' })).toBeVisible()
  await expect(page.getByText('Filters and search')).toBeHidden()
})

test('hostile posts to the queue: a clear 400 that changes nothing, never a 500; a referrer is refused', async ({ signedInAs, owner }) => {
  const page = await signedInAs(STAFF, '/queue')
  const [seeded] = await owner
    .select({ id: referrals.id, version: referrals.version, assignedTo: referrals.assignedTo })
    .from(referrals)
    .where(eq(referrals.clinicId, (await userByEmail(owner, STAFF)).clinicId!))
    .limit(1)
  const post = (who: Page, form: Record<string, string>) => who.request.post('/queue', { form, headers: SAME_ORIGIN, maxRedirects: 0 })
  const hostile: Record<string, string>[] = [
    { intent: 'bulk-assign', 'selected[0]': 'garbage' },
    { intent: 'bulk-assign', 'selected[99]': `${seeded!.id}:${seeded!.version}` },
    { intent: 'bulk-assign', 'selected[0]': `${seeded!.id}:0` },
    { intent: 'bulk-assign', 'selected[0]': `${seeded!.id}:${seeded!.version}`, assignee: 'everyone' },
    { intent: 'bulk-status', 'selected[0]': `${seeded!.id}:${seeded!.version}`, to: 'scheduled' },
    { intent: 'assign-me', referral: `${seeded!.id}` },
    { intent: 'nothing-we-know' },
    { intent: 'save-view', name: '' },
    { intent: 'save-view', name: 'x'.repeat(61) },
    { intent: 'delete-view', view: 'not-a-uuid' },
  ]
  for (const form of hostile) {
    const response = await post(page, form)
    const what = JSON.stringify(form)
    expect(response.status(), what).toBe(400)
  }
  const [after] = await owner.select({ version: referrals.version, assignedTo: referrals.assignedTo }).from(referrals).where(eq(referrals.id, seeded!.id))
  expect(after).toEqual({ version: seeded!.version, assignedTo: seeded!.assignedTo })

  const referrer = await signedInAs(REFERRER)
  const refused: Record<string, string>[] = [
    { intent: 'save-view', name: 'Mine' },
    { intent: 'assign-me', referral: `${seeded!.id}:${seeded!.version}` },
  ]
  for (const form of refused) {
    expect((await post(referrer, form)).status(), JSON.stringify(form)).toBe(403)
  }
})
