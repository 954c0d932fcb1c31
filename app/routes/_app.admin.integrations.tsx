import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from '@remix-run/cloudflare'
import { useActionData, useLoaderData } from '@remix-run/react'
import { requireClinic, requirePermission, requireUser } from '~/auth/guards.server'
import { GeneralErrorBoundary } from '~/components/error-boundary'
import { EhrIntegrationsSection } from '~/integrations/ehr-integrations-section'
import { clinicIntegrations } from '~/integrations/integrations.server'
import { defaultTenantId, EHR_INTENTS, handleRegister, handleRevoke } from '~/integrations/integrations-page.server'
import { ENDPOINT_INTENTS } from '~/webhooks/endpoint-form'
import { clinicEndpoints } from '~/webhooks/endpoints.server'
import { WebhooksSection } from '~/webhooks/endpoints-section'
import { handleCreate, handleEndpointChange, webhooksConfigured } from '~/webhooks/integrations.server'

export const meta: MetaFunction = () => [{ title: 'Integrations · IntakePilot' }]

/**
 * The clinic's integrations with its other systems: webhook endpoints
 * (docs/decisions/043-signed-webhooks.md) and EHR systems with app-only tokens
 * (docs/decisions/058-ehr-integrations-app-only-tokens.md). Each form posts an `intent`; nothing
 * here reads PHI.
 */
export async function loader({ request, context }: LoaderFunctionArgs) {
  const user = requireUser(request, context)
  requirePermission(user, 'manage:integration:any')
  const clinicId = requireClinic(user)
  const [endpoints, integrations] = await Promise.all([clinicEndpoints(context, clinicId), clinicIntegrations(context, clinicId)])
  return {
    configured: webhooksConfigured(context.env),
    defaultTenantId: defaultTenantId(context.env),
    integrations: integrations.map((i) => ({ ...i, createdAt: i.createdAt.toISOString(), revokedAt: i.revokedAt?.toISOString() ?? null })),
    endpoints: endpoints.map((e) => ({
      ...e,
      disabledAt: e.disabledAt?.toISOString() ?? null,
      failingSince: e.failingSince?.toISOString() ?? null,
    })),
  }
}

export async function action({ request, context }: ActionFunctionArgs) {
  const user = requireUser(request, context)
  requirePermission(user, 'manage:integration:any')
  const clinicId = requireClinic(user)
  const formData = await request.formData()
  const intent = formData.get('intent')
  if (intent === 'create') return handleCreate(formData, context, clinicId, user.id)
  if (ENDPOINT_INTENTS.includes(intent as never)) return handleEndpointChange(formData, context, clinicId)
  if (intent === EHR_INTENTS[0]) return handleRegister(formData, context, clinicId, user.id)
  if (intent === EHR_INTENTS[1]) return handleRevoke(formData, context, clinicId, user.id)
  throw new Response('This form was sent with a button it does not have. Reload the page and try again.', { status: 400 })
}

export default function IntegrationsPage() {
  const { configured, endpoints, integrations, defaultTenantId } = useLoaderData<typeof loader>()
  const reply = useActionData<typeof action>()
  const notice = reply && 'notice' in reply ? reply.notice : null
  const changeError = reply?.form === 'change' ? reply.result.error?.[''] : null
  return (
    <main className="mx-auto max-w-3xl px-4 py-8 sm:px-6">
      <h1 className="text-2xl font-semibold tracking-tight">Integrations</h1>
      <p className="mt-2 text-slate-600">
        How this clinic&apos;s other systems hear from IntakePilot, and talk to it. Every change here is recorded in the audit trail.
      </p>
      {notice ? (
        <p role="status" className="mt-4 rounded-md border border-emerald-300 bg-emerald-50 px-3 py-2 text-sm text-emerald-900">
          {notice}
        </p>
      ) : null}
      {changeError?.length ? (
        <p role="alert" className="mt-4 rounded-md border border-red-300 bg-red-50 px-3 py-2 text-sm text-red-900">
          {changeError.join(' ')}
        </p>
      ) : null}
      <div className="mt-6 space-y-6">
        <WebhooksSection
          endpoints={endpoints}
          configured={configured}
          secret={reply && 'secret' in reply ? reply.secret : undefined}
          createResult={reply?.form === 'create' ? reply.result : undefined}
        />
        <EhrIntegrationsSection
          integrations={integrations}
          defaultTenantId={defaultTenantId}
          registerResult={reply?.form === 'register-ehr' ? reply.result : undefined}
        />
      </div>
    </main>
  )
}

export function ErrorBoundary() {
  return <GeneralErrorBoundary />
}
