import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from '@remix-run/cloudflare'
import { data } from '@remix-run/cloudflare'
import { getFormProps, getInputProps, useForm } from '@conform-to/react'
import { Form, Link, useActionData, useLoaderData, useNavigation } from '@remix-run/react'
import { requireClinic, requirePhiPermission, requireUser } from '~/auth/guards.server'
import { GeneralErrorBoundary } from '~/components/error-boundary'
import { FieldError, useLazyValidation } from '~/components/forms'
import { Button, buttonClass } from '~/components/ui/button'
import { Input } from '~/components/ui/control'
import { DateField, Field, filterProps, SelectField } from '~/components/ui/field'
import { EmptyRow, Table, TableBody, TableHead, Td, Th } from '~/components/ui/table'
import { DuplicateBadge, EnteredBadge, PriorityBadge, STATUS_LABELS, StatusBadge } from '~/referrals/referral-badges'
import { referralPriorities, referralStatuses } from '~/db/enums'
import { PatientSearchSchema } from '~/referrals/patient-search'
import { DEFAULT_TURNAROUND_HOURS, readQueueView, type QueueView } from '~/referrals/queue'
import { queueUrl, SORTS } from '~/referrals/queue-url'
import { patientMatch, queuePageWithPeople, type QueueFilter } from '~/referrals/queue.server'
import { showReferralList } from '~/referrals/referral-list.server'
import type { TenantTx } from '~/tenancy/tenant.server'
import type { AppLoadContext } from '@remix-run/cloudflare'
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
  // A refused search is recorded as one, without its terms.
  await requirePhiPermission(context, user, 'read:referral:any', { action: 'referral.list', details: { search: true } })
  const clinicId = requireClinic(user)
  const submission = parseForm(await request.formData(), PatientSearchSchema)
  if (submission.status !== 'success') return data({ search: submission.reply(), results: null }, { status: 400 })
  const match = await patientMatch(context.phi, clinicId, submission.value)
  const results = await loadQueue(context, clinicId, user.id, { ...readQueueView(new URL(request.url)).view, status: 'all', cursor: undefined }, match)
  // The search terms go back only as the form's own state, never into the URL.
  return { search: submission.reply(), results }
}

async function loadQueue(context: AppLoadContext, clinicId: string, me: string, view: QueueView, match?: QueueFilter) {
  return context.db.tenant(async (tx: TenantTx) => {
    const { rows, next, people } = await queuePageWithPeople(tx, view, me, clinicId, match)
    const targets = { ...DEFAULT_TURNAROUND_HOURS, ...context.clinic?.settings.turnaroundHours }
    const names = new Map(people.map((p) => [p.id, p.displayName]))
    // The list shows patient names: one audit row names every referral shown.
    const items = await showReferralList(tx, context, { rows, shows: 'name-and-dob', kind: { search: !!match } }, (row, patient) => ({
      id: row.id,
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
      // A referrer typed in by staff has no account: their name is on the referral.
      referrer: row.referrerName ?? (row.submittedBy ? names.get(row.submittedBy) : undefined) ?? 'Unknown',
      entered: row.channel,
      duplicate: !!row.possibleDuplicateOf,
    }))
    const referrers = people
      .filter((p) => p.role === 'referrer')
      .map((p) => ({ id: p.id, name: `${p.displayName}${p.organization ? ` (${p.organization})` : ''}` }))
    return { view, items, next, referrers }
  })
}

export default function Queue() {
  const { view, items, next, referrers, problems } = useLoaderData<typeof loader>()
  const actionData = useActionData<typeof action>()
  const navigation = useNavigation()
  const results = actionData?.results
  const shown = results?.items ?? items
  const [searchForm, searchFields] = useForm({
    id: 'patient-search',
    lastResult: actionData?.search,
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

      <Form method="get" className="mt-6 grid gap-3 rounded-lg border border-slate-200 bg-white p-4 text-sm sm:grid-cols-4 lg:grid-cols-8" aria-label="Filters">
        <SelectField
          label="Status"
          selectProps={filterProps('status', view.status)}
          options={[['open', 'Open'], ['all', 'All'], ...referralStatuses.map((s) => [s, STATUS_LABELS[s]] as const)]}
        />
        <SelectField
          label="Priority"
          selectProps={filterProps('priority', view.priority)}
          options={[['', 'Any'], ...referralPriorities.map((p) => [p, p[0]!.toUpperCase() + p.slice(1)] as const)]}
        />
        <SelectField
          label="Assigned to"
          selectProps={filterProps('assignee', view.assignee)}
          options={[
            ['anyone', 'Anyone'],
            ['me', 'Me'],
            ['unassigned', 'Unassigned'],
          ]}
        />
        <SelectField
          label="Referrer"
          selectProps={filterProps('referrer', view.referrer)}
          options={[['', 'Any'], ...referrers.map((r) => [r.id, r.name] as const)]}
        />
        <DateField label="Received from" inputProps={filterProps('from', view.from)} />
        <DateField label="Received to" inputProps={filterProps('to', view.to)} />
        <SelectField label="Sort" selectProps={filterProps('sort', view.sort)} options={Object.entries(SORTS)} />
        <div className="flex items-end gap-2">
          <Button type="submit" variant="primary" size="md">
            Apply
          </Button>
          <Link to="/queue" className="rounded-md px-2 py-2 text-sm text-slate-600 underline">
            Reset
          </Link>
        </div>
      </Form>

      <div className="mt-3 grid gap-3 lg:grid-cols-2">
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
            <span className="pb-2 text-sm text-slate-500">or</span>
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

      {results ? (
        <p role="status" className="mt-4 text-sm text-slate-700">
          {results.items.length} referral{results.items.length === 1 ? '' : 's'} for this patient, any status.{' '}
          <Link to={queueUrl(view)} className="text-brand-700 underline">
            Back to the queue
          </Link>
        </p>
      ) : null}

      <Table className="mt-4" busy={navigation.state === 'loading'}>
        <TableHead>
          <Th>Patient</Th>
          <Th>Reference</Th>
          <Th>Priority</Th>
          <Th>Status</Th>
          <Th>Received</Th>
          <Th>Assigned</Th>
          <Th>Referrer</Th>
        </TableHead>
        <TableBody>
          {shown.map((item) => (
            <tr key={item.id} className="hover:bg-slate-50" data-testid="queue-row">
              <Td>
                <Link to={`/referrals/${item.id}`} className="font-medium text-brand-800 hover:underline">
                  {item.patient}
                </Link>
                {item.dob ? <div className="text-xs text-slate-500">DOB {item.dob}</div> : null}
                {item.duplicate || item.entered ? (
                  <div className="mt-1 flex flex-wrap gap-1">
                    {item.duplicate ? <DuplicateBadge /> : null}
                    {item.entered ? <EnteredBadge channel={item.entered} /> : null}
                  </div>
                ) : null}
              </Td>
              <Td className="font-mono text-xs">{item.referenceNumber}</Td>
              <Td>
                <PriorityBadge priority={item.priority} />
              </Td>
              <Td>
                <StatusBadge status={item.status} />
              </Td>
              <Td className="whitespace-nowrap">
                {item.receivedAt.slice(0, 10)}
                <div className="text-xs text-slate-500">
                  {item.ageDays === 0 ? 'today' : `${item.ageDays} d ago`} · target{' '}
                  {item.targetHours < 48 ? `${item.targetHours} h` : `${Math.round(item.targetHours / 24)} d`}
                </div>
                {item.overdue ? (
                  <div className="mt-0.5 text-xs font-semibold text-red-700" data-testid="overdue">
                    Overdue for triage
                  </div>
                ) : null}
              </Td>
              <Td>{item.assignee ?? <span className="text-slate-400">Unassigned</span>}</Td>
              <Td className="text-slate-600">{item.referrer}</Td>
            </tr>
          ))}
          {shown.length === 0 ? <EmptyRow columns={7}>No referrals match this view.</EmptyRow> : null}
        </TableBody>
      </Table>
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
