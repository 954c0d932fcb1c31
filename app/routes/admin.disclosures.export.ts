import type { ActionFunctionArgs } from '@remix-run/cloudflare'
import { requireClinic, requireCurrentClinic, requirePhiPermission, requireUser } from '~/auth/guards.server'
import { DisclosureSearchSchema } from '~/privacy/disclosure-search'
import { accountingForDays, disclosuresCsv } from '~/privacy/disclosures.server'
import { clinicDay, clinicTimeZone } from '~/utils/clinic-time'
import { parseForm } from '~/utils/form.server'
import { invariantResponse } from '~/utils/misc'

/** The file holds the trail's rows about the patient's referrals: exporting it is an access of its own (disclosures.export). */
export const handle = { phi: true }

/**
 * POST /admin/disclosures/export: a patient's accounting of disclosures as CSV, the same search
 * as the page's, posted (the terms stay out of addresses and logs). A resource route: the
 * pipeline's same-origin check covers it (app/server/csrf.server.ts). Recorded as
 * disclosures.export, with ids and counts.
 */
export async function action({ request, context }: ActionFunctionArgs) {
  const user = requireUser(request, context)
  await requirePhiPermission(context, user, 'read:disclosures:any', { action: 'disclosures.export', entityType: 'patient' })
  const clinicId = requireClinic(user)
  const zone = clinicTimeZone(requireCurrentClinic(context).settings)
  const submission = parseForm(await request.formData(), DisclosureSearchSchema)
  // What was wrong, in the schema's words: none of them repeats what was sent.
  const problems = submission.status === 'success' ? [] : Object.values(submission.error ?? {}).flatMap((m) => m ?? [])
  invariantResponse(submission.status === 'success', `Cannot export: ${problems.join('; ')}.`, { status: 400 })
  const { from, to } = submission.value
  const found = await accountingForDays(context, clinicId, submission.value, zone, 'export')
  // Named by the day it was made, never by the patient.
  const filename = `disclosures-${clinicDay(Date.now(), zone)}.csv`
  return new Response(disclosuresCsv(found.rows, found.truncated, { zone, from, to }), {
    headers: {
      'Content-Type': 'text/csv; charset=utf-8',
      'Content-Disposition': `attachment; filename="${filename}"`,
      'Cache-Control': 'no-store',
      'X-Time-Zone': zone,
    },
  })
}
