import type { LoaderFunctionArgs, MetaFunction } from '@remix-run/cloudflare'
import { data } from '@remix-run/cloudflare'
import { Form, Link, useLoaderData } from '@remix-run/react'
import type { ReactNode } from 'react'
import { requireClinic, requirePermission, requireUser } from '~/auth/guards.server'
import { GeneralErrorBoundary } from '~/components/error-boundary'
import { buttonClass } from '~/components/ui/button'
import { Select } from '~/components/ui/control'
import { Table, TableBody, TableHead, Td, Th } from '~/components/ui/table'
import { ChartFigure } from '~/dashboard/chart'
import { formatHours, percent, PERIOD_WEEKS, PRIORITY_LABELS } from '~/dashboard/turnaround'
import { readPeriod, turnaroundReport, type TurnaroundReport } from '~/dashboard/turnaround-page.server'
import { queueUrl } from '~/referrals/queue-url'

export const meta: MetaFunction = () => [{ title: 'Turnaround · IntakePilot' }]

/** Counts and durations only (no patient is named), so reading them is not a PHI access to audit. */
export async function loader({ request, context }: LoaderFunctionArgs) {
  const user = requireUser(request, context)
  requirePermission(user, 'read:turnaround:any')
  const clinicId = requireClinic(user)
  const { weeks, problem } = readPeriod(new URL(request.url))
  const report = await turnaroundReport(context, clinicId, weeks)
  return data({ ...report, problem }, { status: problem ? 400 : 200 })
}

export default function Turnaround() {
  const r = useLoaderData<typeof loader>()
  const period = `the ${r.weeks} weeks since ${r.since}`
  return (
    <main className="mx-auto max-w-7xl px-4 py-8 sm:px-6">
      <div className="flex flex-wrap items-end justify-between gap-4">
        <div>
          <h1 className="text-2xl font-semibold tracking-tight">Turnaround</h1>
          <p className="mt-1 text-slate-600">
            Referrals received in {period}, against the clinic’s targets. Weeks start on Monday ({r.timeZone}).
          </p>
        </div>
        <div className="flex flex-wrap items-end gap-2">
          <Form method="get" className="flex items-end gap-2 text-sm">
            <label className="grid gap-1">
              <span className="font-medium text-slate-700">Period</span>
              <Select name="weeks" defaultValue={String(r.weeks)}>
                {PERIOD_WEEKS.map((w) => (
                  <option key={w} value={w}>
                    Last {w} weeks
                  </option>
                ))}
              </Select>
            </label>
            <button type="submit" className={buttonClass()}>
              Show
            </button>
          </Form>
          <a href={`/turnaround.csv?weeks=${r.weeks}`} className={buttonClass()} download>
            Download CSV
          </a>
        </div>
      </div>

      {r.problem ? (
        <p role="alert" className="mt-4 rounded-md border border-amber-300 bg-amber-50 px-3 py-2 text-sm text-amber-900">
          {r.problem}
        </p>
      ) : null}

      <dl className="mt-6 grid grid-cols-1 gap-3 sm:grid-cols-3">
        <Card label="Received in the period" value={r.received.toLocaleString('en-CA')} />
        <Card
          label="Open now"
          value={r.openTotal.toLocaleString('en-CA')}
          href={queueUrl({ status: 'open', sort: 'age' })}
          linkText="Open referrals, oldest first"
        />
        <Card
          label="Declined"
          value={`${percent(r.declined, r.received)}`}
          detail={`${r.declined.toLocaleString('en-CA')} of ${r.received.toLocaleString('en-CA')}`}
        />
      </dl>

      <div className="mt-6 grid gap-6 lg:grid-cols-2">
        <StepFigure id="triage" title="Time to triage" step="triaged" rows={r.triage} chart={r.charts.triage} />
        <StepFigure id="booking" title="Time to booking" step="booked" rows={r.booking} chart={r.charts.booking} />

        <ChartFigure
          id="aging"
          title="How long open referrals have waited"
          summary={`${r.openTotal.toLocaleString('en-CA')} open referrals, whenever received, by days since received; stacked by priority.`}
          chart={r.charts.aging}
        >
          <DataTable head={['Waiting', 'Emergent', 'Urgent', 'Routine', 'All']}>
            {r.aging.map((a) => (
              <tr key={a.label}>
                <Th scope="row">{a.label}</Th>
                <Num>{a.emergent}</Num>
                <Num>{a.urgent}</Num>
                <Num>{a.routine}</Num>
                <Num>{a.emergent + a.urgent + a.routine}</Num>
              </tr>
            ))}
          </DataTable>
        </ChartFigure>

        <ChartFigure id="weekly" title="Referrals received by week" summary={weeklySummary(r)} chart={r.charts.weekly}>
          <DataTable head={['Week of', 'Received']}>
            {r.weekly.map((w) => (
              <tr key={w.week}>
                <Th scope="row">{w.week}</Th>
                <Num>{w.total}</Num>
              </tr>
            ))}
          </DataTable>
        </ChartFigure>

        <ChartFigure
          id="referrers"
          title="Referrals by referrer"
          summary={r.referrers.length ? `The ${Math.min(r.referrers.length, 10)} referrers who sent the most in ${period}.` : `No referrals in ${period}.`}
          chart={r.charts.referrers}
        >
          <DataTable head={['Referrer', 'Practice', 'Received', 'Declined']}>
            {r.referrers.map((p) => (
              <tr key={`${p.id}-${p.name}`}>
                <Th scope="row">{p.name}</Th>
                <Td>{p.organization ?? '—'}</Td>
                <Num>{p.total}</Num>
                <Num>{p.declined}</Num>
              </tr>
            ))}
          </DataTable>
        </ChartFigure>

        <ChartFigure
          id="declines"
          title="Decline reasons"
          summary={`${r.declined.toLocaleString('en-CA')} of ${r.received.toLocaleString('en-CA')} referrals received in ${period} were declined (${percent(r.declined, r.received)}).`}
          chart={r.charts.reasons}
        >
          <DataTable head={['Reason', 'Declined']}>
            {r.reasons.map((x) => (
              <tr key={x.reason}>
                <Th scope="row">{x.reason}</Th>
                <Num>{x.total}</Num>
              </tr>
            ))}
          </DataTable>
        </ChartFigure>
      </div>
    </main>
  )
}

function StepFigure({
  id,
  title,
  step,
  rows,
  chart,
}: {
  id: string
  title: string
  step: string
  rows: TurnaroundReport['triage']
  chart: TurnaroundReport['charts']['triage']
}) {
  const received = rows.reduce((s, x) => s + x.received, 0)
  const within = rows.reduce((s, x) => s + x.withinTarget, 0)
  return (
    <ChartFigure
      id={id}
      title={title}
      summary={`${within} of ${received} referrals (${percent(within, received)}) were ${step} within their priority’s target. Share within target, by priority.`}
      chart={chart}
    >
      <DataTable head={['Priority', 'Received', `${step[0]!.toUpperCase()}${step.slice(1)}`, 'Median', '90th percentile', 'Target', 'Within target']}>
        {rows.map((s) => (
          <tr key={s.priority}>
            <Th scope="row">{PRIORITY_LABELS[s.priority]}</Th>
            <Num>{s.received}</Num>
            <Num>{s.reached}</Num>
            <Num>{formatHours(s.medianHours)}</Num>
            <Num>{formatHours(s.p90Hours)}</Num>
            <Num>{s.target}</Num>
            <Num>
              {s.withinTarget} ({percent(s.withinTarget, s.received)})
            </Num>
          </tr>
        ))}
      </DataTable>
    </ChartFigure>
  )
}

function weeklySummary(r: TurnaroundReport) {
  const totals = r.weekly.map((w) => w.total)
  if (!totals.length) return 'No weeks in the period.'
  const max = Math.max(...totals)
  return `${r.received.toLocaleString('en-CA')} referrals over ${totals.length} weeks: from ${Math.min(...totals)} to ${max} a week; this week so far ${totals.at(-1)}.`
}

function Card({ label, value, detail, href, linkText }: { label: string; value: string; detail?: string; href?: string; linkText?: string }) {
  return (
    <div className="rounded-lg border border-slate-200 bg-white p-4">
      <dt className="text-sm text-slate-600">{label}</dt>
      <dd className="mt-1 text-2xl font-semibold tabular-nums">{value}</dd>
      {detail ? <dd className="text-sm text-slate-600">{detail}</dd> : null}
      {href ? (
        <dd className="mt-1 text-sm">
          <Link to={href} className="text-sky-800 underline">
            {linkText}
          </Link>
        </dd>
      ) : null}
    </div>
  )
}

function DataTable({ head, children }: { head: string[]; children: ReactNode }) {
  return (
    <Table dense>
      <TableHead>
        {head.map((h) => (
          <Th key={h} scope="col">
            {h}
          </Th>
        ))}
      </TableHead>
      <TableBody>{children}</TableBody>
    </Table>
  )
}

const Num = ({ children }: { children: ReactNode }) => <Td className="tabular-nums">{children}</Td>

export function ErrorBoundary() {
  return <GeneralErrorBoundary />
}
