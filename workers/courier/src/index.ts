/**
 * intakepilot-courier: the companion Worker (docs/decisions/038-outbox-and-courier-worker.md).
 * - `scheduled` (the Cron Trigger): the safety net, every minute.
 * - `fetch` POST /drain: the app's poke after a change, through its service binding; nothing
 *   else reaches it (a service binding is not on the internet; workers_dev is off).
 * - `ClinicLive`: each clinic's live queue, bound to the app as CLINIC_LIVE.
 */
import { connectDatabase } from '~/db/client.server'
import type { CourierContext } from './channel'
import { drain } from './drain'
import { emailChannel } from './email'
import type { CourierEnv } from './env'
import { liveChannel } from './live'
import { webhooksChannel } from './webhooks'

export { ClinicLive } from './live/clinic-live'

const CHANNELS = [liveChannel, emailChannel, webhooksChannel] as const

async function run(env: CourierEnv, ctx: ExecutionContext) {
  if (env.COURIER_PAUSED === '1') return
  const { db, end } = connectDatabase({ url: env.DATABASE_URL, wsProxy: env.DATABASE_WS_PROXY })
  const context: CourierContext = { env, db, waitUntil: (promise) => ctx.waitUntil(promise) }
  try {
    return await drain(context, CHANNELS)
  } finally {
    await end()
  }
}

/**
 * One run at a time in this isolate: a burst of changes pokes once per change, and each run would
 * hold a database connection of its own. A poke during a run asks for one more run after it.
 */
let running: Promise<void> | null = null
let again = false
function runCoalesced(env: CourierEnv, ctx: ExecutionContext): Promise<void> {
  if (running) {
    again = true
    return running
  }
  running = (async () => {
    do {
      again = false
      await run(env, ctx).catch((error: unknown) => console.warn(`[courier] run failed: ${error instanceof Error ? error.name : 'error'}`))
    } while (again)
  })().finally(() => (running = null))
  return running
}

export default {
  async fetch(request, env, ctx) {
    const { pathname } = new URL(request.url)
    if (pathname === '/drain' && request.method === 'POST') {
      // Answered at once; the run goes on after the answer, so the app never waits for it.
      ctx.waitUntil(runCoalesced(env, ctx))
      return new Response(null, { status: 202 })
    }
    if (pathname === '/healthz') return new Response('ok')
    return new Response('Not found', { status: 404 })
  },
  async scheduled(_controller, env, ctx) {
    await runCoalesced(env, ctx)
  },
} satisfies ExportedHandler<CourierEnv>
