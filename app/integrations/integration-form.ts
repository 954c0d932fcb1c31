/**
 * The integrations page's EHR forms (browser-safe): one schema per form. Each app role is a
 * checkbox with a field name of its own (a dotted role name would be a conform path).
 */
import { z } from 'zod'
import { integrationRoles, type IntegrationRole } from '~/db/enums'

export const APP_ROLE_FIELDS: readonly { role: IntegrationRole; field: string; label: string }[] = [
  { role: 'Referral.Read', field: 'read', label: 'Read the clinic’s referrals and their progress (Referral.Read)' },
  { role: 'Referral.Submit', field: 'submit', label: 'Send referrals in, as FHIR transaction Bundles against the current intake form (Referral.Submit)' },
]
// The list above must name every app role.
void (integrationRoles satisfies readonly (typeof APP_ROLE_FIELDS)[number]['role'][])

const box = z.literal('on').optional()
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

/** The fields as sent (conform's constraints are read from this: a transform has none). */
export const RegisterIntegrationFields = z.object({
  intent: z.literal('register-ehr'),
  name: z.string({ error: 'Enter a name for the system' }).trim().min(1, 'Enter a name for the system').max(100, 'Use a name of at most 100 characters'),
  clientId: z
    .string({ error: 'Enter the application (client) ID' })
    .trim()
    .min(1, 'Enter the application (client) ID')
    .max(100, 'Use an ID of at most 100 characters')
    .regex(/^[A-Za-z0-9._-]+$/, 'Use the ID as Entra shows it: letters, digits, dots, dashes and underscores only'),
  tenantId: z
    .string({ error: 'Enter the directory (tenant) ID' })
    .trim()
    .toLowerCase()
    .regex(GUID, 'Enter the directory (tenant) ID as Entra shows it, e.g. 9b1c2d3e-4f50-4a6b-8c7d-0e1f2a3b4c5d'),
  ...Object.fromEntries(APP_ROLE_FIELDS.map((r) => [r.field, box])),
})

export const RegisterIntegrationSchema = RegisterIntegrationFields.transform((form, ctx) => {
  const roles = APP_ROLE_FIELDS.filter((r) => (form as Record<string, unknown>)[r.field] === 'on').map((r) => r.role)
  if (roles.length === 0) ctx.addIssue({ code: 'custom', path: [APP_ROLE_FIELDS[0]!.field], message: 'Choose at least one thing the system may do' })
  return { name: form.name, clientId: form.clientId, tenantId: form.tenantId, roles }
})

export const RevokeIntegrationSchema = z.object({ intent: z.literal('revoke-ehr'), integrationId: z.uuid() })
