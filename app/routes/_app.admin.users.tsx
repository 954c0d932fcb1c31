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
  'This email already has an IntakePilot account, so it cannot be added again. Ask the person for another work email, or ask IntakePilot support to move their account.'
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
    // No email goes out (there is no mail yet): the notice says what happened and what they do next.
    return {
      invite: submission.reply({ resetForm: true }),
      change: null,
      notice: `Added ${submission.value.email}. They can sign in now with their Microsoft work account; until they do, they show as “Not signed in yet”.`,
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
  if (outcome !== 'done')
    return data({ invite: null, change: submission.reply({ formErrors: [REFUSED[outcome]] }), answer: crypto.randomUUID() }, { status: 409 })
  return { invite: null, change: submission.reply(), notice: 'Saved.', answer: crypto.randomUUID() }
}

export default function Users() {
  const { members, me } = useLoaderData<typeof loader>()
  const actionData = useActionData<typeof action>()
  const changeError = actionData?.change?.error?.['']
  const notice = actionData && 'notice' in actionData ? actionData.notice : null
  // After a change to a member, the add-user form starts afresh (as it does without JavaScript,
  // where the page is new): an earlier error of it must not stand next to a later "Saved.".
  const addFormKey = actionData && 'answer' in actionData ? actionData.answer : 'add-user'
  return (
    <main className="mx-auto max-w-7xl px-4 py-8 sm:px-6">
      <h1 className="text-2xl font-semibold tracking-tight">Users</h1>
      <p className="mt-1 text-slate-600">Add staff and referring offices, change roles, and disable access. Every change is recorded.</p>
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

      <AddUserForm key={addFormKey} />
      <Members members={members} me={me} />
    </main>
  )
}

function AddUserForm() {
  const actionData = useActionData<typeof action>()
  const navigation = useNavigation()
  const [form, fields] = useForm({
    id: 'invite-user',
    lastResult: actionData?.invite,
    constraint: getZodConstraint(InviteSchema),
    onValidate: ({ formData }) => parseWithZod(formData, { schema: InviteSchema }),
    shouldRevalidate: 'onInput',
  })
  return (
    <section aria-labelledby="invite-heading" className="mt-6 rounded-lg border border-slate-200 bg-white p-5">
      <h2 id="invite-heading" className="font-semibold">
        Add a user
      </h2>
      <ErrorSummary form={form} />
      <p className="mt-1 text-sm text-slate-600">
        No email is sent: tell them to sign in with their Microsoft work account at this address. Their account becomes active when they first do.
      </p>
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
        <Button type="submit" variant="primary" size="lg" className="text-sm sm:mt-6" disabled={navigation.state === 'submitting'}>
          Add user
        </Button>
        <FieldError id={form.errorId} errors={form.errors} className="sm:col-span-4" />
      </Form>
    </section>
  )
}

/** Below `sm` a member is a card of lines (name, email, role, status, action), not a row that scrolls sideways. */
const STACKED_ROW = 'block py-2 sm:table-row sm:py-0'
const STACKED_CELL = 'block py-1 sm:table-cell sm:py-2'
const HEADER_CELL = 'hidden sm:table-cell'

const STATUS_TEXT = { active: 'Active', invited: 'Not signed in yet', disabled: 'Disabled' } as const

function Members({ members, me }: { members: Awaited<ReturnType<typeof clinicUsers>>; me: string }) {
  return (
    <Table className="mt-6">
      <TableHead>
        <Th className={HEADER_CELL}>Name</Th>
        <Th className={HEADER_CELL}>Email</Th>
        <Th className={HEADER_CELL}>Role</Th>
        <Th className={HEADER_CELL}>Status</Th>
        <Th className={HEADER_CELL}>
          <span className="sr-only">Actions</span>
        </Th>
      </TableHead>
      <TableBody>
        {members.map((m) => (
          <tr key={m.id} data-testid={`user-${m.email}`} className={STACKED_ROW}>
            <Td className={`${STACKED_CELL} font-medium`}>
              {m.displayName}
              {m.id === me ? <span className="text-slate-500"> (you)</span> : null}
            </Td>
            <Td className={`${STACKED_CELL} break-all text-slate-600`}>{m.email}</Td>
            <Td className={STACKED_CELL}>
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
            <Td className={STACKED_CELL}>
              <span
                className={`rounded-full px-2 py-0.5 text-xs font-medium ${m.status === 'active' ? 'bg-emerald-50 text-emerald-800' : m.status === 'invited' ? 'bg-sky-50 text-sky-800' : 'bg-slate-100 text-slate-600'}`}
              >
                {STATUS_TEXT[m.status]}
              </span>
            </Td>
            <Td className={`${STACKED_CELL} sm:text-right`}>
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
  )
}

export function ErrorBoundary() {
  return <GeneralErrorBoundary />
}
