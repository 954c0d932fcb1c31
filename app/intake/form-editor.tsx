/**
 * The intake form editor: sections of fields, every change a conform list intent. With
 * JavaScript the intents run in the browser; without it each button submits and the server
 * answers with the updated form (submission.reply()), so nothing needs a script.
 */
import { getInputProps, getSelectProps, getTextareaProps, type FieldMetadata, type FormMetadata } from '@conform-to/react'
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

export function IntakeFormEditor({ form, sections }: { form: Form; sections: Sections }) {
  const list = sections.getFieldList()
  return (
    <div className="space-y-6">
      {list.map((section, index) => (
        <SectionEditor key={section.key} form={form} sections={sections} section={section} index={index} count={list.length} />
      ))}
      <FieldError id={sections.errorId} errors={sections.errors} />
      <button
        {...form.insert.getButtonProps({ name: sections.name, defaultValue: NEW_SECTION })}
        className="w-full rounded-lg border-2 border-dashed border-slate-300 px-4 py-3 text-sm font-medium text-slate-600 hover:border-brand-400 hover:text-brand-800"
      >
        + Add section
      </button>
    </div>
  )
}

function SectionEditor({ form, sections, section, index, count }: { form: Form; sections: Sections; section: Section; index: number; count: number }) {
  const { title, fields } = section.getFieldset()
  const list = fields.getFieldList()
  const name = title.value || `Section ${index + 1}`
  return (
    <section aria-label={`Section: ${name}`} className="rounded-lg border border-slate-200 bg-white shadow-sm">
      <div className="flex flex-wrap items-start gap-3 rounded-t-lg border-b border-slate-200 bg-slate-50 px-4 py-3">
        <Field
          className="min-w-60 flex-1"
          label={`Section ${index + 1} title`}
          labelClassName="block text-xs font-medium uppercase tracking-wide text-slate-500"
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
            <FieldEditor form={form} list={fields} field={field} index={f} count={list.length} />
          </li>
        ))}
      </ol>
      <div className="border-t border-slate-100 px-4 py-3">
        <FieldError id={fields.errorId} errors={fields.errors} />
        <button
          {...form.insert.getButtonProps({ name: fields.name, defaultValue: NEW_FIELD })}
          aria-label={`Add a field to ${name}`}
          className="rounded-md border border-brand-200 bg-brand-50 px-3 py-1.5 text-sm font-medium text-brand-800 hover:bg-brand-100"
        >
          + Add field
        </button>
      </div>
    </section>
  )
}

function FieldEditor({ form, list, field, index, count }: { form: Form; list: FieldList; field: Field; index: number; count: number }) {
  const { label, key, type, required, phi, help, options, format } = field.getFieldset()
  // Locked by what the server sent, not by what is typed: a new field cannot become one.
  const locked = isProtectedKey(key.initialValue) ? key.initialValue : null
  const isSelect = type.value === 'select'
  const name = label.value || key.value || 'New field'
  return (
    <fieldset className="px-4 py-4" aria-describedby={locked ? `${field.id}-locked` : undefined}>
      <legend className="sr-only">{name}</legend>
      <div className="flex flex-wrap items-center gap-2">
        <p aria-hidden="true" className="mr-auto text-sm font-semibold text-slate-800">
          <span className="text-slate-400 tabular-nums">{index + 1}.</span> {name}
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
          className="sm:col-span-3"
          label="Label"
          inputProps={{ ...getInputProps(label, { type: 'text' }), maxLength: 200 }}
          controlClassName={editorControl}
          errors={label.errors}
        />
        <Field
          className="sm:col-span-2"
          label="Key"
          inputProps={{
            ...getInputProps(key, { type: 'text' }),
            readOnly: !!locked,
            placeholder: 'e.g. referral_source',
            autoCapitalize: 'off',
            spellCheck: false,
          }}
          controlClassName={`${editorControl} font-mono read-only:bg-slate-50 read-only:text-slate-500`}
          errors={key.errors}
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
              Help text <span className="font-normal text-slate-400">(optional)</span>
            </>
          }
          inputProps={{ ...getInputProps(help, { type: 'text' }), maxLength: 300 }}
          controlClassName={editorControl}
          errors={help.errors}
        />
        <div className="flex flex-col justify-end gap-1 sm:col-span-2">
          <label className="flex items-center gap-2 text-sm">
            <input {...getInputProps(required, { type: 'checkbox' })} className="size-4 rounded border-slate-300" />
            Required
          </label>
          <label className="flex items-center gap-2 text-sm">
            {locked ? (
              <>
                <input type="hidden" name={phi.name} value="on" />
                <input id={phi.id} type="checkbox" checked disabled readOnly className="size-4 rounded border-slate-300" />
              </>
            ) : (
              <input {...getInputProps(phi, { type: 'checkbox' })} className="size-4 rounded border-slate-300" />
            )}
            PHI <span className="text-xs text-slate-500">(encrypted)</span>
          </label>
          <FieldError id={required.errorId} errors={required.errors} />
          <FieldError id={phi.errorId} errors={phi.errors} />
        </div>
        <FieldFormatSelect className="sm:col-span-6" meta={format} controlClassName={editorControl} />

        {/* One element whatever the type, so typed options survive a change of type. */}
        <details open={isSelect || !!options.errors?.length || undefined} className="group sm:col-span-6">
          <summary className="cursor-pointer text-sm font-medium text-slate-700 group-open:mb-1">
            Options {isSelect ? null : <span className="font-normal text-slate-400">(for choice fields only)</span>}
          </summary>
          <label htmlFor={options.id} className="block text-xs text-slate-500">
            <span className="sr-only">Options: </span>One per line, or separated by commas.
          </label>
          <Textarea
            {...getTextareaProps(options)}
            rows={Math.min(8, Math.max(3, (options.value ?? '').split('\n').length))}
            className={`mt-1 block w-full ${editorControl} font-mono`}
          />
          <FieldError id={options.errorId} errors={options.errors} />
        </details>
      </div>
    </fieldset>
  )
}
