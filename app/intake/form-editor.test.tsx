/**
 * The intake form editor rendered as the server renders it, with React's development checks
 * on (none may be logged), sections folded unless new, keys shown and published ones fixed, and
 * each "+ Add field" button named by the words it shows.
 */
import { useForm } from '@conform-to/react'
import { renderToStaticMarkup } from 'react-dom/server'
import { afterEach, describe, expect, test, vi } from 'vitest'
import { defaultIntakeForm } from './default-form'
import { NEW_SECTION, toEditorValue, type IntakeFormEditorInput } from './definition-schema'
import { draftDefinition, formChanges } from './form-changes'
import { IntakeFormEditor } from './form-editor'
import { keysOf } from './form-keys'
import { FormChanges, FormPreview } from './form-preview'

function Editor({ value }: { value: ReturnType<typeof toEditorValue> }) {
  const [form, fields] = useForm<IntakeFormEditorInput>({ id: 'intake-form-editor', defaultValue: value })
  const published = draftDefinition(toEditorValue(defaultIntakeForm(['Assessment']), 1))
  const draft = draftDefinition(form.value)
  const context = { keys: keysOf(form.value), publishedKeys: new Set(published.sections.flatMap((s) => s.fields.map((f) => f.key))), touchedSection: null }
  return (
    <>
      <form id={form.id}>
        <IntakeFormEditor form={form} sections={fields.sections} context={context} />
        <FormChanges version={1} changes={formChanges(published, draft)} reviewButton />
      </form>
      <FormPreview definition={draft} />
    </>
  )
}

afterEach(() => vi.restoreAllMocks())

describe('the intake form editor, rendered', () => {
  const value = () => toEditorValue(defaultIntakeForm(['Assessment']), 1)

  test('renders without a React warning; two untitled new sections are listed as changes', () => {
    const warnings = vi.spyOn(console, 'error').mockImplementation(() => {})
    const edited = value()
    edited.sections.push(structuredClone(NEW_SECTION), structuredClone(NEW_SECTION))
    const html = renderToStaticMarkup(<Editor value={edited} />)
    expect(warnings.mock.calls.map((call) => String(call[0]))).toEqual([])
    expect(html).toContain('Section “Untitled” added')
  })

  test('published sections are folded, a new one is open; every key is shown, published ones read-only', () => {
    const edited = value()
    edited.sections.push({ title: '', fields: [{ ...NEW_SECTION.fields[0]!, label: 'Preferred day' }] })
    const html = renderToStaticMarkup(<Editor value={edited} />)
    const folds = [...html.matchAll(/<section aria-label="Section: ([^"]*)"[^>]*><details( open="")?/g)].map((m) => [m[1], Boolean(m[2])])
    expect(folds).toEqual([
      ['Patient', false],
      ['Referring clinician', false],
      ['Referral', false],
      ['Consent', false],
      ['Section 5', true],
    ])
    expect(html).toContain('(key: patient_dob)')
    expect(html).toContain('(key: preferred_day)')
    expect(html).toMatch(/name="sections\[0\]\.fields\[2\]\.key"[^>]*readonly=""|readonly=""[^>]*name="sections\[0\]\.fields\[2\]\.key"/)
    expect(html).toMatch(/<input[^>]*name="sections\[4\]\.fields\[0\]\.key"[^>]*placeholder="preferred_day"/)
    expect(html).not.toMatch(/<input[^>]*readonly=""[^>]*name="sections\[4\]\.fields\[0\]\.key"/)
  })

  test('an "+ Add field" button is named by what it shows, then where it adds', () => {
    const html = renderToStaticMarkup(<Editor value={value()} />)
    expect(html).not.toMatch(/aria-label="Add a field/)
    expect(html).toContain('+ Add field<span class="sr-only"> to Referral</span>')
    // The grey that fails contrast on white (#90a1b9) is not used.
    expect(html).not.toContain('text-slate-400')
  })
})
