import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from '@remix-run/cloudflare'
import { data, redirect } from '@remix-run/cloudflare'
import { getFormProps, getInputProps, useForm } from '@conform-to/react'
import { getZodConstraint, parseWithZod } from '@conform-to/zod/v4'
import { Form, useActionData, useLoaderData, useNavigation } from '@remix-run/react'
import { useMemo, useSyncExternalStore } from 'react'
import { requireClinic, requirePermission, requireUser } from '~/auth/guards.server'
import { GeneralErrorBoundary } from '~/components/error-boundary'
import { Button } from '~/components/ui/button'
import { intakeForms } from '~/db/schema'
import { defaultIntakeForm } from '~/intake/default-form'
import { IntakeFormEditorSchema, MAX_FIELDS, toDefinition, toEditorValue } from '~/intake/definition-schema'
import { definitionDigest, draftDefinition, formChanges, sameDefinition } from '~/intake/form-changes'
import { IntakeFormEditor } from '~/intake/form-editor'
import { keysOf } from '~/intake/form-keys'
import { FormChanges, FormPreview } from '~/intake/form-preview'
import { currentIntakeForm } from '~/intake/intake-forms.server'
import { parseForm } from '~/utils/form.server'
import { invariantResponse } from '~/utils/misc'
import { clinicTimeZone, formatClinicTime } from '~/utils/clinic-time'

export const meta: MetaFunction = () => [{ title: 'Intake form · IntakePilot' }]

const SOMEONE_ELSE_PUBLISHED = 'Someone else published a new version meanwhile; reload to see it.'
const nothingChanged = (version: number) => `Nothing has changed since version ${version}: there is nothing to publish.`

export async function loader({ request, context }: LoaderFunctionArgs) {
  const user = requireUser(request, context)
  requirePermission(user, 'update:intake-form:any')
  const clinicId = requireClinic(user)
  const current = await context.db.tenant((tx) => currentIntakeForm(tx, clinicId))
  const version = current?.version ?? 0
  const published = Number(new URL(request.url).searchParams.get('published'))
  return {
    version,
    // In the clinic's zone, named (the page's text is the server's: no clock read twice).
    publishedAt: current?.publishedAt ? formatClinicTime(current.publishedAt, clinicTimeZone(context.clinic?.settings)) : null,
    // A clinic always gets a version 1; this is only a starting point should one be missing.
    defaultValue: toEditorValue(current?.definition ?? defaultIntakeForm(['Consultation']), version),
    notice: Number.isInteger(published) && published >= 1 && published <= version ? `Published version ${published}` : null,
  }
}

export async function action({ request, context }: ActionFunctionArgs) {
  const user = requireUser(request, context)
  requirePermission(user, 'update:intake-form:any')
  const clinicId = requireClinic(user)
  const formData = await request.formData()
  const submission = parseEdit(formData)
  // A list intent (add, remove, move) without JavaScript: answer with the updated form.
  if (submission.status !== 'success') return data({ result: submission.reply() }, { status: submission.status === 'error' ? 400 : 200 })
  const intent = formData.get('intent')
  // Without JavaScript the changes and the preview are as the server last saw the form: show them as it is now.
  if (intent === 'review') return data({ result: submission.reply() })
  invariantResponse(intent === 'publish' || intent === 'confirm', 'Unknown intent')

  const { baseVersion } = submission.value
  const definition = toDefinition(submission.value)
  const digest = await definitionDigest(definition)
  // Without JavaScript, Publish first shows what it would publish and asks (decision 054); the
  // confirmation carries a digest of what was shown, so an edit made after it is shown again.
  const reviewed = formData.get('reviewed')
  const askFirst = intent === 'confirm' || (typeof reviewed === 'string' && reviewed !== digest)
  let version: number | null | 'unchanged' | 'ask'
  try {
    version = await context.db.tenant(async (tx) => {
      const current = await currentIntakeForm(tx, clinicId)
      // Edited from an older version: publishing would silently undo someone else's changes.
      if ((current?.version ?? 0) !== baseVersion) return null
      // A version that changes nothing would only make every later referral look like a new form.
      if (current && sameDefinition(current.definition, definition)) return 'unchanged'
      if (askFirst) return 'ask'
      // The version after the one edited, never "the latest + 1": a publish that commits between
      // the check above and this insert then collides on (clinic_id, version) instead of being
      // silently published over.
      const next = baseVersion + 1
      const [row] = await tx
        .insert(intakeForms)
        .values({ clinicId, version: next, definition, publishedAt: new Date(), createdBy: user.id })
        .returning({ id: intakeForms.id })
      await context.audit(tx, { action: 'form.publish', entityType: 'intake_form', entityId: row!.id, details: { version: next } })
      return next
    })
  } catch (error) {
    // Two admins publishing at once: the unique (clinic_id, version) index stops the second.
    if (!isUniqueViolation(error)) throw error
    version = null
  }
  if (version === null) return data({ result: submission.reply({ formErrors: [SOMEONE_ELSE_PUBLISHED] }) }, { status: 409 })
  if (version === 'unchanged') return data({ result: submission.reply({ formErrors: [nothingChanged(baseVersion)] }) }, { status: 400 })
  const question: PublishQuestion = { digest, changedSinceReview: intent === 'publish' }
  if (version === 'ask') return data({ result: submission.reply(), confirm: question })
  throw redirect(`/admin/intake-form?published=${version}`)
}

/** What Publish without JavaScript answers: the digest of what the page then shows, and whether it was asked before. */
type PublishQuestion = { digest: string; changedSinceReview: boolean }

/**
 * The editor's buttons add, remove and move sections and fields (conform list intents) so it
 * works without JavaScript; a form holds at most MAX_FIELDS fields in at most as many sections.
 */
function parseEdit(formData: FormData) {
  return parseForm(formData, IntakeFormEditorSchema, { also: ['intent', 'reviewed'], listIntents: true, maxItems: 2 * MAX_FIELDS })
}

function isUniqueViolation(error: unknown) {
  for (let e = error; e instanceof Object; e = (e as { cause?: unknown }).cause) {
    if ((e as { code?: unknown }).code === '23505') return true
  }
  return false
}

export default function IntakeFormPage() {
  const { version } = useLoaderData<typeof loader>()
  // A new version starts a fresh editor: its values are the published ones.
  return <Editor key={version} />
}

function Editor() {
  const { version, publishedAt, defaultValue, notice } = useLoaderData<typeof loader>()
  const actionData = useActionData<typeof action>()
  const navigation = useNavigation()
  const [form, fields] = useForm({
    id: 'intake-form-editor',
    lastResult: actionData?.result,
    defaultValue,
    constraint: getZodConstraint(IntakeFormEditorSchema),
    onValidate: ({ formData }) => parseWithZod(formData, { schema: IntakeFormEditorSchema }),
    shouldValidate: 'onBlur',
    shouldRevalidate: 'onInput',
  })
  // Read by hand: the answers' union reduces to its plainest member, `{ result }`.
  const asked = (actionData as { confirm?: PublishQuestion } | undefined)?.confirm ?? null
  const publishing = navigation.state === 'submitting' && navigation.formData?.get('intent') === 'publish'
  const hydrated = useHydrated()
  // What is on screen now (as typed, with JavaScript) against what is published, both read the same lenient way.
  const published = useMemo(() => draftDefinition(defaultValue), [defaultValue])
  const draft = draftDefinition(form.value)
  const changes = formChanges(published, draft)
  const context = {
    keys: keysOf(form.value),
    publishedKeys: new Set(published.sections.flatMap((s) => s.fields.map((f) => f.key))),
    touchedSection: touchedSection(actionData?.result.intent),
  }
  return (
    <main className="mx-auto max-w-7xl px-4 py-8 sm:px-6">
      <div className="flex flex-wrap items-end justify-between gap-4">
        <div>
          <h1 className="text-2xl font-semibold tracking-tight">Intake form</h1>
          <p className="mt-1 text-slate-600" data-testid="form-version">
            {version ? (
              <>
                Version {version}, published {publishedAt}
              </>
            ) : (
              'No version published yet'
            )}
          </p>
        </div>
      </div>
      <p className="mt-3 max-w-3xl text-sm text-slate-600">
        What referrers fill in. Changes take effect when you publish them as a new version; every referral keeps the version it was made with. Mark as PHI
        anything about the patient: it is encrypted. Fields used for duplicate detection can be relabelled but not removed.
      </p>
      {notice ? (
        <p role="status" className="mt-4 rounded-md border border-emerald-300 bg-emerald-50 px-3 py-2 text-sm text-emerald-900">
          {notice}
        </p>
      ) : null}
      {form.errors?.length ? (
        <ul id={form.errorId} role="alert" className="mt-4 space-y-1 rounded-md border border-red-300 bg-red-50 px-3 py-2 text-sm text-red-900">
          {form.errors.map((e) => (
            <li key={e}>{e}</li>
          ))}
        </ul>
      ) : form.status === 'error' ? (
        // Without JavaScript the page comes back at the top, far from the fields in error.
        <p role="alert" className="mt-4 rounded-md border border-red-300 bg-red-50 px-3 py-2 text-sm text-red-900">
          Nothing was published: correct the fields marked in red below.
        </p>
      ) : null}

      <div className="mt-6 grid gap-8 xl:grid-cols-[minmax(0,1fr)_28rem]">
        <Form method="post" {...getFormProps(form)} className="min-w-0">
          {/* The first submit button is the one Enter presses: disabled, so Enter never publishes or removes. */}
          <button type="submit" disabled hidden aria-hidden="true" tabIndex={-1} />
          <input {...getInputProps(fields.baseVersion, { type: 'hidden' })} />
          <IntakeFormEditor form={form} sections={fields.sections} context={context} />
          <FormChanges version={version} changes={changes} reviewButton={!hydrated} />
          {asked ? (
            <ConfirmPublish version={version} changes={changes} digest={asked.digest} changedSinceReview={asked.changedSinceReview} />
          ) : (
            <div className="sticky bottom-0 mt-6 flex flex-wrap items-center justify-end gap-3 rounded-t-lg border border-b-0 border-slate-200 bg-white px-4 py-3 shadow-[0_-4px_12px_-6px_rgb(0_0_0/0.15)]">
              <p className="mr-auto text-sm text-slate-700">
                {changes.length ? `${changes.length} ${changes.length === 1 ? 'change' : 'changes'} (listed above). ` : 'No changes yet. '}
                Publishing makes this version {version + 1}, used for new referrals from now on.
              </p>
              {hydrated ? (
                // The list above follows the typing: what is published is what it says.
                <Button type="submit" name="intent" value="publish" variant="primary" size="lg" className="text-sm" disabled={publishing}>
                  {publishing ? 'Publishing…' : `Publish version ${version + 1}`}
                </Button>
              ) : (
                // Without JavaScript the list may be older than what was typed: the server shows it as sent and asks first.
                <Button
                  type="submit"
                  name="intent"
                  value="confirm"
                  formAction="/admin/intake-form#publish-confirm"
                  variant="primary"
                  size="lg"
                  className="text-sm"
                >
                  {`Publish version ${version + 1}…`}
                </Button>
              )}
            </div>
          )}
        </Form>
        <FormPreview definition={draft} />
      </div>
    </main>
  )
}

/**
 * Without JavaScript, what Publish would do, as the server read the form, and a second press to
 * do it (decision 054). `reviewed` tells the server what was shown here.
 */
function ConfirmPublish({ version, changes, digest, changedSinceReview }: { version: number; changes: string[]; digest: string; changedSinceReview: boolean }) {
  const next = version + 1
  return (
    <section
      id="publish-confirm"
      aria-labelledby="publish-confirm-heading"
      className="mt-6 scroll-mt-4 rounded-lg border border-amber-300 bg-amber-50 px-4 py-3 text-sm text-slate-900 shadow-sm"
    >
      <h2 id="publish-confirm-heading" className="text-base font-semibold">
        Publish version {next}?
      </h2>
      {changedSinceReview ? <p className="mt-1 font-medium">The form changed after you reviewed it: check the changes again.</p> : null}
      <p className="mt-1">
        {version ? `These changes since version ${version}` : 'These changes from the starting form'} apply to every new referral from now on; referrals already
        made keep the version they were made with:
      </p>
      <ul className="mt-2 list-disc space-y-1 pl-5" data-testid="publish-confirm-changes">
        {changes.map((change, i) => (
          <li key={i}>{change}</li>
        ))}
      </ul>
      <input type="hidden" name="reviewed" value={digest} />
      <div className="mt-3 flex flex-wrap justify-end gap-3">
        <Button type="submit" name="intent" value="review" formAction="/admin/intake-form#changes">
          Keep editing
        </Button>
        <Button type="submit" name="intent" value="publish" variant="primary" size="lg" className="text-sm">
          Publish version {next}
        </Button>
      </div>
    </section>
  )
}

/** The section a server round trip (a button pressed without JavaScript) added to, removed from or moved: it opens. */
function touchedSection(intent: { type: string; payload?: unknown } | undefined) {
  const payload = (intent?.payload ?? {}) as { name?: unknown; to?: unknown }
  if (typeof payload.name !== 'string') return null
  const inside = /^sections\[(\d+)\]/.exec(payload.name)
  if (inside) return Number(inside[1])
  return payload.name === 'sections' && typeof payload.to === 'number' ? payload.to : null
}

/** False in the server's HTML and until the page's script runs. */
function useHydrated() {
  return useSyncExternalStore(
    () => () => {},
    () => true,
    () => false,
  )
}

export function ErrorBoundary() {
  return <GeneralErrorBoundary />
}
