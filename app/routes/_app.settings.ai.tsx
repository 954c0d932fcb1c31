import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from '@remix-run/cloudflare'
import { data, redirect } from '@remix-run/cloudflare'
import { Form, useActionData, useLoaderData } from '@remix-run/react'
import { eq, sql } from 'drizzle-orm'
import { DEFAULT_AI_ENDPOINT } from '~/ai/endpoint'
import { aiEndpointFor, normalizeEndpoint, saveMyAiEndpoint } from '~/ai/endpoint.server'
import { requireClinic, requireCurrentClinic, requirePermission, requireUser } from '~/auth/guards.server'
import { hasPermission } from '~/auth/permissions'
import { GeneralErrorBoundary } from '~/components/error-boundary'
import { clinics } from '~/db/schema'

export const meta: MetaFunction = () => [{ title: 'AI settings · IntakePilot' }]

export async function loader({ request, context }: LoaderFunctionArgs) {
  const user = requireUser(request, context)
  requirePermission(user, 'generate:summary:any')
  const clinic = requireCurrentClinic(context)
  return { current: aiEndpointFor(user, clinic.settings), clinicEndpoint: clinic.settings.localAiEndpoint ?? '', isAdmin: hasPermission(user, 'manage:user:any') }
}

/** A staff member's own endpoint (kept with their user: the model runs on their machine) or, for admins, the clinic's. */
export async function action({ request, context }: ActionFunctionArgs) {
  const user = requireUser(request, context)
  requirePermission(user, 'generate:summary:any')
  const clinicId = requireClinic(user)
  const form = await request.formData()
  const raw = String(form.get('endpoint') ?? '').trim()
  const endpoint = raw ? normalizeEndpoint(raw) : null
  if (raw && !endpoint) return data({ error: 'Enter an http:// or https:// address, e.g. http://localhost:1234/v1' }, { status: 400 })
  if (form.get('scope') === 'clinic') {
    requirePermission(user, 'manage:user:any')
    await context.db.tenant((tx) =>
      tx
        .update(clinics)
        .set({ settings: endpoint ? sql`${clinics.settings} || ${JSON.stringify({ localAiEndpoint: endpoint })}::jsonb` : sql`${clinics.settings} - 'localAiEndpoint'` })
        .where(eq(clinics.id, clinicId)),
    )
    throw redirect('/settings/ai')
  }
  await context.db.tenant((tx) => saveMyAiEndpoint(tx, endpoint))
  throw redirect('/settings/ai')
}

export default function AiSettings() {
  const { current, clinicEndpoint, isAdmin } = useLoaderData<typeof loader>()
  const actionData = useActionData<typeof action>()
  return (
    <main className="mx-auto max-w-2xl px-4 py-8 sm:px-6">
      <h1 className="text-2xl font-semibold tracking-tight">AI summaries</h1>
      <p className="mt-2 text-slate-600">
        Summaries are made by a model running on your own computer (LM Studio or another OpenAI-compatible server). Your browser sends the
        referral to it directly; patient information never goes to IntakePilot&apos;s servers or anyone else for this.
      </p>
      <p className="mt-4 text-sm">
        Now used: <span className="font-mono" data-testid="ai-endpoint">{current.endpoint}</span> ({current.source === 'you' ? 'your setting' : current.source === 'clinic' ? 'the clinic’s setting' : 'LM Studio’s default'})
      </p>
      {actionData?.error ? <p role="alert" className="mt-4 rounded-md border border-red-300 bg-red-50 px-3 py-2 text-sm text-red-900">{actionData.error}</p> : null}
      <Form method="post" className="mt-6 space-y-2 rounded-lg border border-slate-200 bg-white p-4">
        <input type="hidden" name="scope" value="me" />
        <label htmlFor="my-endpoint" className="block text-sm font-medium">Your model server</label>
        <input id="my-endpoint" name="endpoint" placeholder={DEFAULT_AI_ENDPOINT} defaultValue={current.source === 'you' ? current.endpoint : ''} className="block w-full rounded-md border border-slate-300 px-2 py-1.5 font-mono text-sm" />
        <p className="text-xs text-slate-500">Kept with your account, wherever you sign in. Leave empty to use the clinic&apos;s setting.</p>
        <button type="submit" className="rounded-md bg-brand-700 px-3 py-1.5 text-sm font-medium text-white">Save mine</button>
      </Form>
      {isAdmin ? (
        <Form method="post" className="mt-4 space-y-2 rounded-lg border border-slate-200 bg-white p-4">
          <input type="hidden" name="scope" value="clinic" />
          <label htmlFor="clinic-endpoint" className="block text-sm font-medium">The clinic&apos;s default model server</label>
          <input id="clinic-endpoint" name="endpoint" placeholder={DEFAULT_AI_ENDPOINT} defaultValue={clinicEndpoint} className="block w-full rounded-md border border-slate-300 px-2 py-1.5 font-mono text-sm" />
          <button type="submit" className="rounded-md border border-slate-300 px-3 py-1.5 text-sm font-medium">Save for the clinic</button>
        </Form>
      ) : null}
    </main>
  )
}

export function ErrorBoundary() {
  return <GeneralErrorBoundary />
}
