import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from '@remix-run/cloudflare'
import { data } from '@remix-run/cloudflare'
import { Form, Link, useActionData, useLoaderData, useNavigation } from '@remix-run/react'
import { requireClinic, requirePermission, requireUser } from '~/auth/guards.server'
import { GeneralErrorBoundary } from '~/components/error-boundary'
import { Button } from '~/components/ui/button'
import { EmptyRow, Table, TableBody, TableHead, Td, Th } from '~/components/ui/table'
import { isUuid } from '~/utils/keyset'
import { parseForm } from '~/utils/form.server'
import { ClinicTime } from '~/utils/use-clinic-time'
import { RedeliverSchema } from '~/webhooks/endpoint-form'
import { endpointLog, redeliver } from '~/webhooks/endpoints.server'
import { INTEGRATIONS_PAGE } from '~/webhooks/endpoints-section'
import { ERROR_WORDS, LOG_LENGTH, STATUS_WORDS } from '~/webhooks/delivery-words'

export const meta: MetaFunction = () => [{ title: 'Webhook deliveries · IntakePilot' }]

/** One endpoint's delivery log: status, response code and times, never what the receiver answered. */
export async function loader({ request, params, context }: LoaderFunctionArgs) {
  const user = requireUser(request, context)
  requirePermission(user, 'manage:integration:any')
  const clinicId = requireClinic(user)
  const log = isUuid(params.endpointId) ? await endpointLog(context, clinicId, params.endpointId) : null
  if (!log) throw new Response('There is no such webhook endpoint in this clinic.', { status: 404 })
  return {
    endpoint: log.endpoint,
    deliveries: log.deliveries.map((d) => ({
      ...d,
      createdAt: d.createdAt.toISOString(),
      lastAttemptAt: d.lastAttemptAt?.toISOString() ?? null,
      nextAttemptAt: d.nextAttemptAt.toISOString(),
      deliveredAt: d.deliveredAt?.toISOString() ?? null,
    })),
  }
}

export async function action({ request, params, context }: ActionFunctionArgs) {
  const user = requireUser(request, context)
  requirePermission(user, 'manage:integration:any')
  const clinicId = requireClinic(user)
  if (!isUuid(params.endpointId)) throw new Response('There is no such webhook endpoint in this clinic.', { status: 404 })
  const submission = parseForm(await request.formData(), RedeliverSchema)
  if (submission.status !== 'success') return data({ result: submission.reply() }, { status: 400 })
  const done = await redeliver(context, clinicId, params.endpointId, submission.value.deliveryId)
  if (!done) return data({ result: submission.reply({ formErrors: ['That delivery is not one of this endpoint’s.'] }) }, { status: 404 })
  return { result: submission.reply(), notice: 'Sent again: the log shows the outcome in a few seconds.' }
}

export default function EndpointDeliveries() {
  const { endpoint, deliveries } = useLoaderData<typeof loader>()
  const reply = useActionData<typeof action>()
  const navigation = useNavigation()
  const error = reply?.result.error?.['']
  return (
    <main className="mx-auto max-w-5xl px-4 py-8 sm:px-6">
      <p className="text-sm">
        <Link to={INTEGRATIONS_PAGE} className="text-sky-800 underline">
          Integrations
        </Link>
      </p>
      <h1 className="mt-2 text-2xl font-semibold tracking-tight">Webhook deliveries</h1>
      <p className="mt-1 font-mono text-sm break-all text-slate-700">{endpoint.url}</p>
      <p className="mt-1 text-sm text-slate-600">
        The latest {LOG_LENGTH} deliveries, newest first. A delivery is retried with backoff for 24 hours; what the receiver answered is not kept, only its
        status code. {endpoint.status === 'disabled' ? 'This endpoint is disabled: nothing is sent until it is enabled.' : ''}
      </p>
      {reply && 'notice' in reply ? (
        <p role="status" className="mt-4 rounded-md border border-emerald-300 bg-emerald-50 px-3 py-2 text-sm text-emerald-900">
          {reply.notice}
        </p>
      ) : null}
      {error?.length ? (
        <p role="alert" className="mt-4 rounded-md border border-red-300 bg-red-50 px-3 py-2 text-sm text-red-900">
          {error.join(' ')}
        </p>
      ) : null}
      <div className="mt-6">
        {/* Positioned, so that the header's screen-reader-only text is placed (and clipped) inside the scrolling card, not past the phone's edge. */}
        <Table>
          <TableHead>
            <Th>Event</Th>
            <Th>Status</Th>
            <Th>Response</Th>
            <Th>Attempts</Th>
            <Th>Created</Th>
            <Th>Last attempt</Th>
            <Th>
              <span className="sr-only">Actions</span>
            </Th>
          </TableHead>
          <TableBody>
            {deliveries.length === 0 ? <EmptyRow columns={7}>Nothing sent yet.</EmptyRow> : null}
            {deliveries.map((d) => (
              <tr key={d.id}>
                <Td className="font-mono text-xs">{d.topic}</Td>
                <Td>
                  {STATUS_WORDS[d.status]}
                  {d.status === 'pending' && d.attempts > 0 ? (
                    <span className="block text-xs text-slate-600">
                      next try <ClinicTime iso={d.nextAttemptAt} />
                    </span>
                  ) : null}
                </Td>
                <Td>{d.responseStatus ?? (d.error ? ERROR_WORDS[d.error] : '—')}</Td>
                <Td>{d.attempts}</Td>
                <Td>
                  <ClinicTime iso={d.createdAt} seconds />
                </Td>
                <Td>{d.lastAttemptAt ? <ClinicTime iso={d.lastAttemptAt} seconds /> : '—'}</Td>
                <Td>
                  <Form method="post">
                    <input type="hidden" name="deliveryId" value={d.id} />
                    <Button
                      type="submit"
                      name="intent"
                      value="redeliver"
                      disabled={navigation.state === 'submitting'}
                      aria-label={`Redeliver ${d.topic} of ${d.createdAt}`}
                    >
                      Redeliver
                    </Button>
                  </Form>
                </Td>
              </tr>
            ))}
          </TableBody>
        </Table>
      </div>
    </main>
  )
}

export function ErrorBoundary() {
  return <GeneralErrorBoundary />
}
