/** GET /api/v1/intake-form: the clinic's current published form (what POST /referrals validates against). */
import type { LoaderFunctionArgs } from '@remix-run/cloudflare'
import { apiError } from '~/api/errors.server'
import { apiRoute, ok, requireApiPermission, requireApiUser } from '~/api/handler.server'
import { currentIntakeForm } from '~/intake/intake-forms.server'

export const loader = apiRoute(async ({ context }: LoaderFunctionArgs) => {
  const user = requireApiUser(context)
  requireApiPermission(user, 'read:intake-form:any')
  const form = await context.db.tenant((tx) => currentIntakeForm(tx, user.clinicId))
  if (!form) throw apiError(404, 'This clinic has not published a referral form yet')
  const fields = form.definition.sections.flatMap((section) =>
    section.fields.map((f) => ({
      key: f.key,
      label: f.label,
      section: section.title,
      type: f.type,
      required: f.required,
      phi: f.phi,
      ...(f.options ? { options: f.options } : {}),
      ...(f.format ? { format: f.format } : {}),
    })),
  )
  return ok({ version: form.version, publishedAt: form.publishedAt?.toISOString() ?? null, fields }, { requestId: context.requestId })
})
