/**
 * The shell every section of the clinic settings page (/admin/clinic) shares: a region named by
 * its heading, what the setting does, "Saved." after its own save (never beside an error), the
 * error summary for its own form, then the form itself. A domain brings its section as this
 * shell around its fields (see app/clinic/section.ts for the intents and replies).
 */
import type { ReactNode } from 'react'
import { ErrorSummary, type SummarisedForm } from '~/components/forms'

export function SettingsSection({
  intent,
  title,
  description,
  saved,
  form,
  children,
}: {
  /** The section's intent: its heading's id (its form's id is the intent itself, where savedUrl lands). */
  intent: string
  title: string
  description: ReactNode
  /** Its own save just landed, and no error came back since. */
  saved: boolean
  /** The section's conform form, for its error summary. */
  form: SummarisedForm
  children: ReactNode
}) {
  const heading = `${intent}-heading`
  return (
    <section aria-labelledby={heading} className="rounded-lg border border-slate-200 bg-white p-4">
      <h2 id={heading} className="text-lg font-semibold">
        {title}
      </h2>
      <p className="mt-1 text-sm text-slate-600">{description}</p>
      {saved ? (
        <p role="status" className="mt-3 rounded-md border border-emerald-300 bg-emerald-50 px-3 py-2 text-sm text-emerald-900">
          Saved.
        </p>
      ) : null}
      <ErrorSummary form={form} />
      {children}
    </section>
  )
}
