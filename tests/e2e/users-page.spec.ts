/**
 * The users page says what it does: no email goes out, so the form adds a user ("Add user"),
 * and the list says who has not signed in yet. An earlier error of the add form never stays
 * on screen next to a later "Saved." of a change to a member, with JavaScript or without.
 */
import AxeBuilder from '@axe-core/playwright'
import { sql } from 'drizzle-orm'
import { expect, test } from './fixtures'

const ADMIN = 'admin@lakeview.test'

test.beforeEach(async ({ owner }) => {
  await owner.execute(sql`delete from rate_limits where key in (select 'user:' || id from users where email = ${ADMIN})`)
})

for (const javaScriptEnabled of [true, false]) {
  test(`an add-user error is gone once a later change is saved (${javaScriptEnabled ? 'with' : 'without'} JavaScript)`, async ({ signedInAs }) => {
    const page = await signedInAs(ADMIN, '/admin/users', { javaScriptEnabled })
    const main = page.getByRole('main')
    await expect(main.getByRole('heading', { name: 'Add a user' })).toBeVisible()
    await expect(main.getByText('No email is sent')).toBeVisible()
    await expect(main).not.toContainText(/invitation/i)

    await main.getByLabel('Email').fill('not-an-email')
    await main.getByLabel('Name').fill('Someone New')
    await main.getByRole('button', { name: 'Add user' }).click()
    await expect(main.getByLabel('Email')).toHaveAttribute('aria-invalid', 'true')
    // At the field, and in the form's error summary.
    await expect(main.getByText('Enter a valid email address').first()).toBeVisible()

    // A change to a member (the same role again: it is saved and recorded, and harms nobody's tests).
    const row = main.getByTestId('user-referrer@lakeview.test')
    await row.getByRole('button', { name: 'Change' }).click()
    await expect(main.getByRole('status')).toHaveText('Saved.')
    await expect(main.getByText('Enter a valid email address')).toHaveCount(0)
    await expect(main.getByRole('alert')).toHaveCount(0)
    await expect(main.getByLabel('Email')).not.toHaveAttribute('aria-invalid', 'true')
    if (javaScriptEnabled) {
      const { violations } = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa']).analyze()
      expect(violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => v.id)).toEqual([])
    }
  })
}
