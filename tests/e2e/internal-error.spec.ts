/**
 * A real internal failure, from the outside: a referral whose stored ciphertext no longer
 * decrypts (it fails closed: decision 007). The API answers 500 with the request id and nothing else;
 * the page shows the error boundary with the same request id. Neither shows a stack, the
 * exception's message or any PHI.
 */
import { randomUUID } from 'node:crypto'
import { eq } from 'drizzle-orm'
import { referrals } from '../../app/db/schema'
import { bearer, expect, go, LEAKS, referralBody, test, token } from './fixtures'

// Riverbend: no other spec opens this clinic's newest referral in full (the queue only decrypts names).
const REFERRER = 'referrer@riverbend.test'
const STAFF = 'staff@riverbend.test'

test('a referral that no longer decrypts: 500 with only the request id, from the API and on the page', async ({ request, signedInAs, owner }) => {
  const referrer = await token(REFERRER)
  const body = await referralBody(request, referrer)
  const created = await request.post('/api/v1/referrals', { headers: { ...bearer(referrer), 'Idempotency-Key': randomUUID() }, data: body })
  expect(created.status(), await created.text()).toBe(201)
  const { id } = (await created.json()).data as { id: string }
  const phi = Object.values(body.data).filter((v): v is string => typeof v === 'string' && v.length > 3)

  const [row] = await owner.select({ formData: referrals.formData }).from(referrals).where(eq(referrals.id, id))
  const stored = row!.formData
  expect(stored.health_card_number).toMatchObject({ v: 1, ct: expect.any(String) })
  try {
    // What someone with database access might do: move a ciphertext to another field of the
    // same row. The field is bound into the authenticated data, so it no longer decrypts.
    // (A field the queue does not show: lists keep working for everyone else.)
    await owner
      .update(referrals)
      .set({ formData: { ...stored, health_card_number: stored.patient_phone } })
      .where(eq(referrals.id, id))

    const staff = await token(STAFF)
    const api = await request.get(`/api/v1/referrals/${id}`, { headers: bearer(staff) })
    const text = await api.text()
    expect(api.status(), text).toBe(500)
    expect(api.headers()['content-type']).toContain('application/json')
    const requestId = api.headers()['x-request-id']
    expect(requestId).toMatch(/^[0-9a-f-]{36}$/)
    expect(JSON.parse(text)).toEqual({ error: expect.any(String), code: 'INTERNAL', details: { requestId } })
    expect(text).not.toMatch(LEAKS)
    for (const value of phi) expect(text).not.toContain(value)

    // The page: the error boundary, inside the signed-in shell, with the request id to quote.
    const page = await signedInAs(STAFF, `/referrals/${id}`)
    await expect(page.getByRole('alert')).toBeVisible()
    const response = (await go(page, `/referrals/${id}`))!
    expect(response.status()).toBe(500)
    const pageRequestId = response.headers()['x-request-id']!
    const alert = page.getByRole('alert')
    await expect(alert.getByRole('heading', { level: 1 })).toHaveText('Something went wrong')
    await expect(alert.locator('code')).toHaveText(pageRequestId)
    const html = await response.text()
    expect(html).not.toMatch(LEAKS)
    for (const value of phi) expect(html).not.toContain(value)
    await expect(page.locator('body')).not.toContainText(body.data.patient_last_name as string)
  } finally {
    await owner.update(referrals).set({ formData: stored }).where(eq(referrals.id, id))
  }
  // Put back, it opens again: the 500 came from the stored value, nothing else.
  const again = await request.get(`/api/v1/referrals/${id}`, { headers: bearer(await token(STAFF)) })
  expect(again.status()).toBe(200)
})
