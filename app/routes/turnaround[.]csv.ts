import type { LoaderFunctionArgs } from '@remix-run/cloudflare'
import { requireClinic, requirePermission, requireUser } from '~/auth/guards.server'
import { turnaroundCsv } from '~/dashboard/turnaround-csv.server'
import { readPeriod, turnaroundReport } from '~/dashboard/turnaround-page.server'
import { invariantResponse } from '~/utils/misc'

/**
 * GET /turnaround.csv?weeks=N: the Turnaround page's numbers as one CSV. Counts, durations and
 * referrers' names, never a patient, so it is not a PHI export to audit (docs/decisions/034).
 */
export async function loader({ request, context }: LoaderFunctionArgs) {
  const user = requireUser(request, context)
  requirePermission(user, 'read:turnaround:any')
  const clinicId = requireClinic(user)
  const { weeks, problem } = readPeriod(new URL(request.url))
  invariantResponse(!problem, `Cannot export: ${problem}`, { status: 400 })
  const report = await turnaroundReport(context, clinicId, weeks)
  return new Response(turnaroundCsv(report), {
    headers: {
      'Content-Type': 'text/csv; charset=utf-8',
      'Content-Disposition': `attachment; filename="turnaround-${report.since}-${weeks}-weeks.csv"`,
      'Cache-Control': 'no-store',
    },
  })
}
