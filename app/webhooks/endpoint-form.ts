/**
 * The integrations page's webhook forms (browser-safe): one schema per form. Topics are one
 * checkbox each, with a field name of their own (a dotted topic name would be a conform path).
 */
import { z } from 'zod'
import { webhookTopics, type WebhookTopic } from '~/db/schema'

export const TOPICS: readonly { topic: WebhookTopic; field: string; label: string }[] = [
  { topic: 'referral.created', field: 'created', label: 'A referral arrives (referral.created)' },
  { topic: 'referral.status_changed', field: 'statusChanged', label: 'Its status changes (referral.status_changed)' },
  { topic: 'referral.assigned', field: 'assigned', label: 'It is assigned (referral.assigned)' },
  { topic: 'referral.question_asked', field: 'questionAsked', label: 'The clinic asks the referrer a question (referral.question_asked)' },
  { topic: 'referral.replied', field: 'replied', label: 'The referrer replies (referral.replied)' },
  { topic: 'document.added', field: 'documentAdded', label: 'A document is attached (document.added)' },
]
// The list above must name every topic the outbox has.
void (webhookTopics satisfies readonly (typeof TOPICS)[number]['topic'][])

const box = z.literal('on').optional()

/** The fields as sent (conform's constraints are read from this: a transform has none). */
export const CreateEndpointFields = z.object({
  intent: z.literal('create'),
  url: z
    .string({ error: 'Enter the address of the endpoint' })
    .trim()
    .min(1, 'Enter the address of the endpoint')
    .max(2000, 'Use an address of at most 2,000 characters'),
  ...Object.fromEntries(TOPICS.map((t) => [t.field, box])),
})

export const CreateEndpointSchema = CreateEndpointFields.transform((form, ctx) => {
  const topics = TOPICS.filter((t) => (form as Record<string, unknown>)[t.field] === 'on').map((t) => t.topic)
  if (topics.length === 0) ctx.addIssue({ code: 'custom', path: [TOPICS[0]!.field], message: 'Choose at least one event to send' })
  return { url: form.url, topics }
})

export const ENDPOINT_INTENTS = ['rotate', 'disable', 'enable', 'test'] as const
export const EndpointChangeSchema = z.object({ intent: z.enum(ENDPOINT_INTENTS), endpointId: z.uuid() })
export const RedeliverSchema = z.object({ intent: z.literal('redeliver'), deliveryId: z.uuid() })
