import { expect, type Page } from '@playwright/test'
import { IDP_URL } from '../../playwright.config'

export const PASSWORD = 'intakepilot'

/** Signs in through the real flow: our sign-in page -> the provider's page -> back. */
export async function signIn(page: Page, email: string, path = '/') {
  await page.goto(path)
  await expect(page).toHaveURL(/\/login\?redirectTo=/)
  await page.getByRole('button', { name: 'Sign in with Microsoft' }).click()
  await expect(page).toHaveURL(new RegExp(`^${IDP_URL}/`))
  await page.locator('input[name=login]').fill(email)
  await page.locator('input[name=password]').fill(PASSWORD)
  await page.locator('form button[type=submit]').first().click()
}

export async function revokeAtProvider(email: string) {
  const response = await fetch(`${IDP_URL}/__dev/revoke`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ email }),
  })
  expect(response.ok).toBe(true)
}
