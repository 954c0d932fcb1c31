import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from '@remix-run/cloudflare'
import { data } from '@remix-run/cloudflare'
import { getFormProps, getInputProps, getSelectProps, useForm } from '@conform-to/react'
import { getZodConstraint, parseWithZod } from '@conform-to/zod/v4'
import { Form, Link, useActionData, useLoaderData, useNavigation } from '@remix-run/react'
import { z } from 'zod'
import { AUDIT_ACTION_CODES, actionLabel } from '~/audit/actions'
import { auditPage, clinicMembers, verifyAuditChain } from '~/audit/audit-log.server'
import { AuditRows } from '~/audit/audit-rows'
import { Pager } from '~/audit/audit-ui'
import { AuditExportSchema, auditUrl, EXPORT_FORMATS, parseAuditView } from '~/audit/audit-view'
import { requireClinic, requireCurrentClinic, requirePermission, requireUser } from '~/auth/guards.server'
import { hasPermission } from '~/auth/permissions'
import { GeneralErrorBoundary } from '~/components/error-boundary'
import { Button } from '~/components/ui/button'
import { DateField, Field, filterProps, SelectField } from '~/components/ui/field'
import { auditOutcomes } from '~/db/enums'
import { clinicDay, clinicTimeZone, zoneAbbreviation } from '~/utils/clinic-time'
import { parseForm } from '~/utils/form.server'
import { useClinicTimeZone } from '~/utils/use-clinic-time'

export const meta: MetaFunction = () => [{ title: 'Audit trail · IntakePilot' }]

const VerifySchema = z.object({ intent: z.literal('verify') })

// Reading the trail shows ids, names and reference numbers, never PHI, so it is not itself
// recorded; exports and checks are.
export async function loader({ request, context }: LoaderFunctionArgs) {
  const user = requireUser(request, context)
  requirePermission(user, 'read:audit-log:any')
  const clinicId = requireClinic(user)
  const zone = clinicTimeZone(requireCurrentClinic(context).settings)
  const { view, ignored } = parseAuditView(new URL(request.url))
  const { page, members } = await context.db.tenant(async (tx) => ({
    page: await auditPage(tx, clinicId, view, zone),
    members: await clinicMembers(tx, clinicId),
  }))
  // Filters it could not use: the page still shows, says which, and answers 400.
  return data(
    {
      view,
      ignored,
      ...page,
      members,
      canVerify: hasPermission(user, 'verify:audit-log:any'),
      canExport: hasPermission(user, 'export:audit-log:any'),
      // The clinic's today, not UTC's: after 19:00 in Toronto, UTC is already tomorrow.
      today: clinicDay(Date.now(), zone),
    },
    { status: ignored.length ? 400 : 200 },
  )
}

export async function action({ request, context }: ActionFunctionArgs) {
  const user = requireUser(request, context)
  requirePermission(user, 'verify:audit-log:any')
  const clinicId = requireClinic(user)
  const submission = parseForm(await request.formData(), VerifySchema)
  if (submission.status !== 'success')
    return data({ check: null, refused: 'This check was sent with fields it does not have. Reload the page and try again.' }, { status: 400 })
  const check = await context.db.tenant(async (tx) => {
    const result = await verifyAuditChain(tx, clinicId)
    await context.audit(tx, {
      action: 'audit.verify',
      entityType: 'audit_log',
      outcome: result.ok ? 'success' : 'error',
      details: { checked: result.checked, brokenSeq: result.brokenSeq },
    })
    return result
  })
  return { check, refused: null }
}

export default function AuditTrail() {
  const { view, ignored, rows, next, members, canVerify, canExport } = useLoaderData<typeof loader>()
  const navigation = useNavigation()
  const zone = useClinicTimeZone()
  return (
    <main className="mx-auto max-w-7xl px-4 py-8 sm:px-6">
      <h1 className="text-2xl font-semibold tracking-tight">Audit trail</h1>
      <p className="mt-1 text-slate-600">
        Every access to patient information and every change, in the order recorded. Entries hold ids only; the names and reference numbers shown are looked up
        as you read. Times and days are the clinic&apos;s, in {zone} ({zoneAbbreviation(zone)}).
      </p>
      {ignored.length ? (
        <p role="alert" className="mt-4 rounded-md border border-amber-300 bg-amber-50 px-3 py-2 text-sm text-amber-900">
          Some filters in the address were not understood and were ignored: {ignored.join(', ')}.
        </p>
      ) : null}

      <div className="mt-6 grid gap-4 lg:grid-cols-2">
        {canVerify ? <VerifyPanel /> : null}
        {canExport ? <ExportPanel /> : null}
      </div>

      <Form
        method="get"
        key={auditUrl({ ...view, cursor: undefined })}
        className="mt-4 grid gap-3 rounded-lg border border-slate-200 bg-white p-4 sm:grid-cols-3 lg:grid-cols-7"
        aria-label="Filters"
      >
        <DateField label="From" inputProps={filterProps('from', view.from)} />
        <DateField label="To" inputProps={filterProps('to', view.to)} />
        <SelectField
          label="User"
          selectProps={filterProps('actor', view.actor)}
          options={[['', 'Anyone'], ...members.map((m) => [m.id, `${m.displayName} (${m.role})`] as const)]}
        />
        <SelectField
          label="Action"
          selectProps={filterProps('action', view.action)}
          options={[['', 'Any'], ...AUDIT_ACTION_CODES.map((a) => [a, `${a} · ${actionLabel(a)}`] as const)]}
        />
        <SelectField label="Outcome" selectProps={filterProps('outcome', view.outcome)} options={[['', 'Any'], ...auditOutcomes.map((o) => [o, o] as const)]} />
        <Field
          label="Reference number"
          inputProps={{ ...filterProps('reference', view.reference), autoComplete: 'off', placeholder: 'NOR-7K3M9PX' }}
          controlClassName="font-mono text-xs"
        />
        {/* A referral's own link (its id) keeps its filter while the others change. */}
        {view.referral ? <input type="hidden" name="referral" value={view.referral} /> : null}
        <div className="flex items-end gap-2">
          <Button type="submit" variant="primary" size="md">
            Apply
          </Button>
          <Link to="/admin/audit" className="rounded-md px-2 py-2 text-sm text-slate-600 underline">
            Reset
          </Link>
        </div>
      </Form>
      {view.referral ? (
        <p className="mt-2 text-sm text-slate-600" data-testid="referral-filter">
          Showing one referral&apos;s entries (<span className="font-mono text-xs">{view.referral}</span>).{' '}
          <Link to={auditUrl({ ...view, referral: undefined, cursor: undefined })} className="text-brand-700 underline">
            Show every referral
          </Link>
        </p>
      ) : null}

      <AuditRows rows={rows} busy={navigation.state === 'loading'} />
      <Pager
        first={view.cursor ? auditUrl({ ...view, cursor: undefined }) : null}
        older={next ? auditUrl({ ...view, cursor: next }) : null}
        olderLabel="Older entries"
      />
    </main>
  )
}

function VerifyPanel() {
  const actionData = useActionData<typeof action>()
  const navigation = useNavigation()
  const check = actionData?.check
  return (
    <section aria-labelledby="verify-heading" className="rounded-lg border border-slate-200 bg-white p-4">
      <h2 id="verify-heading" className="font-semibold">
        Integrity
      </h2>
      <p className="mt-1 text-sm text-slate-600">
        Checks the hash chain: any entry changed, removed or reordered since it was written is found. The check is recorded.
      </p>
      <Form method="post" className="mt-3">
        <input type="hidden" name="intent" value="verify" />
        <Button type="submit" variant="primary" size="md" disabled={navigation.state === 'submitting'}>
          {navigation.state === 'submitting' && navigation.formMethod === 'POST' ? 'Verifying…' : 'Verify the audit trail'}
        </Button>
      </Form>
      {actionData?.refused ? (
        <p role="alert" className="mt-3 rounded-md border border-red-300 bg-red-50 px-3 py-2 text-sm text-red-900">
          {actionData.refused}
        </p>
      ) : null}
      {check ? (
        <p
          role={check.ok ? 'status' : 'alert'}
          className={`mt-3 rounded-md border px-3 py-2 text-sm ${check.ok ? 'border-emerald-300 bg-emerald-50 text-emerald-900' : 'border-red-300 bg-red-50 text-red-900'}`}
        >
          {check.ok
            ? `Verified: ${check.checked} ${check.checked === 1 ? 'entry' : 'entries'}, chain intact.`
            : `Tampering detected at entry #${check.brokenSeq}: ${check.reason}.`}
        </p>
      ) : null}
    </section>
  )
}

function ExportPanel() {
  const { view, today } = useLoaderData<typeof loader>()
  const zone = useClinicTimeZone()
  const monthAgo = new Date(Date.parse(`${today}T00:00:00Z`) - 30 * 86_400_000).toISOString().slice(0, 10)
  const [form, fields] = useForm({
    id: 'audit-export',
    constraint: getZodConstraint(AuditExportSchema),
    defaultValue: { format: 'csv', from: view.from ?? monthAgo, to: view.to ?? today },
    onValidate: ({ formData }) => parseWithZod(formData, { schema: AuditExportSchema }),
    shouldValidate: 'onBlur',
  })
  return (
    <section aria-labelledby="export-heading" className="rounded-lg border border-slate-200 bg-white p-4">
      <h2 id="export-heading" className="font-semibold">
        Export
      </h2>
      <p className="mt-1 text-sm text-slate-600">
        Every entry for these days of the clinic ({zone}), in chain order; each row gives its time in UTC and in {zone}. The export is recorded.
      </p>
      {/* A plain document request: the browser downloads the file and stays on this page. */}
      <Form
        method="get"
        action="/admin/audit/export"
        reloadDocument
        {...getFormProps(form)}
        className="mt-3 grid gap-3 sm:grid-cols-[1fr_1fr_1fr_auto] sm:items-start"
      >
        <DateField label="First day" inputProps={getInputProps(fields.from, { type: 'date' })} errors={fields.from.errors} />
        <DateField label="Last day" inputProps={getInputProps(fields.to, { type: 'date' })} errors={fields.to.errors} />
        <SelectField label="Format" selectProps={getSelectProps(fields.format)} options={Object.entries(EXPORT_FORMATS)} errors={fields.format.errors} />
        <Button type="submit" size="md" className="mt-6">
          Download
        </Button>
      </Form>
    </section>
  )
}

export function ErrorBoundary() {
  return <GeneralErrorBoundary />
}
