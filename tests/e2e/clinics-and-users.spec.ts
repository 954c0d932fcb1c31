import { and, desc, eq } from 'drizzle-orm'
import { auditLogs, clinics, users } from '../../app/db/schema'
import { expect, SAME_ORIGIN, test } from './fixtures'

test('the superadmin switches clinic with a reason; it is recorded and scopes what they see', async ({ signedInAs, owner }) => {
  const page = await signedInAs('superadmin@intakepilot.test')
  await expect(page).toHaveURL('/clinics')
  // A reason is required: the form refuses without one and nothing changes.
  const main = page.getByRole('main')
  await main.getByLabel('Clinic').selectOption({ label: 'Lakeview Orthopaedics' })
  await main.getByRole('button', { name: 'Switch clinic' }).click()
  await expect(main.getByRole('alert').getByText('Give a reason')).toBeVisible()
  await expect(page.getByTestId('current-clinic')).toHaveText('No clinic selected')

  await main.getByLabel('Reason').fill('Support ticket 4821: checking queue counts')
  await main.getByRole('button', { name: 'Switch clinic' }).click()
  await expect(page).toHaveURL('/')
  await expect(page.getByTestId('current-clinic')).toHaveText('Lakeview Orthopaedics')

  const [lakeview] = await owner.select().from(clinics).where(eq(clinics.slug, 'lakeview'))
  const [row] = await owner
    .select()
    .from(auditLogs)
    .where(and(eq(auditLogs.action, 'clinic.switch'), eq(auditLogs.clinicId, lakeview!.id)))
    .orderBy(desc(auditLogs.id))
    .limit(1)
  expect(row).toMatchObject({ outcome: 'success', actorRole: 'superadmin', entityId: lakeview!.id })
  expect(row!.details).toMatchObject({ reason: 'Support ticket 4821: checking queue counts' })

  // Now scoped to Lakeview: its users, not Northside's.
  await page.goto('/admin/users')
  await expect(page.getByTestId('user-staff@lakeview.test')).toBeVisible()
  await expect(page.getByTestId('user-staff@northside.test')).toHaveCount(0)

  // The menu in the header switches too.
  await page.getByText('Switch clinic').click()
  const menu = page.getByTestId('clinic-menu')
  await menu.getByLabel('Clinic', { exact: true }).selectOption({ label: 'Riverbend Sleep Clinic' })
  await menu.getByLabel(/Reason/).fill('Monthly audit review')
  await menu.getByRole('button', { name: 'Switch' }).click()
  await expect(page.getByTestId('current-clinic')).toHaveText('Riverbend Sleep Clinic')
  await expect(page).toHaveURL('/admin/users')
  await expect(page.getByTestId('user-staff@riverbend.test')).toBeVisible()
})

test('no one else sees the clinic menu, and a forged switch is refused and recorded', async ({ signedInAs, owner }) => {
  const page = await signedInAs('admin@northside.test')
  await expect(page).toHaveURL('/queue')
  await expect(page.getByTestId('clinic-menu')).toHaveCount(0)
  const [lakeview] = await owner.select().from(clinics).where(eq(clinics.slug, 'lakeview'))
  const response = await page.request.post('/clinics', { form: { clinicId: lakeview!.id, reason: 'let me in please' }, headers: SAME_ORIGIN, maxRedirects: 0 })
  expect(response.status()).toBe(403)
  await page.goto('/queue')
  await expect(page.getByTestId('current-clinic')).toHaveText('Northside Physiotherapy')
  const [admin] = await owner.select().from(users).where(eq(users.email, 'admin@northside.test'))
  const [row] = await owner
    .select()
    .from(auditLogs)
    .where(and(eq(auditLogs.action, 'clinic.switch'), eq(auditLogs.actorId, admin!.id)))
    .orderBy(desc(auditLogs.id))
    .limit(1)
  expect(row).toMatchObject({ outcome: 'denied' })
})

test('an admin invites a user by email; bad input changes nothing; the first sign-in binds and activates them', async ({ signedInAs, owner }) => {
  const page = await signedInAs('admin@lakeview.test', '/admin/users')
  await page.getByLabel('Email').fill('not-an-email')
  await page.getByLabel('Name').fill('X')
  await page.getByRole('button', { name: 'Add user' }).click()
  await expect(page.getByRole('alert').getByText('Enter a valid email address')).toBeVisible()
  // An existing user's email is refused with a clear message.
  await page.getByLabel('Email').fill('staff@lakeview.test')
  await page.getByLabel('Name').fill('Duplicate Person')
  await page.getByLabel('Role', { exact: true }).selectOption('staff')
  await page.getByRole('button', { name: 'Add user' }).click()
  await expect(page.getByRole('alert').getByText('already a user of this clinic')).toBeVisible()

  // newhire@ can sign in at the provider, but no clinic has provisioned them yet.
  const email = 'newhire@lakeview.test'
  await page.getByLabel('Email').fill(email)
  await page.getByLabel('Name').fill('Nadia Newhire')
  await page.getByLabel('Role', { exact: true }).selectOption('referrer')
  await page.getByRole('button', { name: 'Add user' }).click()
  await expect(page.getByRole('status')).toHaveText(
    `Added ${email}. They can sign in now with their Microsoft work account; until they do, they show as “Not signed in yet”.`,
  )
  await expect(page.getByTestId(`user-${email}`)).toContainText('Not signed in yet')
  const [invited] = await owner.select().from(users).where(eq(users.email, email))
  expect(invited).toMatchObject({ status: 'invited', role: 'referrer', idpObjectId: null })
  const [audit] = await owner
    .select()
    .from(auditLogs)
    .where(and(eq(auditLogs.action, 'user.invite'), eq(auditLogs.entityId, invited!.id)))
  expect(audit).toMatchObject({ outcome: 'success', actorRole: 'admin' })

  // Their first sign-in binds the invitation to their identity and makes them active.
  const theirPage = await signedInAs(email)
  await expect(theirPage).toHaveURL('/my-referrals')
  await expect(theirPage.getByTestId('current-clinic')).toHaveText('Lakeview Orthopaedics')
  const [bound] = await owner.select().from(users).where(eq(users.email, email))
  expect(bound).toMatchObject({ status: 'active', idpObjectId: '00000004-0000-4000-8000-000000000004' })
})

test('the last admin cannot be disabled or demoted', async ({ signedInAs, owner }) => {
  const page = await signedInAs('admin@riverbend.test', '/admin/users')
  const me = page.getByTestId('user-admin@riverbend.test')
  await me.getByRole('button', { name: 'Disable' }).click()
  await expect(page.getByText('A clinic needs at least one active admin')).toBeVisible()
  await me.getByLabel(/Role of/).selectOption('staff')
  await me.getByRole('button', { name: 'Change' }).click()
  await expect(page.getByText('A clinic needs at least one active admin')).toBeVisible()
  const [admin] = await owner.select().from(users).where(eq(users.email, 'admin@riverbend.test'))
  expect(admin).toMatchObject({ role: 'admin', status: 'active' })
})

test('a user disabled by their admin is locked out on their very next request', async ({ signedInAs }) => {
  // A fresh referrer account, so no other test is affected.
  const admin = await signedInAs('admin@northside.test', '/admin/users')
  const row = admin.getByTestId('user-referrer2@northside.test')
  const staff = await signedInAs('referrer2@northside.test')
  await expect(staff).toHaveURL('/my-referrals')

  await row.getByRole('button', { name: 'Disable' }).click()
  await expect(row).toContainText('disabled')
  // The browser's own background request (Remix route discovery) lands first: it reads no data
  // and must not end the session, or the next page could not say why the user is out.
  const discovery = await staff.context().request.get('/__manifest?p=%2Fmy-referrals&version=x')
  expect(discovery.headers()['set-cookie'] ?? '').not.toContain('intakepilot_session')
  await staff.reload()
  await expect(staff).toHaveURL('/login?redirectTo=%2Fmy-referrals&reason=disabled')
  await expect(staff.getByText('Your account has been disabled')).toBeVisible()

  await admin.getByTestId('user-referrer2@northside.test').getByRole('button', { name: 'Enable' }).click()
  await expect(admin.getByTestId('user-referrer2@northside.test')).toContainText('active')
})
