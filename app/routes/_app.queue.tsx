import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from '@remix-run/cloudflare'
import { data } from '@remix-run/cloudflare'
import { getFormProps, getInputProps, useForm } from '@conform-to/react'
import { Form, Link, useActionData, useLoaderData, useNavigation } from '@remix-run/react'
import { requireClinic, requirePhiPermission, requireUser } from '~/auth/guards.server'
import { GeneralErrorBoundary } from '~/components/error-boundary'
import { LiveQueueNotice, useLiveQueue } from '~/live/live-queue'
import { FieldError, useLazyValidation } from '~/components/forms'
import { Button, buttonClass } from '~/components/ui/button'
import { Input } from '~/components/ui/control'
import { Field } from '~/components/ui/field'
import { PatientSearchSchema } from '~/referrals/patient-search'
import { DEFAULT_TURNAROUND_HOURS, readQueueView, type QueueView } from '~/referrals/queue'
import { QueueFilters, QueueViews } from '~/referrals/queue-filters'
import { QueueShortcuts } from '~/referrals/queue-shortcuts'
import { QueueTable } from '~/referrals/queue-table'
import { queueUrl } from '~/referrals/queue-url'
import { QueueWorkBar, QueueWorkResults } from '~/referrals/queue-work'
import { queueAction } from '~/referrals/queue-actions.server'
import { patientMatch, queuePageWithPeople, type QueueFilter } from '~/referrals/queue.server'
import { showReferralList } from '~/referrals/referral-list.server'
import type { TenantTx } from '~/tenancy/tenant.server'
import type { AppLoadContext } from '@remix-run/cloudflare'
import { clinicTimeZone } from '~/utils/clinic-time'
import { parseForm } from '~/utils/form.server'

export const meta: MetaFunction = () => [{ title: 'Queue · IntakePilot' }]
export const handle = { phi: true }

export async function loader({ request, context }: LoaderFunctionArgs) {
  const user = requireUser(request, context)
  await requirePhiPermission(context, user, 'read:referral:any', { action: 'referral.list' })
  const clinicId = requireClinic(user)
  // A hand-edited address: what can be used still is, and the page says what could not (400).
  const { view, problems } = readQueueView(new URL(request.url))
  const queue = await loadQueue(context, clinicId, user.id, view)
  return data({ ...queue, problems }, { status: problems.length ? 400 : 200 })
}

export async function action({ request, context }: ActionFunctionArgs) {
  const user = requireUser(request, context)
  const clinicId = requireClinic(user)
  const formData = await request.formData()
  // Work on the selection and the saved views name their form; the patient search does not.
  if (formData.has('intent')) return queueAction(context, user, clinicId, formData, readQueueView(new URL(request.url)).view)
  // A refused search is recorded as one, without its terms.
  await requirePhiPermission(context, user, 'read:referral:any', { action: 'referral.list', details: { search: true } })
  const submission = parseForm(formData, PatientSearchSchema)
  if (submission.status !== 'success') return data({ search: submission.reply(), results: null }, { status: 400 })
  const match = await patientMatch(context.phi, clinicId, submission.value)
  const results = await loadQueue(context, clinicId, user.id, { ...readQueueView(new URL(request.url)).view, status: 'all', cursor: undefined }, match)
  // The search terms go back only as the form's own state, never into the URL.
  return { search: submission.reply(), results }
}

async function loadQueue(context: AppLoadContext, clinicId: string, me: string, view: QueueView, match?: QueueFilter) {
  return context.db.tenant(async (tx: TenantTx) => {
    const { rows, next, people, total, more, savedViews } = await queuePageWithPeople(tx, view, me, clinicId, clinicTimeZone(context.clinic?.settings), match)
    const targets = { ...DEFAULT_TURNAROUND_HOURS, ...context.clinic?.settings.turnaroundHours }
    const names = new Map(people.map((p) => [p.id, p.displayName]))
    // The list shows patient names: one audit row names every referral shown.
    const items = await showReferralList(tx, context, { rows, shows: 'name-and-dob', kind: { search: !!match } }, (row, patient) => ({
      id: row.id,
      version: row.version,
      referenceNumber: row.referenceNumber,
      patient: `${patient.lastName ?? '—'}, ${patient.firstName ?? ''}`.trim(),
      dob: patient.dob,
      status: row.status,
      priority: row.priority,
      receivedAt: row.receivedAt.toISOString(),
      ageDays: Math.floor((Date.now() - row.receivedAt.getTime()) / 86_400_000),
      // Against the clinic's turnaround target for its priority: overdue until it is triaged.
      targetHours: targets[row.priority],
      overdue: !row.triagedAt && Date.now() - row.receivedAt.getTime() > targets[row.priority] * 3_600_000,
      assignee: row.assignedTo ? (names.get(row.assignedTo) ?? 'Someone') : null,
      assignedToMe: row.assignedTo === me,
      // A referrer typed in by staff has no account: their name is on the referral; an EHR system's is its registration's (decision 061).
      referrer: row.referrerName ?? (row.submittedBy ? names.get(row.submittedBy) : undefined) ?? row.submittedByIntegrationName ?? 'Unknown',
      entered: row.channel,
      duplicate: !!row.possibleDuplicateOf,
      replyReceived: !!row.replyReceivedAt,
    }))
    const referrers = people
      .filter((p) => p.role === 'referrer')
      .map((p) => ({ id: p.id, name: `${p.displayName}${p.organization ? ` (${p.organization})` : ''}` }))
    const assignees = people.filter((p) => p.role !== 'referrer' && p.status === 'active').map((p) => ({ id: p.id, name: p.displayName }))
    return { view, items, next, total, more, referrers, assignees, savedViews }
  })
}

export default function Queue() {
  // What the live queue brought since the page loaded, else the page's own data (docs/decisions/045-live-queue.md).
  const { data, notice } = useLiveQueue(useLoaderData<typeof loader>())
  const { view, items, next, total, more, referrers, assignees, savedViews, problems } = data
  const actionData = useActionData<typeof action>()
  const navigation = useNavigation()
  const results = actionData && 'results' in actionData ? actionData.results : null
  const work = actionData && 'work' in actionData ? actionData.work : null
  const shown = results?.items ?? items
  const [searchForm, searchFields] = useForm({
    id: 'patient-search',
    lastResult: actionData && 'search' in actionData ? actionData.search : undefined,
    ...useLazyValidation(
      () => import('~/referrals/patient-search'),
      (m, formData) => m.validatePatientSearch(formData),
      { shouldRevalidate: 'onInput' },
    ),
  })
  return (
    <main className="mx-auto max-w-7xl px-4 py-8 sm:px-6">
      <div className="flex flex-wrap items-end justify-between gap-4">
        <div>
          <h1 className="text-2xl font-semibold tracking-tight">Queue</h1>
          <p className="mt-1 text-slate-600">Referrals to triage and work. Opening a referral is recorded in its access history.</p>
        </div>
        <QueueShortcuts />
      </div>

      {problems.length ? (
        <div role="alert" className="mt-4 rounded-md border border-amber-300 bg-amber-50 px-3 py-2 text-sm text-amber-900">
          <p>Some of the view in the address could not be used and was left out:</p>
          <ul className="mt-1 list-disc pl-5">
            {problems.map((p) => (
              <li key={p}>{p}</li>
            ))}
          </ul>
        </div>
      ) : null}

      <QueueViews views={savedViews} current={queueUrl({ ...view, cursor: undefined }).replace(/^\/queue\??/, '')} saveErrors={work?.viewErrors} />
      {work?.viewMessage ? (
        <p role="status" className="mt-2 text-sm text-emerald-800">
          {work.viewMessage}
        </p>
      ) : null}

      <QueueFilters view={view} referrers={referrers}>
        {/* items-start: the reference box keeps its own height instead of a gap above its label when the patient search wraps. */}
        <div className="mt-3 grid items-start gap-3 lg:grid-cols-2">
          <Form method="get" className="flex items-end gap-2 rounded-lg border border-slate-200 bg-white p-4 text-sm" aria-label="Find by reference number">
            <Field
              label="Reference number"
              className="grow"
              inputProps={{ id: 'find-ref', name: 'ref', defaultValue: view.ref ?? '', placeholder: 'NOR-7K3M9PX' }}
              controlClassName="uppercase"
            />
            <Button type="submit">Find</Button>
          </Form>
          <Form method="post" {...getFormProps(searchForm)} className="rounded-lg border border-slate-200 bg-white p-4" aria-label="Find a patient">
            {/* One row of boxes; their errors under the row, where they do not push the boxes apart. */}
            <div className="flex flex-wrap items-end gap-2">
              <label htmlFor={searchFields.healthCard.id} className="text-sm font-medium">
                Health card
                <Input {...getInputProps(searchFields.healthCard, { type: 'text' })} autoComplete="off" className="mt-1 block w-40" />
              </label>
              <span className="pb-2 text-sm text-slate-600">or</span>
              <label htmlFor={searchFields.lastName.id} className="text-sm font-medium">
                Last name
                <Input {...getInputProps(searchFields.lastName, { type: 'text' })} autoComplete="off" className="mt-1 block w-36" />
              </label>
              <label htmlFor={searchFields.dob.id} className="text-sm font-medium">
                Date of birth
                <Input {...getInputProps(searchFields.dob, { type: 'date' })} className="mt-1 block" />
              </label>
              <Button type="submit">Search patients</Button>
            </div>
            <FieldError id={searchFields.healthCard.errorId} errors={searchFields.healthCard.errors} />
            <FieldError id={searchFields.lastName.errorId} errors={searchFields.lastName.errors} />
            <FieldError id={searchFields.dob.errorId} errors={searchFields.dob.errors} />
            <FieldError id={searchForm.errorId} errors={searchForm.errors} />
          </Form>
        </div>
      </QueueFilters>

      {results ? (
        <p role="status" className="mt-4 text-sm text-slate-700">
          {results.items.length} referral{results.items.length === 1 ? '' : 's'} for this patient, any status.{' '}
          <Link to={queueUrl(view)} className="text-brand-700 underline">
            Back to the queue
          </Link>
        </p>
      ) : null}

      {work?.report ? <QueueWorkResults report={work.report} /> : null}
      <QueueWorkBar assignees={assignees} errors={work?.errors} />
      <p id="queue-total" className="mt-3 text-sm text-slate-700" data-testid="queue-total">
        {results
          ? `${results.items.length} found`
          : more
            ? `More than ${total.toLocaleString('en-CA')} referrals in this view`
            : `${total.toLocaleString('en-CA')} referral${total === 1 ? '' : 's'} in this view`}
      </p>
      {!results ? <LiveQueueNotice {...notice} /> : null}
      <QueueTable view={view} items={shown} busy={navigation.state === 'loading'} selectable />
      {!results ? (
        <nav className="mt-4 flex justify-between text-sm" aria-label="Pages">
          {view.cursor ? (
            <Link to={queueUrl({ ...view, cursor: undefined })} className="text-brand-700 underline">
              First page
            </Link>
          ) : (
            <span />
          )}
          {next ? (
            <Link to={queueUrl({ ...view, cursor: next })} className={buttonClass()}>
              Next page
            </Link>
          ) : null}
        </nav>
      ) : null}
    </main>
  )
}

export function ErrorBoundary() {
  return <GeneralErrorBoundary />
}
