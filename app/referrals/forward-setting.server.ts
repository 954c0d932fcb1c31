/** Saving whether the clinic accepts referrals forwarded from other clinics (a section of /admin/clinic). */
import { data, redirect, type AppLoadContext } from '@remix-run/cloudflare'
import { savedUrl } from '~/clinic/section'
import { saveClinicSettings } from '~/clinic/settings.server'
import { parseForm } from '~/utils/form.server'
import { AcceptsForwardsSchema, FORWARDS_INTENT } from './forward-setting'

export async function saveAcceptsForwards(formData: FormData, context: AppLoadContext, clinicId: string) {
  const submission = parseForm(formData, AcceptsForwardsSchema, { also: ['intent'] })
  if (submission.status !== 'success') return data({ intent: FORWARDS_INTENT, result: submission.reply() }, { status: 400 })
  const { acceptsForwards } = submission.value
  const saved = await context.db.tenant((tx) => saveClinicSettings(tx, context.audit, clinicId, FORWARDS_INTENT, { acceptsForwards }))
  if (!saved) throw new Response("Only this clinic's own administrators can change its settings. Nothing was changed.", { status: 403 })
  throw redirect(savedUrl(FORWARDS_INTENT))
}
