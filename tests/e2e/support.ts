import { expect, type Page } from '@playwright/test'
import { APP_URL, IDP_URL } from '../../playwright.config'

export const PASSWORD = 'intakepilot'

/**
 * What a browser sends with every form it posts from one of our pages. Playwright's request API
 * sends no Origin, and a state-changing request that carries the session cookie without one is
 * refused as cross-site (app/server/csrf.server.ts).
 */
export const SAME_ORIGIN = { Origin: APP_URL }

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
