/**
 * The integrations page's actions for webhooks (app/routes/_app.admin.integrations.tsx): each
 * form parsed by its own schema, the address checked as the courier will check it, and the
 * new or rotated secret handed back once, in the answer (never in a URL, a log or the trail).
 */
import { data, type AppLoadContext } from '@remix-run/cloudflare'
import { isProduction } from '~/utils/env.server'
import { parseForm } from '~/utils/form.server'
import { ADDRESS_REFUSED, checkWebhookUrl, resolvesPrivate } from './address'
import { CreateEndpointSchema, EndpointChangeSchema } from './endpoint-form'
import { createEndpoint, MAX_ENDPOINTS, rotateSecret, sendTestEvent, setEndpointActive } from './endpoints.server'
import { webhookSecretBox } from './secret.server'

export const webhookPolicy = (env: AppLoadContext['env']) => ({ allowLoopback: !isProduction(env) && env.WEBHOOK_ALLOW_LOOPBACK === 'true' })

/** Without the sealing key the page says webhooks are not set up, and takes no endpoint. */
export const webhooksConfigured = (env: AppLoadContext['env']) => !!env.WEBHOOK_SECRETS_KEY

const notConfigured = () => new Response('Webhooks are not set up on this IntakePilot (no WEBHOOK_SECRETS_KEY). Nothing was changed.', { status: 503 })

export async function handleCreate(formData: FormData, context: AppLoadContext, clinicId: string, userId: string) {
  const submission = parseForm(formData, CreateEndpointSchema)
  if (submission.status !== 'success') return data({ form: 'create' as const, result: submission.reply() }, { status: 400 })
  if (!webhooksConfigured(context.env)) throw notConfigured()
  const refuse = (message: string) => data({ form: 'create' as const, result: submission.reply({ fieldErrors: { url: [message] } }) }, { status: 400 })
  const checked = checkWebhookUrl(submission.value.url, webhookPolicy(context.env))
  if ('refused' in checked) return refuse(ADDRESS_REFUSED[checked.refused])
  if ((await resolvesPrivate(checked.url.hostname, context.env.WEBHOOK_DNS_RESOLVER)) === true && !webhookPolicy(context.env).allowLoopback)
    return refuse('That name resolves to a private or loopback address (or could not be looked up): use a public address')
  const box = webhookSecretBox(context.env.WEBHOOK_SECRETS_KEY!)
  const made = await createEndpoint(context, box, clinicId, userId, { url: checked.url.href, topics: submission.value.topics })
  if (made === 'too-many')
    return data(
      { form: 'create' as const, result: submission.reply({ formErrors: [`A clinic can have at most ${MAX_ENDPOINTS} endpoints: disable or reuse one.`] }) },
      { status: 409 },
    )
  return { form: 'create' as const, result: submission.reply({ resetForm: true }), secret: { endpointId: made.id, value: made.secret } }
}

export async function handleEndpointChange(formData: FormData, context: AppLoadContext, clinicId: string) {
  const submission = parseForm(formData, EndpointChangeSchema)
  if (submission.status !== 'success') return data({ form: 'change' as const, result: submission.reply() }, { status: 400 })
  const { intent, endpointId } = submission.value
  const gone = () =>
    data({ form: 'change' as const, result: submission.reply({ formErrors: ['That endpoint is not one of this clinic’s.'] }) }, { status: 404 })
  if (intent === 'rotate') {
    if (!webhooksConfigured(context.env)) throw notConfigured()
    const secret = await rotateSecret(context, webhookSecretBox(context.env.WEBHOOK_SECRETS_KEY!), clinicId, endpointId)
    if (!secret) return gone()
    return {
      form: 'change' as const,
      result: submission.reply(),
      secret: { endpointId, value: secret },
      notice: 'New secret made. The old one keeps signing for 24 hours.',
    }
  }
  const done =
    intent === 'test' ? await sendTestEvent(context, clinicId, endpointId) : await setEndpointActive(context, clinicId, endpointId, intent === 'enable')
  if (!done) return gone()
  const notice = { test: 'Test event queued: it shows in the delivery log in a few seconds.', enable: 'Enabled.', disable: 'Disabled.' }[intent]
  return { form: 'change' as const, result: submission.reply(), notice }
}
