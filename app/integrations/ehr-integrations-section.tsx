/**
 * The integrations page's EHR section: the clinic's registered EHR systems (their Entra app, what
 * they may do, revoke), and the form that registers one (docs/decisions/058). Plain forms: it all
 * works without JavaScript.
 */
import { getFormProps, getInputProps, useForm, type SubmissionResult } from '@conform-to/react'
import { getZodConstraint, parseWithZod } from '@conform-to/zod/v4'
import { Form, useNavigation } from '@remix-run/react'
import { ErrorSummary } from '~/components/forms'
import { Button } from '~/components/ui/button'
import { CheckboxesField, Field } from '~/components/ui/field'
import type { IntegrationRole } from '~/db/enums'
import { ClinicTime } from '~/utils/use-clinic-time'
import { APP_ROLE_FIELDS, RegisterIntegrationFields, RegisterIntegrationSchema } from './integration-form'

const INTEGRATIONS_PAGE = '/admin/integrations'

export type IntegrationSummary = {
  id: string
  name: string
  clientId: string
  tenantId: string
  roles: IntegrationRole[]
  status: 'active' | 'revoked'
  createdAt: string
  revokedAt: string | null
}

export function EhrIntegrationsSection({
  integrations,
  defaultTenantId,
  registerResult,
}: {
  integrations: IntegrationSummary[]
  defaultTenantId: string
  registerResult?: SubmissionResult<string[]>
}) {
  return (
    <section aria-labelledby="ehr-heading" className="rounded-lg border border-slate-200 bg-white p-4">
      <h2 id="ehr-heading" className="text-lg font-semibold">
        EHR systems
      </h2>
      <p className="mt-1 text-sm text-slate-600">
        An EHR system sends referrals in and reads referrals and their progress through the FHIR R4 interface (<code>/fhir/R4</code>) and the API with a token
        of its own, from Microsoft Entra ID&apos;s client-credentials flow: no person signs in. Register its Entra app here; it then works in this clinic only,
        may do only what you tick (and what Entra granted it), and everything it sends or reads is in the audit trail under its name. A referral it sends shows
        its name as the sender; there is no referrer in IntakePilot to ask questions of. Revoking it refuses its tokens at once.
      </p>
      <IntegrationList integrations={integrations} />
      <RegisterForm lastResult={registerResult} defaultTenantId={defaultTenantId} />
    </section>
  )
}

const ROLE_WORDS: Record<IntegrationRole, string> = {
  'Referral.Read': 'reads referrals',
  'Referral.Submit': 'sends referrals',
}

function IntegrationList({ integrations }: { integrations: IntegrationSummary[] }) {
  const navigation = useNavigation()
  if (integrations.length === 0) return <p className="mt-4 text-sm text-slate-600">No EHR systems yet.</p>
  return (
    <ul className="mt-4 space-y-3">
      {integrations.map((i) => (
        <li key={i.id} className="rounded-md border border-slate-200 p-3">
          <p className="font-medium break-words">{i.name}</p>
          <p className="mt-1 text-sm text-slate-700">
            {i.status === 'active' ? (
              <>
                <strong>Active</strong>, {i.roles.map((r) => ROLE_WORDS[r]).join(' and ')}; registered <ClinicTime iso={i.createdAt} />
              </>
            ) : (
              <>
                <strong>Revoked</strong>
                {i.revokedAt ? (
                  <>
                    {' '}
                    on <ClinicTime iso={i.revokedAt} />
                  </>
                ) : null}
              </>
            )}
          </p>
          <p className="mt-1 text-xs break-all text-slate-600">
            Application (client) ID <span className="font-mono">{i.clientId}</span> · directory (tenant) ID <span className="font-mono">{i.tenantId}</span>
          </p>
          {i.status === 'active' ? (
            <Form method="post" action={INTEGRATIONS_PAGE} className="mt-2">
              <input type="hidden" name="integrationId" value={i.id} />
              <Button type="submit" name="intent" value="revoke-ehr" disabled={navigation.state === 'submitting'} aria-label={`Revoke: ${i.name}`}>
                Revoke
              </Button>
            </Form>
          ) : null}
        </li>
      ))}
    </ul>
  )
}

function RegisterForm({ lastResult, defaultTenantId }: { lastResult?: SubmissionResult<string[]>; defaultTenantId: string }) {
  const navigation = useNavigation()
  const [form, fields] = useForm({
    id: 'register-ehr',
    lastResult,
    constraint: getZodConstraint(RegisterIntegrationFields),
    onValidate: ({ formData }) => parseWithZod(formData, { schema: RegisterIntegrationSchema }),
    shouldRevalidate: 'onInput',
    defaultValue: { tenantId: defaultTenantId },
  })
  const first = fields[APP_ROLE_FIELDS[0]!.field as 'name']
  return (
    <div className="mt-6 border-t border-slate-200 pt-4">
      <h3 className="font-semibold">Register an EHR system</h3>
      <ErrorSummary form={form} />
      <Form method="post" action={INTEGRATIONS_PAGE} {...getFormProps(form)} className="mt-3 space-y-4">
        <input type="hidden" name="intent" value="register-ehr" />
        <Field label="Name" inputProps={{ ...getInputProps(fields.name, { type: 'text' }), placeholder: 'Front desk EHR' }} errors={fields.name.errors} />
        <Field
          label="Application (client) ID, from its Entra app registration"
          inputProps={{ ...getInputProps(fields.clientId, { type: 'text' }), autoComplete: 'off', spellCheck: false }}
          errors={fields.clientId.errors}
        />
        <Field
          label="Directory (tenant) ID its tokens come from"
          inputProps={{ ...getInputProps(fields.tenantId, { type: 'text' }), autoComplete: 'off', spellCheck: false }}
          errors={fields.tenantId.errors}
        />
        <CheckboxesField
          legend="What it may do in this clinic"
          idPrefix={form.id}
          options={APP_ROLE_FIELDS.map((r) => ({ name: r.field, label: r.label, defaultChecked: r.role === 'Referral.Read' }))}
          errorId={first.errorId}
          errors={first.errors}
        />
        <Button type="submit" variant="primary" disabled={navigation.state === 'submitting'}>
          Register EHR system
        </Button>
      </Form>
    </div>
  )
}
