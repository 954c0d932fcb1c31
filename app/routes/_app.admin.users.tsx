import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from '@remix-run/cloudflare'
import { data } from '@remix-run/cloudflare'
import { getFormProps, getInputProps, getSelectProps, useForm } from '@conform-to/react'
import { getZodConstraint, parseWithZod } from '@conform-to/zod/v4'
import { Form, useActionData, useLoaderData, useNavigation } from '@remix-run/react'
import { z } from 'zod'
import { requireClinic, requirePermission, requireUser } from '~/auth/guards.server'
import { GeneralErrorBoundary } from '~/components/error-boundary'
import { ErrorSummary, FieldError } from '~/components/forms'
import { Button } from '~/components/ui/button'
import { Select } from '~/components/ui/control'
import { Field, SelectField } from '~/components/ui/field'
import { Table, TableBody, TableHead, Td, Th } from '~/components/ui/table'
import { changeRole, clinicUsers, disableUser, enableUser, inviteUser, type UserChangeOutcome } from '~/users/clinic-users.server'
import { CLINIC_ROLES, ROLE_LABELS } from '~/users/roles'
import { parseForm } from '~/utils/form.server'

export const meta: MetaFunction = () => [{ title: 'Users · IntakePilot' }]

const InviteSchema = z.object({
  intent: z.literal('invite'),
  email: z.email({ error: 'Enter a valid email address' }).trim().toLowerCase().max(254),
  displayName: z.string({ error: 'Enter their name' }).trim().min(2, 'Enter their name').max(120),
  role: z.enum(CLINIC_ROLES, { error: 'Choose a role' }),
})
const ChangeSchema = z.discriminatedUnion('intent', [
  z.object({ intent: z.literal('role'), userId: z.uuid(), role: z.enum(CLINIC_ROLES, { error: 'Choose a role' }) }),
  z.object({ intent: z.literal('disable'), userId: z.uuid() }),
  z.object({ intent: z.literal('enable'), userId: z.uuid() }),
])

export async function loader({ request, context }: LoaderFunctionArgs) {
  const user = requireUser(request, context)
  requirePermission(user, 'manage:user:any')
  const clinicId = requireClinic(user)
  return { members: await clinicUsers(context, clinicId), me: user.id }
}

/**
 * Every form posts here, without the page's query: a Remix form's default action repeats the
 * address, so one form per user would repeat whatever was put after `?` once per row.
 */
const USERS_PAGE = '/admin/users'

const ELSEWHERE =
  'This email already has an IntakePilot account, so it cannot be invited again. Ask the person for another work email, or ask IntakePilot support to move their account.'
const REFUSED: Record<Exclude<UserChangeOutcome, 'done'>, string> = {
  'not-in-clinic': 'That user is not in this clinic.',
  'last-admin': 'A clinic needs at least one active admin: make someone else an admin first.',
}

export async function action({ request, context }: ActionFunctionArgs) {
  const user = requireUser(request, context)
  requirePermission(user, 'manage:user:any')
  const clinicId = requireClinic(user)
  const formData = await request.formData()

  if (formData.get('intent') === 'invite') {
    const submission = parseForm(formData, InviteSchema)
    if (submission.status !== 'success') return data({ invite: submission.reply(), change: null }, { status: 400 })
    const outcome = await inviteUser(context, clinicId, submission.value)
    if (outcome === 'exists') {
      return data(
        { invite: submission.reply({ fieldErrors: { email: ['Someone with this email is already a user of this clinic'] } }), change: null },
        { status: 400 },
      )
    }
    if (outcome === 'elsewhere') return data({ invite: submission.reply({ fieldErrors: { email: [ELSEWHERE] } }), change: null }, { status: 400 })
    return {
      invite: submission.reply({ resetForm: true }),
      change: null,
      notice: `Invited ${submission.value.email}. They become active when they first sign in.`,
    }
  }

  const submission = parseForm(formData, ChangeSchema)
  if (submission.status !== 'success') return data({ invite: null, change: submission.reply() }, { status: 400 })
  const change = submission.value
  const outcome =
    change.intent === 'role'
      ? await changeRole(context, clinicId, change.userId, change.role)
      : change.intent === 'disable'
        ? await disableUser(context, clinicId, change.userId)
        : await enableUser(context, clinicId, change.userId)
  if (outcome !== 'done') return data({ invite: null, change: submission.reply({ formErrors: [REFUSED[outcome]] }) }, { status: 409 })
  return { invite: null, change: submission.reply(), notice: 'Saved.' }
}

export default function Users() {
  const { members, me } = useLoaderData<typeof loader>()
  const actionData = useActionData<typeof action>()
  const navigation = useNavigation()
  const [form, fields] = useForm({
    id: 'invite-user',
    lastResult: actionData?.invite,
    constraint: getZodConstraint(InviteSchema),
    onValidate: ({ formData }) => parseWithZod(formData, { schema: InviteSchema }),
    shouldRevalidate: 'onInput',
  })
  const changeError = actionData?.change?.error?.['']
  const notice = actionData && 'notice' in actionData ? actionData.notice : null
  return (
    <main className="mx-auto max-w-7xl px-4 py-8 sm:px-6">
      <h1 className="text-2xl font-semibold tracking-tight">Users</h1>
      <p className="mt-1 text-slate-600">Invite staff and referring offices, change roles, and disable access. Every change is recorded.</p>
      {notice ? (
        <p role="status" className="mt-4 rounded-md border border-emerald-300 bg-emerald-50 px-3 py-2 text-sm text-emerald-900">
          {notice}
        </p>
      ) : null}
      {changeError?.length ? (
        <p role="alert" className="mt-4 rounded-md border border-red-300 bg-red-50 px-3 py-2 text-sm text-red-900">
          {changeError.join(' ')}
        </p>
      ) : null}

      <section aria-labelledby="invite-heading" className="mt-6 rounded-lg border border-slate-200 bg-white p-5">
        <h2 id="invite-heading" className="font-semibold">
          Invite a user
        </h2>
        <ErrorSummary form={form} />
        <Form method="post" action={USERS_PAGE} {...getFormProps(form)} className="mt-4 grid gap-4 sm:grid-cols-4 sm:items-start">
          <input type="hidden" name="intent" value="invite" />
          <Field label="Email" inputProps={getInputProps(fields.email, { type: 'email' })} errors={fields.email.errors} />
          <Field label="Name" inputProps={getInputProps(fields.displayName, { type: 'text' })} errors={fields.displayName.errors} />
          <SelectField
            label="Role"
            selectProps={getSelectProps(fields.role)}
            options={[['', 'Choose…'], ...CLINIC_ROLES.map((r) => [r, ROLE_LABELS[r]] as const)]}
            errors={fields.role.errors}
          />
          <Button type="submit" variant="primary" size="lg" className="mt-6 text-sm" disabled={navigation.state === 'submitting'}>
            Send invitation
          </Button>
          <FieldError id={form.errorId} errors={form.errors} className="sm:col-span-4" />
        </Form>
      </section>

      <Table className="mt-6">
        <TableHead>
          <Th>Name</Th>
          <Th>Email</Th>
          <Th>Role</Th>
          <Th>Status</Th>
          <Th>
            <span className="sr-only">Actions</span>
          </Th>
        </TableHead>
        <TableBody>
          {members.map((m) => (
            <tr key={m.id} data-testid={`user-${m.email}`}>
              <Td className="font-medium">
                {m.displayName}
                {m.id === me ? <span className="text-slate-400"> (you)</span> : null}
              </Td>
              <Td className="text-slate-600">{m.email}</Td>
              <Td>
                <Form method="post" action={USERS_PAGE} className="flex items-center gap-2">
                  <input type="hidden" name="intent" value="role" />
                  <input type="hidden" name="userId" value={m.id} />
                  <Select name="role" defaultValue={m.role} aria-label={`Role of ${m.displayName}`} size="compact">
                    {CLINIC_ROLES.map((r) => (
                      <option key={r} value={r}>
                        {ROLE_LABELS[r]}
                      </option>
                    ))}
                  </Select>
                  <Button type="submit" size="compact">
                    Change
                  </Button>
                </Form>
              </Td>
              <Td>
                <span
                  className={`rounded-full px-2 py-0.5 text-xs font-medium ${m.status === 'active' ? 'bg-emerald-50 text-emerald-800' : m.status === 'invited' ? 'bg-sky-50 text-sky-800' : 'bg-slate-100 text-slate-600'}`}
                >
                  {m.status}
                </span>
              </Td>
              <Td className="text-right">
                <Form method="post" action={USERS_PAGE}>
                  <input type="hidden" name="intent" value={m.status === 'disabled' ? 'enable' : 'disable'} />
                  <input type="hidden" name="userId" value={m.id} />
                  <Button type="submit" size="compact">
                    {m.status === 'disabled' ? 'Enable' : 'Disable'}
                  </Button>
                </Form>
              </Td>
            </tr>
          ))}
        </TableBody>
      </Table>
    </main>
  )
}

export function ErrorBoundary() {
  return <GeneralErrorBoundary />
}
