import { expect, test } from './fixtures'

const NOT_AN_ENDPOINT = 'Enter an http:// or https:// address'
const CLINIC_FIELD = "The clinic's default model server"

test('an address that is not a model server is refused next to its field, in the form that sent it; nothing is saved', async ({ signedInAs }) => {
  const page = await signedInAs('admin@riverbend.test', '/settings/ai')
  const before = await page.getByTestId('ai-endpoint').textContent()
  await page.getByLabel('Your model server').fill('ftp://files.example')
  await page.getByRole('button', { name: 'Save mine' }).click()
  await expect(page.locator('#my-endpoint + [role=alert]')).toContainText(NOT_AN_ENDPOINT)
  await expect(page.locator('#clinic-endpoint + [role=alert]')).toHaveCount(0)
  await page.getByLabel(CLINIC_FIELD).fill('javascript:alert(1)')
  await page.getByRole('button', { name: 'Save for the clinic' }).click()
  await expect(page.locator('#clinic-endpoint + [role=alert]')).toContainText(NOT_AN_ENDPOINT)
  await page.reload()
  await expect(page.getByTestId('ai-endpoint')).toHaveText(before!)
})

test.describe('without JavaScript', () => {
  test('the server refuses it the same way and keeps what was typed', async ({ signedInAs }) => {
    const page = await signedInAs('admin@riverbend.test', '/settings/ai', { javaScriptEnabled: false })
    await page.getByLabel(CLINIC_FIELD).fill('http://user:secret@models.example/v1')
    await page.getByRole('button', { name: 'Save for the clinic' }).click()
    await expect(page.locator('#clinic-endpoint + [role=alert]')).toContainText(NOT_AN_ENDPOINT)
    await expect(page.locator('#my-endpoint + [role=alert]')).toHaveCount(0)
    await expect(page.getByLabel(CLINIC_FIELD)).toHaveValue('http://user:secret@models.example/v1')
  })
})
