/**
 * The new-referral page's own things beside the form: the referrer's drafts and templates to
 * start from (each with its own small form to discard or remove it, outside the referral form),
 * and, inside the referral form, the buttons that save it as a draft or as a template. Those
 * buttons post the referral form to `?intent=...` (their formAction) and carry `data-keep`, so
 * the page's script lets the browser send them as they are: no validation (a draft may be
 * unfinished) and no upload (a draft keeps no files). Everything works without JavaScript.
 */
import { Form, Link } from '@remix-run/react'
import { FieldError } from '~/components/forms'
import { Button, buttonClass } from '~/components/ui/button'
import { Input } from '~/components/ui/control'
import { useClinicTime } from '~/utils/use-clinic-time'
import { DRAFT_ID_FIELD, TEMPLATE_NAME_FIELD } from './referrer-kit'

type Drafts = { id: string; patient: string | null; updatedAt: string; formVersion: number }[]
type Templates = { id: string; name: string }[]

const DONE: Record<string, string> = {
  'draft-saved': 'Draft saved. It is listed under “Your drafts” on this page until you send or discard it.',
  'draft-discarded': 'Draft discarded.',
  'template-removed': 'Template removed.',
}

/** Says what the last intent did (from the URL it redirected to, or the action's answer). */
export function KitNotice({ done, notice }: { done: string | null; notice?: string }) {
  const text = notice ?? (done ? DONE[done] : undefined)
  if (!text) return null
  return (
    <p role="status" className="mt-4 rounded-md border border-emerald-300 bg-emerald-50 px-3 py-2 text-sm text-emerald-900">
      {text}
    </p>
  )
}

export function StartFrom({ drafts, templates, current, hasProfile }: { drafts: Drafts; templates: Templates; current: string | null; hasProfile: boolean }) {
  const time = useClinicTime()
  return (
    <div className="mt-6 grid gap-4 sm:grid-cols-2">
      <section aria-labelledby="drafts-heading" className="rounded-lg border border-slate-200 bg-white p-4 shadow-sm">
        <h2 id="drafts-heading" className="text-base font-semibold">
          Your drafts
        </h2>
        {drafts.length ? (
          <ul className="mt-2 divide-y divide-slate-100" data-testid="drafts">
            {drafts.map((draft) => (
              <li key={draft.id} className="flex flex-wrap items-center gap-2 py-2 text-sm">
                <span className="mr-auto min-w-0 break-words">
                  <span className="font-medium">{draft.patient ?? 'No patient name yet'}</span>
                  <span className="block text-slate-600">saved {time(draft.updatedAt)}</span>
                </span>
                {draft.id === current ? (
                  <span className="text-slate-600">Open below</span>
                ) : (
                  <Link
                    to={`/referrals/new?draft=${draft.id}`}
                    className={buttonClass({ size: 'xs' })}
                    aria-label={`Continue the draft for ${draft.patient ?? 'no patient name yet'}`}
                  >
                    Continue
                  </Link>
                )}
                <Form method="post" action="/referrals/new?intent=discard-draft" reloadDocument>
                  <input type="hidden" name="id" value={draft.id} />
                  <Button type="submit" size="xs" aria-label={`Discard the draft for ${draft.patient ?? 'no patient name yet'}`}>
                    Discard
                  </Button>
                </Form>
              </li>
            ))}
          </ul>
        ) : (
          <p className="mt-2 text-sm text-slate-600">None. “Save draft” under the form keeps a referral to finish later.</p>
        )}
      </section>
      <section aria-labelledby="templates-heading" className="rounded-lg border border-slate-200 bg-white p-4 shadow-sm">
        <h2 id="templates-heading" className="text-base font-semibold">
          Start from a template
        </h2>
        {templates.length ? (
          <ul className="mt-2 divide-y divide-slate-100" data-testid="templates">
            {templates.map((template) => (
              <li key={template.id} className="flex flex-wrap items-center gap-2 py-2 text-sm">
                <span className="mr-auto min-w-0 font-medium break-words">{template.name}</span>
                <Link to={`/referrals/new?template=${template.id}`} className={buttonClass({ size: 'xs' })} aria-label={`Use the template ${template.name}`}>
                  Use
                </Link>
                <Form method="post" action="/referrals/new?intent=remove-template" reloadDocument>
                  <input type="hidden" name="id" value={template.id} />
                  <Button type="submit" size="xs" aria-label={`Remove the template ${template.name}`}>
                    Remove
                  </Button>
                </Form>
              </li>
            ))}
          </ul>
        ) : (
          <p className="mt-2 text-sm text-slate-600">None yet. “Save as template” under the form keeps its service, urgency and your details.</p>
        )}
        <p className="mt-2 text-sm text-slate-600">
          {hasProfile ? 'Your details come from ' : 'Fill in '}
          <Link to="/profile" className="text-brand-700 underline">
            your profile
          </Link>
          {hasProfile ? '.' : ' once, and every new referral starts with your details.'}
        </p>
      </section>
    </div>
  )
}

/** Inside the referral form: the draft it continues, and the buttons that keep it for later. */
export function SaveForLater({ draftId, templateName, problem }: { draftId: string | null; templateName?: string; problem?: string }) {
  return (
    <div className="mt-6 rounded-lg border border-slate-200 bg-slate-50 p-4">
      {draftId ? <input type="hidden" name={DRAFT_ID_FIELD} value={draftId} /> : null}
      <div className="flex flex-wrap items-end gap-3">
        <Button type="submit" formAction="/referrals/new?intent=save-draft" data-keep="" formNoValidate>
          {draftId ? 'Save draft again' : 'Save draft'}
        </Button>
        <div className="min-w-0 grow">
          <label htmlFor="template-name" className="block text-sm font-medium">
            Template name <span className="font-normal text-slate-600">(to save this form’s non-patient fields)</span>
          </label>
          <Input
            id="template-name"
            name={TEMPLATE_NAME_FIELD}
            defaultValue={templateName}
            maxLength={80}
            className="mt-1 block w-full"
            aria-invalid={problem ? true : undefined}
            aria-describedby={problem ? 'template-problem' : undefined}
          />
        </div>
        <Button type="submit" formAction="/referrals/new?intent=save-template" data-keep="" formNoValidate>
          Save as template
        </Button>
      </div>
      <FieldError id="template-problem" errors={problem ? [problem] : undefined} />
      <p className="mt-2 text-sm text-slate-600">
        A draft keeps everything but attachments, encrypted, for you only. A template never keeps the patient’s details.
      </p>
    </div>
  )
}

/** The submit event's button asked to keep the form for later: let the browser send it as it is. */
export const isKeepSubmit = (event: { nativeEvent: Event }) => (event.nativeEvent as SubmitEvent).submitter?.hasAttribute('data-keep') === true
