/**
 * rate_limit_hit (drizzle/0007_rate_limits.sql) is exact under concurrency: 200 simultaneous
 * hits for one key in one window admit exactly 100, over several connections at once, as the
 * runtime role (which can reach the counter table only through the function).
 */
import { randomUUID } from 'node:crypto'
import { sql } from 'drizzle-orm'
import { afterAll, describe, expect, test } from 'vitest'
import { connectDatabase } from '../../app/db/client.server'
import { useTestDatabase, sqlState } from '../support/db'

const { as, config } = useTestDatabase()
// Several pools, so the hits really race on separate connections (one pool caps its clients).
const pools = Array.from({ length: 4 }, () => connectDatabase({ url: config.appUrl, wsProxy: config.wsProxy }))
afterAll(() => Promise.all(pools.map((p) => p.end())))

type Hit = { allowed: boolean; remaining: number; reset_seconds: number }
const hit = (i: number, key: string, limit = 100) =>
  pools[i % pools.length]!.db.execute(sql`select * from rate_limit_hit(${key}, ${limit})`).then((r) => r.rows[0] as Hit)

/** All hits must land in one fixed minute: near a boundary, wait for the next minute. */
async function awayFromMinuteBoundary() {
  const second = new Date().getUTCSeconds()
  if (second > 45) await new Promise((resolve) => setTimeout(resolve, (61 - second) * 1000))
}

describe('rate_limit_hit', () => {
  test('200 concurrent hits for one key in one window: exactly 100 allowed', async () => {
    await awayFromMinuteBoundary()
    const key = `user:${randomUUID()}`
    const results = await Promise.all(Array.from({ length: 200 }, (_, i) => hit(i, key)))
    expect(results.filter((r) => r.allowed)).toHaveLength(100)
    // Remaining counts down 99..0 across the allowed hits, each exactly once.
    const remaining = results
      .filter((r) => r.allowed)
      .map((r) => r.remaining)
      .sort((a, b) => a - b)
    expect(remaining).toEqual(Array.from({ length: 100 }, (_, i) => i))
    for (const r of results) expect(r.reset_seconds).toBeGreaterThanOrEqual(1)
    for (const r of results) expect(r.reset_seconds).toBeLessThanOrEqual(60)
  }, 60_000)

  test('keys are independent', async () => {
    await awayFromMinuteBoundary()
    const [a, b] = [`ip:${randomUUID()}`, `ip:${randomUUID()}`]
    expect((await hit(0, a, 1)).allowed).toBe(true)
    expect((await hit(1, a, 1)).allowed).toBe(false)
    expect((await hit(2, b, 1)).allowed).toBe(true)
  })

  test('the runtime role cannot read or write the counters directly', async () => {
    expect(await sqlState(as({}).tenant((tx) => tx.execute(sql`select * from rate_limits`)))).toBe('42501')
    expect(await sqlState(as({}).tenant((tx) => tx.execute(sql`delete from rate_limits`)))).toBe('42501')
  })

  test('refuses an empty key or a non-positive limit', async () => {
    expect(await sqlState(hit(0, '', 100))).not.toBe('no error')
    expect(await sqlState(hit(0, 'user:x', 0))).not.toBe('no error')
  })
})
