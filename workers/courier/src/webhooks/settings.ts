/**
 * The webhooks channel's bindings (names start WEBHOOK_: scripts/lib/app-server.ts passes them).
 */
import { isProduction } from '~/utils/env.server'
import type { AddressPolicy } from '~/webhooks/address'
import { webhookSecretBox, type WebhookSecretBox } from '~/webhooks/secret.server'
import type { CourierEnv } from '../env'

export type WebhookEnv = CourierEnv & {
  /** Base64 32-byte key sealing each endpoint's signing secret; the app has the same one. */
  WEBHOOK_SECRETS_KEY?: string
  /** 'true' lets the local stack and the tests send to loopback over http; ignored in production. */
  WEBHOOK_ALLOW_LOOPBACK?: string
  /** A DNS-over-HTTPS JSON resolver (https://cloudflare-dns.com/dns-query): names that resolve private are refused. */
  WEBHOOK_DNS_RESOLVER?: string
  /** Milliseconds a receiver has to answer (default 10 000, at most 30 000). */
  WEBHOOK_TIMEOUT_MS?: string
}

export type WebhookSettings = {
  box: WebhookSecretBox
  policy: AddressPolicy
  resolver: string | undefined
  timeoutMs: number
}

/** null: the channel is not configured (no key), and takes events without sending anything. */
export function webhookSettings(env: WebhookEnv): WebhookSettings | null {
  if (!env.WEBHOOK_SECRETS_KEY) return null
  const timeout = Number(env.WEBHOOK_TIMEOUT_MS)
  return {
    box: webhookSecretBox(env.WEBHOOK_SECRETS_KEY),
    policy: { allowLoopback: !isProduction(env) && env.WEBHOOK_ALLOW_LOOPBACK === 'true' },
    resolver: env.WEBHOOK_DNS_RESOLVER || undefined,
    timeoutMs: Number.isInteger(timeout) && timeout > 0 ? Math.min(timeout, 30_000) : 10_000,
  }
}
