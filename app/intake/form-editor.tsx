/**
 * The intake form editor: sections of fields, every change a conform list intent. With
 * JavaScript the intents run in the browser; without it each button submits and the server
 * answers with the updated form (submission.reply()), so nothing needs a script. Sections fold
 * away (native <details>, so without JavaScript too); a field's key sits under "Advanced",
 * made from its label until published (docs/decisions/036-intake-form-editor.md).
 */
import { getInputProps, getSelectProps, getTextareaProps, type FieldMetadata, type FormMetadata } from '@conform-to/react'
import { useState, type ReactNode } from 'react'
import { FieldError } from '~/components/forms'
import { Textarea } from '~/components/ui/control'
import { Field, SelectField } from '~/components/ui/field'
import { FieldFormatSelect } from './field-format-select'
import { FIELD_TYPE_LABELS, FIELD_TYPES, NEW_FIELD, NEW_SECTION, PROTECTED_FIELDS, isProtectedKey, type IntakeFormEditorInput } from './definition-schema'

type Form = FormMetadata<IntakeFormEditorInput, string[]>
type Sections = FieldMetadata<IntakeFormEditorInput['sections'], IntakeFormEditorInput, string[]>
type Section = FieldMetadata<IntakeFormEditorInput['sections'][number], IntakeFormEditorInput, string[]>
type FieldList = FieldMetadata<IntakeFormEditorInput['sections'][number]['fields'], IntakeFormEditorInput, string[]>
type Field = FieldMetadata<IntakeFormEditorInput['sections'][number]['fields'][number], IntakeFormEditorInput, string[]>

/** Added to the shared control look: the editor is dense, and a field in error has a red edge. */
const editorControl = 'text-sm aria-invalid:border-red-400'
const smallButton =
  'rounded-md border border-slate-300 bg-white px-2 py-1 text-xs font-medium text-slate-700 hover:bg-slate-50 disabled:cursor-not-allowed disabled:opacity-40'
const removeButton = 'rounded-md border border-red-200 bg-white px-2 py-1 text-xs font-medium text-red-700 hover:bg-red-50'

/** What the page knows besides the form: the keys each field ends up with, the published ones, the section a server round trip was about. */
export type EditorContext = { keys: string[][]; publishedKeys: ReadonlySet<string>; touchedSection: number | null }

export function IntakeFormEditor({ form, sections, context }: { form: Form; sections: Sections; context: EditorContext }) {
  const list = sections.getFieldList()
  return (
    <div className="space-y-4">
      {list.map((section, index) => (
        <SectionEditor key={section.key} form={form} sections={sections} section={section} index={index} count={list.length} context={context} />
      ))}
      <FieldError id={sections.errorId} errors={sections.errors} />
      <button
        {...form.insert.getButtonProps({ name: sections.name, defaultValue: NEW_SECTION })}
        className="w-full rounded-lg border-2 border-dashed border-slate-300 px-4 py-3 text-sm font-medium text-slate-700 hover:border-brand-400 hover:text-brand-800"
      >
        + Add section
      </button>
    </div>
  )
}

/**
 * A <details> that opens by itself when `reveal` becomes true (errors inside it, a field just
 * added) and otherwise stays as the admin left it.
 */
function Fold({ reveal, className, summary, children }: { reveal: boolean; className?: string; summary: ReactNode; children: ReactNode }) {
  const [open, setOpen] = useState(reveal)
  // Adjusted while rendering, when `reveal` turns true (react.dev: "storing information from previous renders").
  const [revealed, setRevealed] = useState(reveal)
  if (reveal !== revealed) {
    setRevealed(reveal)
    if (reveal) setOpen(true)
  }
  return (
    <details open={open} onToggle={(event) => setOpen(event.currentTarget.open)} className={className}>
      {summary}
      {children}
    </details>
  )
}

function SectionEditor({
  form,
  sections,
  section,
  index,
  count,
  context,
}: {
  form: Form
  sections: Sections
  section: Section
  index: number
  count: number
  context: EditorContext
}) {
  const { title, fields } = section.getFieldset()
  const list = fields.getFieldList()
  const name = title.value || `Section ${index + 1}`
  const errors = Object.keys(section.allErrors).length
  // Folded, unless new (no title yet), in error, or what the last server round trip changed.
  const reveal = !title.initialValue || errors > 0 || context.touchedSection === index
  return (
    <section aria-label={`Section: ${name}`} className="rounded-lg border border-slate-200 bg-white shadow-sm">
      <Fold
        reveal={reveal}
        className="group"
        summary={
          <summary className="flex cursor-pointer flex-wrap items-baseline gap-x-3 rounded-lg px-4 py-3 hover:bg-slate-50 group-open:rounded-b-none group-open:border-b group-open:border-slate-200">
            <span className="font-semibold text-slate-900">{name}</span>
            <span className="text-sm text-slate-700">
              {list.length} {list.length === 1 ? 'field' : 'fields'}
            </span>
            {errors ? <span className="text-sm font-medium text-red-700">Has errors</span> : null}
          </summary>
        }
      >
        <div className="flex flex-wrap items-start gap-3 border-b border-slate-200 bg-slate-50 px-4 py-3">
          <Field
            className="min-w-60 flex-1"
            label={`Section ${index + 1} title`}
            labelClassName="block text-xs font-medium uppercase tracking-wide text-slate-700"
            inputProps={getInputProps(title, { type: 'text' })}
            controlClassName={`${editorControl} bg-white font-semibold`}
            errors={title.errors}
          />
          <div className="mt-5 flex gap-1">
            <button
              {...form.reorder.getButtonProps({ name: sections.name, from: index, to: index - 1 })}
              disabled={index === 0}
              aria-label={`Move section ${name} up`}
              className={smallButton}
            >
              ↑ Up
            </button>
            <button
              {...form.reorder.getButtonProps({ name: sections.name, from: index, to: index + 1 })}
              disabled={index === count - 1}
              aria-label={`Move section ${name} down`}
              className={smallButton}
            >
              ↓ Down
            </button>
            {list.some((f) => isProtectedKey(f.getFieldset().key.initialValue)) ? null : (
              <button {...form.remove.getButtonProps({ name: sections.name, index })} aria-label={`Remove section ${name}`} className={removeButton}>
                Remove section
              </button>
            )}
          </div>
        </div>
        <ol className="divide-y divide-slate-100">
          {list.map((field, f) => (
            <li key={field.key}>
              <FieldEditor form={form} list={fields} field={field} index={f} count={list.length} madeKey={context.keys[index]?.[f] ?? ''} context={context} />
            </li>
          ))}
        </ol>
        <div className="border-t border-slate-100 px-4 py-3">
          <FieldError id={fields.errorId} errors={fields.errors} />
          {/* The name starts with the words shown (WCAG 2.5.3): "+ Add field to Referral". */}
          <button
            {...form.insert.getButtonProps({ name: fields.name, defaultValue: NEW_FIELD })}
            className="rounded-md border border-brand-200 bg-brand-50 px-3 py-1.5 text-sm font-medium text-brand-800 hover:bg-brand-100"
          >
            + Add field<span className="sr-only"> to {name}</span>
          </button>
        </div>
      </Fold>
    </section>
  )
}

function FieldEditor({
  form,
  list,
  field,
  index,
  count,
  madeKey,
  context,
}: {
  form: Form
  list: FieldList
  field: Field
  index: number
  count: number
  madeKey: string
  context: EditorContext
}) {
  const { label, key, type, required, phi, help, options, format } = field.getFieldset()
  // Locked by what the server sent, not by what is typed: a new field cannot become one.
  const locked = isProtectedKey(key.initialValue) ? key.initialValue : null
  // A published key is where referrals already store this field's answers: it stays.
  // (A field that took a published key as a duplicate is the one in error: it stays editable.)
  const fixedKey = locked !== null || (typeof key.initialValue === 'string' && context.publishedKeys.has(key.initialValue) && !key.errors?.length)
  const isSelect = type.value === 'select'
  const name = label.value || key.value || 'New field'
  const keyHelpId = `${key.id}-help`
  const requiredProps = getInputProps(required, { type: 'checkbox' })
  const phiProps = getInputProps(phi, { type: 'checkbox' })
  return (
    <fieldset className="px-4 py-4" aria-describedby={locked ? `${field.id}-locked` : undefined}>
      <legend className="sr-only">{name}</legend>
      <div className="flex flex-wrap items-center gap-2">
        <p aria-hidden="true" className="mr-auto text-sm font-semibold text-slate-800">
          <span className="text-slate-600 tabular-nums">{index + 1}.</span> {name}
        </p>
        {locked ? (
          <span id={`${field.id}-locked`} className="rounded-full bg-amber-50 px-2 py-0.5 text-xs font-medium text-amber-800 ring-1 ring-amber-200">
            Used for duplicate detection
          </span>
        ) : null}
        <button
          {...form.reorder.getButtonProps({ name: list.name, from: index, to: index - 1 })}
          disabled={index === 0}
          aria-label={`Move ${name} up`}
          className={smallButton}
        >
          ↑ Up
        </button>
        <button
          {...form.reorder.getButtonProps({ name: list.name, from: index, to: index + 1 })}
          disabled={index === count - 1}
          aria-label={`Move ${name} down`}
          className={smallButton}
        >
          ↓ Down
        </button>
        {locked ? null : (
          <button {...form.remove.getButtonProps({ name: list.name, index })} aria-label={`Remove ${name}`} className={removeButton}>
            Remove
          </button>
        )}
      </div>

      <div className="mt-3 grid gap-3 sm:grid-cols-6">
        <Field
          className="sm:col-span-5"
          label="Label"
          inputProps={{ ...getInputProps(label, { type: 'text' }), maxLength: 200 }}
          controlClassName={editorControl}
          errors={label.errors}
        />
        {locked ? (
          <>
            {/* A protected field keeps its type: shown, not editable, and sent as it is. */}
            <input type="hidden" name={type.name} value={PROTECTED_FIELDS[locked]} />
            <SelectField
              className="sm:col-span-1"
              label="Type"
              selectProps={{ id: type.id, disabled: true, value: PROTECTED_FIELDS[locked] }}
              options={[[PROTECTED_FIELDS[locked]!, FIELD_TYPE_LABELS[PROTECTED_FIELDS[locked]!]]]}
              controlClassName={`${editorControl} bg-slate-50 text-slate-500`}
              errors={type.errors}
            />
          </>
        ) : (
          <SelectField
            className="sm:col-span-1"
            label="Type"
            selectProps={getSelectProps(type)}
            options={FIELD_TYPES.map((t) => [t, FIELD_TYPE_LABELS[t]] as const)}
            controlClassName={editorControl}
            errors={type.errors}
          />
        )}

        <Field
          className="sm:col-span-4"
          label={
            <>
              Help text <span className="font-normal text-slate-600">(optional)</span>
            </>
          }
          inputProps={{ ...getInputProps(help, { type: 'text' }), maxLength: 300 }}
          controlClassName={editorControl}
          errors={help.errors}
        />
        {/* Checkboxes 24 px apart at least (WCAG 2.2 target size). */}
        <div className="flex flex-col justify-end gap-2 sm:col-span-2">
          <label className="flex items-center gap-2 text-sm">
            <input key={requiredProps.key} {...withoutKey(requiredProps)} className="size-4 rounded border-slate-300" />
            Required
          </label>
          <label className="flex items-center gap-2 text-sm">
            {locked ? (
              <>
                <input type="hidden" name={phi.name} value="on" />
                <input id={phi.id} type="checkbox" checked disabled readOnly className="size-4 rounded border-slate-300" />
              </>
            ) : (
              <input key={phiProps.key} {...withoutKey(phiProps)} className="size-4 rounded border-slate-300" />
            )}
            PHI <span className="text-xs text-slate-600">(encrypted)</span>
          </label>
          <FieldError id={required.errorId} errors={required.errors} />
          <FieldError id={phi.errorId} errors={phi.errors} />
        </div>
        <FieldFormatSelect className="sm:col-span-6" meta={format} controlClassName={editorControl} />

        {/* One element whatever the type, so typed options survive a change of type. */}
        <details open={isSelect || !!options.errors?.length || undefined} className="group sm:col-span-6">
          <summary className="cursor-pointer text-sm font-medium text-slate-700 group-open:mb-1">
            Options {isSelect ? null : <span className="font-normal text-slate-600">(for choice fields only)</span>}
          </summary>
          <label htmlFor={options.id} className="block text-xs text-slate-600">
            <span className="sr-only">Options: </span>One per line, or separated by commas.
          </label>
          <OptionsBox
            {...getTextareaProps(options)}
            rows={Math.min(8, Math.max(3, (options.value ?? '').split('\n').length))}
            className={`mt-1 block w-full ${editorControl} font-mono`}
          />
          <FieldError id={options.errorId} errors={options.errors} />
        </details>

        <Fold
          reveal={!!key.errors?.length}
          className="group sm:col-span-6"
          summary={
            <summary className="cursor-pointer text-sm font-medium text-slate-700 group-open:mb-1">
              Advanced <span className="font-normal text-slate-600">(key: {madeKey || 'made from the label'})</span>
            </summary>
          }
        >
          <Field
            className="max-w-md"
            label="Key"
            inputProps={{
              ...getInputProps(key, { type: 'text', ariaDescribedBy: keyHelpId }),
              // Left blank, the key is made from the label (form-keys.ts): not a required box.
              required: false,
              readOnly: fixedKey,
              placeholder: fixedKey ? undefined : madeKey,
              autoCapitalize: 'off',
              spellCheck: false,
            }}
            help={
              <p id={keyHelpId} className="mt-1 text-xs text-slate-600">
                {fixedKey
                  ? 'Where referrals store this field’s answer. It was published, so it stays as it is.'
                  : `Where referrals will store this field’s answer. Left blank, it is made from the label${madeKey ? `: ${madeKey}` : ''}. Once published it cannot change.`}
              </p>
            }
            controlClassName={`${editorControl} font-mono read-only:bg-slate-50 read-only:text-slate-700`}
            errors={key.errors}
          />
        </Fold>
      </div>
    </fieldset>
  )
}

// conform's props carry a `key` (it remounts the control on a form reset): it goes on the
// control, not spread with the rest, which React warns about.
function withoutKey<P extends { key?: string }>({ key: _key, ...props }: P) {
  return props
}

function OptionsBox({ key: remount, ...props }: ReturnType<typeof getTextareaProps> & { key?: string; rows: number; className: string }) {
  return <Textarea key={remount} {...props} />
}
