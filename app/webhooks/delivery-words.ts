/** A delivery's state in words, for the delivery log (browser-safe). */
import type { WebhookDeliveryError, WebhookDeliveryStatus } from '~/db/schema'

/** The delivery log shows this many of an endpoint's latest deliveries. */
export const LOG_LENGTH = 50

export const STATUS_WORDS: Record<WebhookDeliveryStatus, string> = { pending: 'Waiting', delivered: 'Delivered', failed: 'Failed (gave up after 24 hours)' }

export const ERROR_WORDS: Record<WebhookDeliveryError, string> = {
  timeout: 'No answer in time',
  network: 'Could not connect',
  address: 'Address refused (private or not HTTPS)',
  redirect: 'Redirected (not followed)',
  status: 'Error status',
  disabled: 'Endpoint disabled',
}
