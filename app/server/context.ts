import type { Env } from './env.server'
import type { TenantDatabase } from '~/tenancy/tenant.server'

/** What every loader and action receives as `context` (built once per request by the pipeline). */
declare module '@remix-run/cloudflare' {
  interface AppLoadContext {
    env: Env
    requestId: string
    /** CSP nonce for this response's scripts. */
    nonce: string
    db: TenantDatabase
    waitUntil: (promise: Promise<unknown>) => void
  }
}

export {}
