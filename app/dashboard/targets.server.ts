/** Saving the clinic's turnaround targets (the targets section of /admin/clinic), audited as that section. */
import { data, redirect, type AppLoadContext } from '@remix-run/cloudflare'
import { savedUrl } from '~/clinic/section'
import { saveClinicSettings } from '~/clinic/settings.server'
import { parseForm } from '~/utils/form.server'
import { TARGETS_INTENT, targetSettings, TargetsSchema } from './targets'

export async function saveTargets(formData: FormData, context: AppLoadContext, clinicId: string) {
  const submission = parseForm(formData, TargetsSchema, { also: ['intent'] })
  if (submission.status !== 'success') return data({ intent: TARGETS_INTENT, result: submission.reply() }, { status: 400 })
  const saved = await context.db.tenant((tx) => saveClinicSettings(tx, context.audit, clinicId, TARGETS_INTENT, targetSettings(submission.value)))
  if (!saved) throw new Response("Only this clinic's own administrators can change its settings. Nothing was changed.", { status: 403 })
  throw redirect(savedUrl(TARGETS_INTENT))
}
