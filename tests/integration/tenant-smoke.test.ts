import { sql } from 'drizzle-orm'
import { expect, test } from 'vitest'
import { useTestDatabase } from '../support/db'

const db = useTestDatabase()

test('db.tenant runs as the runtime role through the relay', async () => {
  const rows = await db.as({}).tenant((tx) => tx.execute(sql`select current_user as role`))
  expect(rows.rows[0]).toEqual({ role: 'intakepilot_app' })
})
