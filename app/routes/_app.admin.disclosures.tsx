import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from '@remix-run/cloudflare'
import { data } from '@remix-run/cloudflare'
import { getFormProps, getInputProps, useForm, type SubmissionResult } from '@conform-to/react'
import { Form, useActionData, useLoaderData, useNavigation } from '@remix-run/react'
import { requireClinic, requireCurrentClinic, requirePhiPermission, requireUser } from '~/auth/guards.server'
import { GeneralErrorBoundary } from '~/components/error-boundary'
import { ErrorSummary, useLazyValidation } from '~/components/forms'
import { Button } from '~/components/ui/button'
import { DateField, Field } from '~/components/ui/field'
import { DISCLOSURE_YEARS, DisclosureSearchSchema, MAX_DISCLOSURES, yearsBefore, type DisclosureSearch } from '~/privacy/disclosure-search'
import { DisclosuresTable, PrintButton, type DisclosureRow } from '~/privacy/disclosures-table'
import { accountingForDays } from '~/privacy/disclosures.server'
import { clinicDay, clinicTimeZone, zoneAbbreviation } from '~/utils/clinic-time'
import { parseForm } from '~/utils/form.server'
import { ClinicTime, useClinicTimeZone } from '~/utils/use-clinic-time'

export const meta: MetaFunction = () => [{ title: 'Accounting of disclosures · IntakePilot' }]
/** The search names a patient and answers which referrals are theirs: an access of its own (disclosures.read). */
export const handle = { phi: true }

const ATTEMPT = { action: 'disclosures.read', entityType: 'patient' } as const

/** The empty form: no patient is named yet, so nothing is read and nothing recorded but a refusal. */
export async function loader({ request, context }: LoaderFunctionArgs) {
  const user = requireUser(request, context)
  await requirePhiPermission(context, user, 'read:disclosures:any', ATTEMPT)
  requireClinic(user)
  const clinic = requireCurrentClinic(context)
  // The clinic's today, not UTC's (decision 035).
  const today = clinicDay(Date.now(), clinicTimeZone(clinic.settings))
  return { today, earliest: yearsBefore(today, DISCLOSURE_YEARS), clinicName: clinic.name, officer: user.displayName }
}

type Accounting = {
  search: DisclosureSearch
  referrals: { id: string; referenceNumber: string }[]
  rows: DisclosureRow[]
  truncated: boolean
  preparedAt: string
}
type Answer = { result: SubmissionResult<string[]>; accounting: Accounting | null }

/** The search is posted, so its terms never reach an address or a log line; the trail gets ids and counts (accountOfDisclosures). */
export async function action({ request, context }: ActionFunctionArgs) {
  const user = requireUser(request, context)
  await requirePhiPermission(context, user, 'read:disclosures:any', ATTEMPT)
  const clinicId = requireClinic(user)
  const zone = clinicTimeZone(requireCurrentClinic(context).settings)
  const submission = parseForm(await request.formData(), DisclosureSearchSchema)
  if (submission.status !== 'success') return data<Answer>({ result: submission.reply(), accounting: null }, { status: 400 })
  const found = await accountingForDays(context, clinicId, submission.value, zone, 'read')
  const rows = found.rows.map(({ actor: _name, ...row }) => row)
  return data<Answer>({
    result: submission.reply(),
    accounting: { search: submission.value, referrals: found.referrals, rows, truncated: found.truncated, preparedAt: new Date().toISOString() },
  })
}

export default function Disclosures() {
  const { today, earliest } = useLoaderData<typeof loader>()
  const answer = useActionData<typeof action>()
  const navigation = useNavigation()
  const zone = useClinicTimeZone()
  const [form, fields] = useForm({
    id: 'disclosures',
    lastResult: answer?.result,
    defaultValue: { from: earliest, to: today },
    ...useLazyValidation(
      () => import('~/privacy/disclosure-search'),
      (m, formData) => m.validateDisclosureSearch(formData),
      { shouldValidate: 'onBlur', shouldRevalidate: 'onInput' },
    ),
  })
  const searching = navigation.state === 'submitting'
  return (
    <main className="mx-auto max-w-7xl px-4 py-8 sm:px-6 print:max-w-none print:p-0">
      <h1 className="text-2xl font-semibold tracking-tight">Accounting of disclosures</h1>
      <p className="mt-1 max-w-3xl text-slate-600 print:hidden">
        Every recorded access to one patient&apos;s referrals in this clinic, across all their referrals, for a period of up to {DISCLOSURE_YEARS} years: who,
        when, what and from where. The patient is found by their health card number, or by last name and date of birth; what you type is matched in coded form
        and is not recorded. Each accounting you run, and each export, is recorded in the audit trail. Times are the clinic&apos;s, in {zone} (
        {zoneAbbreviation(zone)}).
      </p>

      <section aria-labelledby="search-heading" className="mt-6 rounded-lg border border-slate-200 bg-white p-4 print:hidden">
        <h2 id="search-heading" className="font-semibold">
          Find the patient
        </h2>
        <ErrorSummary form={form} />
        <Form method="post" {...getFormProps(form)} className="mt-3 space-y-4">
          <div className="grid gap-3 sm:grid-cols-[1fr_auto_1fr_1fr] sm:items-start">
            <Field
              label="Health card number"
              inputProps={{ ...getInputProps(fields.healthCard, { type: 'text' }), autoComplete: 'off' }}
              errors={fields.healthCard.errors}
            />
            <p className="text-sm text-slate-600 sm:mt-8">or</p>
            <Field
              label="Last name"
              inputProps={{ ...getInputProps(fields.lastName, { type: 'text' }), autoComplete: 'off' }}
              errors={fields.lastName.errors}
            />
            <DateField label="Date of birth" inputProps={getInputProps(fields.dob, { type: 'date' })} errors={fields.dob.errors} />
          </div>
          <fieldset className="grid gap-3 sm:grid-cols-[1fr_1fr_2fr] sm:items-start">
            <legend className="text-sm font-medium">Period (the clinic&apos;s days, at most {DISCLOSURE_YEARS} years)</legend>
            <DateField label="First day" inputProps={getInputProps(fields.from, { type: 'date' })} errors={fields.from.errors} className="mt-2" />
            <DateField label="Last day" inputProps={getInputProps(fields.to, { type: 'date' })} errors={fields.to.errors} className="mt-2" />
          </fieldset>
          <Button type="submit" variant="primary" size="md" disabled={searching}>
            {searching ? 'Searching…' : 'Show the accounting'}
          </Button>
        </Form>
      </section>

      {answer?.accounting ? <Results accounting={answer.accounting} /> : null}
    </main>
  )
}

function Results({ accounting }: { accounting: Accounting }) {
  const { clinicName, officer } = useLoaderData<typeof loader>()
  const { search, referrals, rows, truncated } = accounting
  const count = (n: number, one: string, many: string) => `${n.toLocaleString('en-CA')} ${n === 1 ? one : many}`
  return (
    <section aria-labelledby="results-heading" className="mt-8">
      <div className="flex flex-wrap items-end justify-between gap-3">
        <h2 id="results-heading" className="text-lg font-semibold">
          Accesses from {search.from} to {search.to}
        </h2>
        {referrals.length ? (
          <div className="flex flex-wrap items-center gap-3 print:hidden">
            <PrintButton />
            {/* A plain document post: the browser downloads the file and stays here; the terms travel in the body, as the search's did. */}
            <form method="post" action="/admin/disclosures/export">
              {(['healthCard', 'lastName', 'dob', 'from', 'to'] as const).map((name) =>
                search[name] ? <input key={name} type="hidden" name={name} value={search[name]} /> : null,
              )}
              <Button type="submit" size="md">
                Download CSV
              </Button>
            </form>
          </div>
        ) : null}
      </div>
      <p className="mt-1 hidden text-sm text-slate-700 print:block">
        {clinicName}. Prepared <ClinicTime iso={accounting.preparedAt} /> by {officer}. Confidential: store and dispose of securely.
      </p>
      <div aria-live="polite" className="mt-2 text-sm text-slate-700" data-testid="disclosures-summary">
        {referrals.length === 0 ? (
          <p>
            No referral in this clinic matches this patient. Check the health card number, or the last name and date of birth. A referral whose patient
            information was purged can no longer be matched to a patient.
          </p>
        ) : (
          <p>
            {count(rows.length, 'access', 'accesses')} to {count(referrals.length, 'referral', 'referrals')} of this patient (
            <span className="font-mono text-xs">{referrals.map((r) => r.referenceNumber).join(', ')}</span>), newest first.
          </p>
        )}
      </div>
      {truncated ? (
        <p role="alert" className="mt-3 rounded-md border border-amber-300 bg-amber-50 px-3 py-2 text-sm text-amber-900" data-testid="disclosures-truncated">
          Only the newest {MAX_DISCLOSURES.toLocaleString('en-CA')} accesses are shown: the period holds more. Move the last day earlier to see the older ones.
        </p>
      ) : null}
      {referrals.length ? <DisclosuresTable rows={rows} /> : null}
    </section>
  )
}

export function ErrorBoundary() {
  return <GeneralErrorBoundary />
}
