import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from '@remix-run/cloudflare'
import { data } from '@remix-run/cloudflare'
import { getFormProps, getInputProps, useForm } from '@conform-to/react'
import { Form, Link, useActionData, useLoaderData, useNavigation } from '@remix-run/react'
import { requireClinic, requirePhiPermission, requireUser } from '~/auth/guards.server'
import { FieldError, useLazyValidation } from '~/components/forms'
import { DuplicateBadge, PriorityBadge, STATUS_LABELS, StatusBadge } from '~/referrals/referral-badges'
import { referralPriorities, referralStatuses } from '~/db/enums'
import { PatientSearchSchema } from '~/referrals/patient-search'
import { DEFAULT_TURNAROUND_HOURS, readQueueView, type QueueView } from '~/referrals/queue'
import { queueUrl, SORTS } from '~/referrals/queue-url'
import { clinicPeople, patientMatch, queuePage, type QueueFilter } from '~/referrals/queue.server'
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
    const [{ rows, next }, people] = [await queuePage(tx, view, me, match), await clinicPeople(tx, clinicId)]
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
      referrer: names.get(row.submittedBy) ?? 'Unknown',
      duplicate: !!row.possibleDuplicateOf,
    }))
    const referrers = people.filter((p) => p.role === 'referrer').map((p) => ({ id: p.id, name: `${p.displayName}${p.organization ? ` (${p.organization})` : ''}` }))
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
    ...useLazyValidation(() => import('~/referrals/patient-search'), (m, formData) => m.validatePatientSearch(formData), { shouldRevalidate: 'onInput' }),
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

      <Form method="get" className="mt-6 grid gap-3 rounded-lg border border-slate-200 bg-white p-4 sm:grid-cols-4 lg:grid-cols-8" aria-label="Filters">
        <Select name="status" label="Status" value={view.status} options={[['open', 'Open'], ['all', 'All'], ...referralStatuses.map((s) => [s, STATUS_LABELS[s]] as [string, string])]} />
        <Select name="priority" label="Priority" value={view.priority ?? ''} options={[['', 'Any'], ...referralPriorities.map((p) => [p, p[0]!.toUpperCase() + p.slice(1)] as [string, string])]} />
        <Select name="assignee" label="Assigned to" value={view.assignee} options={[['anyone', 'Anyone'], ['me', 'Me'], ['unassigned', 'Unassigned']]} />
        <Select name="referrer" label="Referrer" value={view.referrer ?? ''} options={[['', 'Any'], ...referrers.map((r) => [r.id, r.name] as [string, string])]} />
        <DateInput name="from" label="Received from" value={view.from} />
        <DateInput name="to" label="Received to" value={view.to} />
        <Select name="sort" label="Sort" value={view.sort} options={Object.entries(SORTS)} />
        <div className="flex items-end gap-2">
          <button type="submit" className="rounded-md bg-brand-700 px-3 py-2 text-sm font-medium text-white hover:bg-brand-800">
            Apply
          </button>
          <Link to="/queue" className="rounded-md px-2 py-2 text-sm text-slate-600 underline">
            Reset
          </Link>
        </div>
      </Form>

      <div className="mt-3 grid gap-3 lg:grid-cols-2">
        <Form method="get" className="flex items-end gap-2 rounded-lg border border-slate-200 bg-white p-4" aria-label="Find by reference number">
          <label className="grow text-sm font-medium">
            Reference number
            <input name="ref" defaultValue={view.ref ?? ''} placeholder="NOR-7K3M9PX" className="mt-1 block w-full rounded-md border border-slate-300 px-2 py-1.5 uppercase" />
          </label>
          <button type="submit" className="rounded-md border border-slate-300 px-3 py-1.5 text-sm font-medium hover:bg-slate-50">Find</button>
        </Form>
        <Form method="post" {...getFormProps(searchForm)} className="rounded-lg border border-slate-200 bg-white p-4" aria-label="Find a patient">
          <div className="flex flex-wrap items-end gap-2">
            <label htmlFor={searchFields.healthCard.id} className="text-sm font-medium">
              Health card
              <input {...getInputProps(searchFields.healthCard, { type: 'text' })} autoComplete="off" className="mt-1 block w-40 rounded-md border border-slate-300 px-2 py-1.5" />
            </label>
            <span className="pb-2 text-sm text-slate-500">or</span>
            <label htmlFor={searchFields.lastName.id} className="text-sm font-medium">
              Last name
              <input {...getInputProps(searchFields.lastName, { type: 'text' })} autoComplete="off" className="mt-1 block w-36 rounded-md border border-slate-300 px-2 py-1.5" />
            </label>
            <label htmlFor={searchFields.dob.id} className="text-sm font-medium">
              Date of birth
              <input {...getInputProps(searchFields.dob, { type: 'date' })} className="mt-1 block rounded-md border border-slate-300 px-2 py-1.5" />
            </label>
            <button type="submit" className="rounded-md border border-slate-300 px-3 py-1.5 text-sm font-medium hover:bg-slate-50">Search patients</button>
          </div>
          <FieldError id={searchFields.healthCard.errorId} errors={searchFields.healthCard.errors} />
          <FieldError id={searchFields.dob.errorId} errors={searchFields.dob.errors} />
        </Form>
      </div>

      {results ? (
        <p role="status" className="mt-4 text-sm text-slate-700">
          {results.items.length} referral{results.items.length === 1 ? '' : 's'} for this patient, any status.{' '}
          <Link to={queueUrl(view)} className="text-brand-700 underline">Back to the queue</Link>
        </p>
      ) : null}

      <div className={`mt-4 overflow-x-auto rounded-lg border border-slate-200 bg-white ${navigation.state === 'loading' ? 'opacity-60' : ''}`}>
        <table className="w-full text-left text-sm">
          <thead className="bg-slate-50 text-slate-500">
            <tr>
              <th className="px-4 py-2 font-medium">Patient</th>
              <th className="px-4 py-2 font-medium">Reference</th>
              <th className="px-4 py-2 font-medium">Priority</th>
              <th className="px-4 py-2 font-medium">Status</th>
              <th className="px-4 py-2 font-medium">Received</th>
              <th className="px-4 py-2 font-medium">Assigned</th>
              <th className="px-4 py-2 font-medium">Referrer</th>
            </tr>
          </thead>
          <tbody className="divide-y divide-slate-100">
            {shown.map((item) => (
              <tr key={item.id} className="hover:bg-slate-50" data-testid="queue-row">
                <td className="px-4 py-2">
                  <Link to={`/referrals/${item.id}`} className="font-medium text-brand-800 hover:underline">{item.patient}</Link>
                  {item.dob ? <div className="text-xs text-slate-500">DOB {item.dob}</div> : null}
                  {item.duplicate ? <div className="mt-1"><DuplicateBadge /></div> : null}
                </td>
                <td className="px-4 py-2 font-mono text-xs">{item.referenceNumber}</td>
                <td className="px-4 py-2"><PriorityBadge priority={item.priority} /></td>
                <td className="px-4 py-2"><StatusBadge status={item.status} /></td>
                <td className="px-4 py-2 whitespace-nowrap">
                  {item.receivedAt.slice(0, 10)}
                  <div className="text-xs text-slate-500">
                    {item.ageDays === 0 ? 'today' : `${item.ageDays} d ago`} · target {item.targetHours < 48 ? `${item.targetHours} h` : `${Math.round(item.targetHours / 24)} d`}
                  </div>
                  {item.overdue ? <div className="mt-0.5 text-xs font-semibold text-red-700" data-testid="overdue">Overdue for triage</div> : null}
                </td>
                <td className="px-4 py-2">{item.assignee ?? <span className="text-slate-400">Unassigned</span>}</td>
                <td className="px-4 py-2 text-slate-600">{item.referrer}</td>
              </tr>
            ))}
            {shown.length === 0 ? (
              <tr>
                <td colSpan={7} className="px-4 py-10 text-center text-slate-500">No referrals match this view.</td>
              </tr>
            ) : null}
          </tbody>
        </table>
      </div>
      {!results ? (
        <nav className="mt-4 flex justify-between text-sm" aria-label="Pages">
          {view.cursor ? <Link to={queueUrl({ ...view, cursor: undefined })} className="text-brand-700 underline">First page</Link> : <span />}
          {next ? <Link to={queueUrl({ ...view, cursor: next })} className="rounded-md border border-slate-300 bg-white px-3 py-1.5 font-medium hover:bg-slate-50">Next page</Link> : null}
        </nav>
      ) : null}
    </main>
  )
}

function Select({ name, label, value, options }: { name: string; label: string; value: string; options: [string, string][] }) {
  return (
    <label className="text-sm font-medium">
      {label}
      <select name={name} defaultValue={value} className="mt-1 block w-full rounded-md border border-slate-300 px-2 py-1.5">
        {options.map(([v, text]) => (
          <option key={v} value={v}>{text}</option>
        ))}
      </select>
    </label>
  )
}

function DateInput({ name, label, value }: { name: string; label: string; value?: string }) {
  return (
    <label className="text-sm font-medium">
      {label}
      <input type="date" name={name} defaultValue={value ?? ''} className="mt-1 block w-full rounded-md border border-slate-300 px-2 py-1.5" />
    </label>
  )
}
