/**
 * What publishing the edited intake form would do: the form as referrers will see it (the
 * very component of the referral page, fed the edited definition), and the list of changes
 * since the published version. With JavaScript both follow the typing; without it they show
 * the form as the server last saw it (after any button, or "Review changes").
 */
import { useForm } from '@conform-to/react'
import { useMemo } from 'react'
import type { IntakeFormDefinition } from '~/db/schema'
import { IntakeFormFields } from './intake-form-fields'

/**
 * The edited form, with keys made unique for display: while two fields share a key (an error
 * the editor reports) each still gets its own control. Its controls belong to a form that is
 * never on the page, so nothing typed in the preview is sent with the editor.
 */
export function FormPreview({ definition }: { definition: IntakeFormDefinition }) {
  const [, fields] = useForm({ id: 'intake-form-preview' })
  const shown = useMemo(() => {
    const seen = new Set<string>()
    return {
      sections: definition.sections.map((section, s) => ({
        title: section.title || `Section ${s + 1}`,
        fields: section.fields.map((field, f) => {
          const key = seen.has(field.key) ? `${field.key}__${s}_${f}` : field.key
          seen.add(key)
          return { ...field, key, label: field.label || 'New field' }
        }),
      })),
    }
  }, [definition])
  return (
    <aside aria-labelledby="preview-heading" className="min-w-0 xl:sticky xl:top-4 xl:max-h-[calc(100vh-2rem)] xl:overflow-y-auto">
      <div className="rounded-lg border border-slate-200 bg-slate-100 p-4">
        <h2 id="preview-heading" className="text-lg font-semibold">
          Preview
        </h2>
        <p className="mt-1 text-sm text-slate-700">The form as referrers will see it once published. Try it: nothing typed here is kept or sent.</p>
        <div className="mt-4" data-testid="form-preview">
          <IntakeFormFields definition={shown} fields={fields} />
        </div>
      </div>
    </aside>
  )
}

/** The changes since the published version, one line each; without JavaScript, a button brings them up to date. */
export function FormChanges({ version, changes, reviewButton }: { version: number; changes: string[]; reviewButton: boolean }) {
  return (
    <section id="changes" aria-labelledby="changes-heading" className="mt-6 scroll-mt-4 rounded-lg border border-slate-200 bg-white px-4 py-3 shadow-sm">
      <h2 id="changes-heading" className="text-base font-semibold">
        {version ? `Changes since version ${version}` : 'Changes from the starting form'}
      </h2>
      {changes.length ? (
        <ul className="mt-2 list-disc space-y-1 pl-5 text-sm text-slate-800" data-testid="form-changes">
          {changes.map((change, i) => (
            <li key={i}>{change}</li>
          ))}
        </ul>
      ) : (
        <p className="mt-1 text-sm text-slate-700">None yet. What you change above is listed here before you publish it.</p>
      )}
      {reviewButton ? (
        // Without JavaScript the list is as the server last saw the form: this brings it (and the preview) up to date.
        <button
          type="submit"
          name="intent"
          value="review"
          formAction="/admin/intake-form#changes"
          className="mt-3 rounded-md border border-slate-300 bg-white px-3 py-1.5 text-sm font-medium hover:bg-slate-50"
        >
          Review changes
        </button>
      ) : null}
    </section>
  )
}
