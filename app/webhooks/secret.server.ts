/**
 * An endpoint's signing secret: made here, shown to the admin once, and kept sealed under
 * WEBHOOK_SECRETS_KEY (a Worker secret the app and the courier share, never the PHI keys), bound
 * to its clinic and endpoint by AES-GCM's additional data (docs/decisions/043-signed-webhooks.md).
 */
import type { SealedWebhookSecret } from '~/db/schema'

/** Standard Webhooks' shape: `whsec_` and base64 of 24 random bytes (192 bits). */
export function newWebhookSecret(): string {
  return `whsec_${toBase64(crypto.getRandomValues(new Uint8Array(24)))}`
}

export type WebhookSecretBox = {
  seal(secret: string, where: { clinicId: string; endpointId: string }): Promise<SealedWebhookSecret>
  open(sealed: SealedWebhookSecret, where: { clinicId: string; endpointId: string }): Promise<string>
}

export function webhookSecretBox(keyBase64: string): WebhookSecretBox {
  const raw = fromBase64(keyBase64)
  if (raw.length !== 32) throw new Error('WEBHOOK_SECRETS_KEY must be a base64 key of 32 bytes')
  const key = crypto.subtle.importKey('raw', raw, 'AES-GCM', false, ['encrypt', 'decrypt'])
  const aad = (where: { clinicId: string; endpointId: string }) => new TextEncoder().encode(`${where.clinicId}|${where.endpointId}|webhook-secret`)
  return {
    async seal(secret, where) {
      const iv = crypto.getRandomValues(new Uint8Array(12))
      const ct = await crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData: aad(where) }, await key, new TextEncoder().encode(secret))
      return { v: 1, iv: toBase64(iv), ct: toBase64(new Uint8Array(ct)) }
    },
    async open(sealed, where) {
      const plain = await crypto.subtle.decrypt({ name: 'AES-GCM', iv: fromBase64(sealed.iv), additionalData: aad(where) }, await key, fromBase64(sealed.ct))
      return new TextDecoder().decode(plain)
    },
  }
}

const toBase64 = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes))
const fromBase64 = (text: string) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0))
