/**
 * The integrations page's actions for EHR systems (app/routes/_app.admin.integrations.tsx): each
 * form parsed by its own schema; a refusal is a field or form error with its status, never a 500.
 */
import { data, type AppLoadContext } from '@remix-run/cloudflare'
import { parseForm } from '~/utils/form.server'
import { RegisterIntegrationSchema, RevokeIntegrationSchema } from './integration-form'
import { MAX_INTEGRATIONS, registerIntegration, revokeIntegration } from './integrations.server'

export const EHR_INTENTS = ['register-ehr', 'revoke-ehr'] as const

/** The tenant the form suggests: the first one IntakePilot accepts tokens from. */
export const defaultTenantId = (env: AppLoadContext['env']) => (env.OIDC_ALLOWED_TENANTS ?? '').split(',')[0]?.trim() ?? ''

export async function handleRegister(formData: FormData, context: AppLoadContext, clinicId: string, userId: string) {
  const submission = parseForm(formData, RegisterIntegrationSchema)
  if (submission.status !== 'success') return data({ form: 'register-ehr' as const, result: submission.reply() }, { status: 400 })
  const made = await registerIntegration(context, clinicId, userId, submission.value)
  if (made === 'too-many')
    return data(
      {
        form: 'register-ehr' as const,
        result: submission.reply({ formErrors: [`A clinic can have at most ${MAX_INTEGRATIONS} EHR systems: revoke one first.`] }),
      },
      { status: 409 },
    )
  if (made === 'taken')
    return data(
      {
        form: 'register-ehr' as const,
        result: submission.reply({
          fieldErrors: { clientId: ['That app is already registered, with this clinic or another: an app works for one clinic. Revoke it there first.'] },
        }),
      },
      { status: 409 },
    )
  return { form: 'register-ehr' as const, result: submission.reply({ resetForm: true }), notice: `${submission.value.name} is registered.` }
}

export async function handleRevoke(formData: FormData, context: AppLoadContext, clinicId: string, userId: string) {
  const submission = parseForm(formData, RevokeIntegrationSchema)
  if (submission.status !== 'success') return data({ form: 'change' as const, result: submission.reply() }, { status: 400 })
  const revoked = await revokeIntegration(context, clinicId, userId, submission.value.integrationId)
  if (!revoked)
    return data(
      { form: 'change' as const, result: submission.reply({ formErrors: ['That EHR system is not an active one of this clinic’s.'] }) },
      { status: 404 },
    )
  return { form: 'change' as const, result: submission.reply(), notice: 'Revoked: its tokens are refused from now on.' }
}
