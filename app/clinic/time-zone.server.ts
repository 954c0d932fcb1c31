/** Saving the clinic's time zone (the time zone section of /admin/clinic). */
import { data, redirect, type AppLoadContext } from '@remix-run/cloudflare'
import { parseForm } from '~/utils/form.server'
import { savedUrl } from './section'
import { saveClinicSettings } from './settings.server'
import { TIME_ZONE_INTENT, TimeZoneSchema } from './time-zone'

export async function saveTimeZone(formData: FormData, context: AppLoadContext, clinicId: string) {
  const submission = parseForm(formData, TimeZoneSchema, { also: ['intent'] })
  if (submission.status !== 'success') return data({ intent: TIME_ZONE_INTENT, result: submission.reply() }, { status: 400 })
  const { timeZone } = submission.value
  const saved = await context.db.tenant((tx) => saveClinicSettings(tx, context.audit, clinicId, TIME_ZONE_INTENT, { timeZone }))
  // Never a "Saved." for what was not: the clinic's own admins set its settings.
  if (!saved) throw new Response("Only this clinic's own administrators can change its settings. Nothing was changed.", { status: 403 })
  throw redirect(savedUrl(TIME_ZONE_INTENT))
}
