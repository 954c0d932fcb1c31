/**
 * The integrations page's webhooks section: the clinic's endpoints, each with its buttons, an
 * endpoint the courier disabled called out at the top, a new secret shown once, and the form
 * that adds an endpoint. Every button is a plain form: it all works without JavaScript.
 */
import { getFormProps, getInputProps, useForm, type SubmissionResult } from '@conform-to/react'
import { getZodConstraint, parseWithZod } from '@conform-to/zod/v4'
import { Form, Link, useNavigation } from '@remix-run/react'
import { ErrorSummary } from '~/components/forms'
import { Button } from '~/components/ui/button'
import { CheckboxesField, Field } from '~/components/ui/field'
import type { WebhookTopic } from '~/db/schema'
import { ClinicTime } from '~/utils/use-clinic-time'
import { CreateEndpointFields, CreateEndpointSchema, TOPICS } from './endpoint-form'

export const INTEGRATIONS_PAGE = '/admin/integrations'

export type EndpointSummary = {
  id: string
  url: string
  topics: WebhookTopic[]
  status: 'active' | 'disabled'
  disabledReason: 'failing' | 'admin' | null
  disabledAt: string | null
  failingSince: string | null
  consecutiveFailures: number
  /** Disabled for failing: how the emails to the clinic's admins went (null otherwise). */
  adminsTold: { pending: number; sent: number; failed: number } | null
}

export function WebhooksSection({
  endpoints,
  configured,
  secret,
  createResult,
}: {
  endpoints: EndpointSummary[]
  configured: boolean
  secret?: { endpointId: string; value: string }
  createResult?: SubmissionResult<string[]>
}) {
  const failing = endpoints.filter((e) => e.status === 'disabled' && e.disabledReason === 'failing')
  return (
    <section aria-labelledby="webhooks-heading" className="rounded-lg border border-slate-200 bg-white p-4">
      <h2 id="webhooks-heading" className="text-lg font-semibold">
        Webhooks
      </h2>
      <p className="mt-1 text-sm text-slate-600">
        IntakePilot tells your other systems when something happens to a referral: an HTTPS POST, signed as the Standard Webhooks specification says, that
        carries ids, statuses and times only, never patient information. Your system then reads the details through the API with its own token. Failed
        deliveries are retried for 24 hours.
      </p>
      {!configured ? (
        <p role="status" className="mt-3 rounded-md border border-amber-300 bg-amber-50 px-3 py-2 text-sm text-amber-900">
          Webhooks are not set up on this IntakePilot yet: ask whoever runs it to set WEBHOOK_SECRETS_KEY.
        </p>
      ) : null}
      {failing.length ? (
        <div role="alert" className="mt-3 rounded-md border border-red-300 bg-red-50 px-3 py-2 text-sm text-red-900">
          {failing.length === 1 ? 'An endpoint was' : `${failing.length} endpoints were`} disabled after failing for 24 hours:{' '}
          {failing.map((e) => e.url).join(', ')}. Fix the receiver, then enable it: the deliveries it missed within their 24 hours are sent.
          <ul className="mt-1 list-disc pl-5">
            {failing.map((e) => (
              <li key={e.id}>
                <span className="break-all">{hostOf(e.url)}</span>: <AdminsToldWords told={e.adminsTold} />
              </li>
            ))}
          </ul>
        </div>
      ) : null}
      {secret ? <SecretOnce secret={secret.value} /> : null}
      <EndpointList endpoints={endpoints} />
      {configured ? <AddEndpointForm lastResult={createResult} /> : null}
    </section>
  )
}

/** The clinic's admins are emailed when the courier disables an endpoint (drizzle/0032). */
function AdminsToldWords({ told }: { told: EndpointSummary['adminsTold'] }) {
  if (!told || told.pending + told.sent + told.failed === 0) return <>no admin could be emailed (none is active, or all turned these emails off).</>
  const parts = [
    told.sent ? `emailed to ${told.sent} ${told.sent === 1 ? 'admin' : 'admins'}` : null,
    told.pending ? `${told.pending} ${told.pending === 1 ? 'email' : 'emails'} to admins waiting to send` : null,
    told.failed ? `${told.failed} ${told.failed === 1 ? 'email' : 'emails'} to admins could not be sent` : null,
  ].filter(Boolean)
  return (
    <>
      {parts.join('; ')} (see{' '}
      <Link to="/admin/email" className="underline">
        Email sent
      </Link>
      ).
    </>
  )
}

const hostOf = (url: string) => {
  try {
    return new URL(url).host
  } catch {
    return url
  }
}

function SecretOnce({ secret }: { secret: string }) {
  return (
    <div role="status" className="mt-4 rounded-md border border-emerald-300 bg-emerald-50 p-3 text-sm text-emerald-950">
      <p className="font-medium">Copy this signing secret now: it is shown only this once.</p>
      <p className="mt-1">Your receiver verifies each delivery's webhook-signature header with it. To get a new one, rotate the secret.</p>
      <label htmlFor="webhook-secret" className="mt-2 block text-xs font-medium">
        Signing secret
      </label>
      <input id="webhook-secret" readOnly value={secret} className="mt-1 w-full rounded-md border border-emerald-400 bg-white px-2 py-1 font-mono text-xs" />
    </div>
  )
}

function EndpointList({ endpoints }: { endpoints: EndpointSummary[] }) {
  if (endpoints.length === 0) return <p className="mt-4 text-sm text-slate-600">No endpoints yet.</p>
  return (
    <ul className="mt-4 space-y-3">
      {endpoints.map((e) => (
        <li key={e.id} className="rounded-md border border-slate-200 p-3">
          <p className="font-mono text-sm break-all">{e.url}</p>
          <p className="mt-1 text-sm text-slate-700">
            <StatusWords endpoint={e} />
          </p>
          <p className="mt-1 text-xs text-slate-600">Sends: {e.topics.join(', ')}</p>
          <div className="mt-2 flex flex-wrap gap-2">
            <Link to={`${INTEGRATIONS_PAGE}/${e.id}`} className="rounded-md px-2 py-1 text-sm text-sky-800 underline">
              Delivery log<span className="sr-only"> of {e.url}</span>
            </Link>
            <EndpointButton endpoint={e} intent="test" label="Send test event" />
            <EndpointButton endpoint={e} intent="rotate" label="Rotate secret" />
            {e.status === 'active' ? (
              <EndpointButton endpoint={e} intent="disable" label="Disable" />
            ) : (
              <EndpointButton endpoint={e} intent="enable" label="Enable" />
            )}
          </div>
        </li>
      ))}
    </ul>
  )
}

function StatusWords({ endpoint: e }: { endpoint: EndpointSummary }) {
  if (e.status === 'disabled')
    return (
      <>
        <strong>Disabled</strong> {e.disabledReason === 'failing' ? 'after failing for 24 hours' : 'by an admin'}
        {e.disabledAt ? (
          <>
            {' '}
            on <ClinicTime iso={e.disabledAt} />
          </>
        ) : null}
      </>
    )
  if (e.failingSince)
    return (
      <>
        <strong>Active, failing</strong> since <ClinicTime iso={e.failingSince} /> ({e.consecutiveFailures} failed{' '}
        {e.consecutiveFailures === 1 ? 'attempt' : 'attempts'})
      </>
    )
  return <strong>Active</strong>
}

function EndpointButton({ endpoint, intent, label }: { endpoint: EndpointSummary; intent: 'test' | 'rotate' | 'disable' | 'enable'; label: string }) {
  const navigation = useNavigation()
  return (
    <Form method="post" action={INTEGRATIONS_PAGE}>
      <input type="hidden" name="endpointId" value={endpoint.id} />
      <Button type="submit" name="intent" value={intent} disabled={navigation.state === 'submitting'} aria-label={`${label}: ${endpoint.url}`}>
        {label}
      </Button>
    </Form>
  )
}

function AddEndpointForm({ lastResult }: { lastResult?: SubmissionResult<string[]> }) {
  const navigation = useNavigation()
  const [form, fields] = useForm({
    id: 'add-endpoint',
    lastResult,
    constraint: getZodConstraint(CreateEndpointFields),
    onValidate: ({ formData }) => parseWithZod(formData, { schema: CreateEndpointSchema }),
    shouldRevalidate: 'onInput',
  })
  const first = fields[TOPICS[0]!.field as 'url']
  return (
    <div className="mt-6 border-t border-slate-200 pt-4">
      <h3 className="font-semibold">Add an endpoint</h3>
      <ErrorSummary form={form} />
      <Form method="post" action={INTEGRATIONS_PAGE} {...getFormProps(form)} className="mt-3 space-y-4">
        <input type="hidden" name="intent" value="create" />
        <Field
          label="Endpoint address (HTTPS)"
          inputProps={{ ...getInputProps(fields.url, { type: 'url' }), placeholder: 'https://ehr.example.org/intakepilot-webhooks' }}
          errors={fields.url.errors}
        />
        <CheckboxesField
          legend="Events to send"
          idPrefix={form.id}
          options={TOPICS.map((t) => ({ name: t.field, label: t.label, defaultChecked: t.topic === 'referral.status_changed' }))}
          errorId={first.errorId}
          errors={first.errors}
        />
        <Button type="submit" variant="primary" disabled={navigation.state === 'submitting'}>
          Add endpoint
        </Button>
      </Form>
    </div>
  )
}
