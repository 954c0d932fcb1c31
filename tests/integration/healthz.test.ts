/**
 * /healthz answers in time even when the database hangs (accepts the connection, says nothing):
 * `npm start`'s watchdog restarts an app that does not answer within 5 s, and a hung database is
 * not a hung app. Real driver, real relay, a real socket that never answers.
 */
import { createServer, type Socket } from 'node:net'
import { expect, test } from 'vitest'
import { connectDatabase } from '../../app/db/client.server'
import { loader } from '../../app/routes/healthz'
import { createTenantDatabase, NO_SCOPE } from '../../app/tenancy/tenant.server'
import { startRelay } from '../../scripts/lib/ws-relay'
import { useTestDatabase } from '../support/db'
import { freePort } from '../support/free-port'

const database = useTestDatabase()

type Args = Parameters<typeof loader>[0]
async function healthz(db: ReturnType<typeof connectDatabase>['db']) {
  const started = performance.now()
  const response = await loader({
    context: { db: createTenantDatabase(db, NO_SCOPE) },
    request: new Request('http://app/healthz'),
    params: {},
  } as unknown as Args)
  return { status: response.status, body: await response.json(), ms: performance.now() - started, retryAfter: response.headers.get('Retry-After') }
}

const sockets: Socket[] = []
// Never closed: the driver reports a connection that ends while it is still connecting as an
// 'error' event nobody can listen to; the worker process ends with the file and takes it along.
const silent = createServer((socket) => void sockets.push(socket))

test('control: with the database there, 200 at once', async () => {
  const live = connectDatabase({ url: database.config.appUrl, wsProxy: database.config.wsProxy })
  try {
    const answer = await healthz(live.db)
    expect(answer).toMatchObject({ status: 200, body: { status: 'ok', db: 'ok' } })
    expect(answer.ms).toBeLessThan(1_500)
  } finally {
    await live.end()
  }
})

test('a database that hangs: 503 within about 2 s (well inside the watchdog 5 s timeout)', async () => {
  const port = await freePort()
  await new Promise<void>((resolve) => silent.listen(port, '127.0.0.1', resolve))
  const relay = await startRelay({ port: await freePort(), targets: [{ port }] })
  const hanging = connectDatabase({ url: `postgres://intakepilot_app:x@127.0.0.1:${port}/intakepilot`, wsProxy: `127.0.0.1:${relay.port}` })
  const answer = await healthz(hanging.db)
  expect(answer).toMatchObject({ status: 503, retryAfter: '5', body: { code: 'UNAVAILABLE', db: 'timeout' } })
  expect(answer.ms).toBeGreaterThan(1_900)
  expect(answer.ms).toBeLessThan(3_000)
  expect(sockets.length).toBeGreaterThan(0) // it really was waiting on the silent server
})
