/**
 * What is a 503 (the database away, try again) and what a 500 (a bug), on errors the real
 * driver and the real server produce, wrapped the way Drizzle wraps them; and that the error log
 * never carries a query's parameters (app/utils/failures.server.ts, log.server.ts).
 */
import { sql } from 'drizzle-orm'
import { afterEach, describe, expect, test, vi } from 'vitest'
import { connectDatabase, useLocalRelay } from '../../app/db/client.server'
import { classifyFailure, isDatabaseUnavailable } from '../../app/utils/failures.server'
import { logError } from '../../app/utils/log.server'
import { freePort } from '../support/free-port'
import { useTestDatabase } from '../support/db'

const { config, as } = useTestDatabase()
const failure = async (work: () => Promise<unknown>) => {
  try {
    await work()
  } catch (error) {
    return error
  }
  throw new Error('expected a failure')
}

describe('the database away is a 503', () => {
  test('a statement timeout (57014), as statement_timeout ends a statement that waits too long', async () => {
    const error = await failure(() =>
      as({}).tenant(async (tx) => {
        await tx.execute(sql`set local statement_timeout = '50ms'`)
        await tx.execute(sql`select pg_sleep(1)`)
      }),
    )
    expect((error as { cause?: { code?: string } }).cause?.code).toBe('57014')
    expect(isDatabaseUnavailable(error)).toBe(true)
  })

  test('a connection that the server ends (57P01) and one that cannot be made (refused)', async () => {
    const victim = connectDatabase({ url: config.directAppUrl, wsProxy: config.wsProxy })
    const owner = connectDatabase({ url: config.superuserUrl, wsProxy: config.wsProxy })
    try {
      const pid = (await victim.db.execute<{ pid: number }>(sql`select pg_backend_pid() as pid`)).rows[0]!.pid
      const ended = failure(() => victim.db.execute(sql`select pg_sleep(5)`))
      await new Promise((resolve) => setTimeout(resolve, 200))
      await owner.db.execute(sql`select pg_terminate_backend(${pid}::int)`)
      expect(isDatabaseUnavailable(await ended)).toBe(true)
    } finally {
      await victim.end().catch(() => {})
      await owner.end()
    }
    const nowhere = connectDatabase({ url: config.directAppUrl, wsProxy: `127.0.0.1:${await freePort()}` })
    const refused = await failure(() => nowhere.db.execute(sql`select 1`))
    await nowhere.end().catch(() => {})
    // The relay address is restored for the other tests (the driver's proxy setting is global).
    useLocalRelay(config.wsProxy)
    expect(isDatabaseUnavailable(refused)).toBe(true)
  })

  test.each([['08006'], ['08P01'], ['53300'], ['57P03'], ['25P03'], ['55P03']])('SQLSTATE %s, wrapped in a cause', (code) => {
    expect(classifyFailure(new Error('Failed query', { cause: Object.assign(new Error('x'), { code }) }))).toBe('unavailable')
  })
})

describe('a bug is a 500', () => {
  test('a constraint or syntax error from the real server, a plain exception', async () => {
    const syntax = await failure(() => as({}).tenant((tx) => tx.execute(sql`select * from no_such_table`)))
    expect(isDatabaseUnavailable(syntax)).toBe(false)
    expect(classifyFailure(syntax)).toBeUndefined()
    expect(classifyFailure(new TypeError("Cannot read properties of undefined (reading 'id')"))).toBeUndefined()
  })

  test("Remix's own origin refusal is a 403, not a 500", () => {
    const remix = new Error('host header does not match `origin` header from a forwarded action request. Aborting the action.')
    expect(classifyFailure(remix)).toBe('cross-site')
  })
})

describe('the error log', () => {
  afterEach(() => vi.restoreAllMocks())

  test("never carries a failed query's parameters, even when verbose (development)", async () => {
    const secret = 'Zedlagep-4F1A-951-3A3-66'
    const error = await failure(() => as({}).tenant((tx) => tx.execute(sql`select ${secret}::int`)))
    expect(String((error as Error).message)).toContain(secret)
    const lines: string[] = []
    vi.spyOn(console, 'error').mockImplementation((line: string) => void lines.push(line))
    logError('request-1', error, 'test', { verbose: true })
    expect(lines).toHaveLength(1)
    expect(lines[0]).not.toContain('Zedlagep')
    const line = JSON.parse(lines[0]!)
    expect(line).toMatchObject({ where: 'test', requestId: 'request-1', code: '22P02' })
    expect(line.message).toMatch(/^Failed query: select \$1::int \(SQLSTATE 22P02/)
    expect(line.stack).toMatch(/^\s+at /)
  })
})
