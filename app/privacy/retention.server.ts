/** Saving the clinic's PHI retention period (a section of /admin/clinic; docs/decisions/049-retention-purge.md). */
import { data, redirect, type AppLoadContext } from '@remix-run/cloudflare'
import { savedUrl } from '~/clinic/section'
import { saveClinicSettings } from '~/clinic/settings.server'
import { parseForm } from '~/utils/form.server'
import { RETENTION_INTENT, RetentionSchema } from './retention'

export async function saveRetention(formData: FormData, context: AppLoadContext, clinicId: string) {
  const submission = parseForm(formData, RetentionSchema, { also: ['intent'] })
  if (submission.status !== 'success') return data({ intent: RETENTION_INTENT, result: submission.reply() }, { status: 400 })
  const phiRetentionDays = submission.value.retentionDays ?? null
  const saved = await context.db.tenant((tx) => saveClinicSettings(tx, context.audit, clinicId, RETENTION_INTENT, { phiRetentionDays }))
  if (!saved) throw new Response("Only this clinic's own administrators can change its settings. Nothing was changed.", { status: 403 })
  throw redirect(savedUrl(RETENTION_INTENT))
}
