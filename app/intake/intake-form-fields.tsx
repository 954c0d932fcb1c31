/**
 * The referral form, rendered from a clinic's form definition: one labelled control per
 * field, help text and errors tied to it for screen readers. Plain HTML controls, so the
 * form works without JavaScript.
 */
import { getInputProps, getSelectProps, getTextareaProps, type FieldMetadata } from '@conform-to/react'
import { FieldError } from '~/components/forms'
import { Field, SelectField, TextareaField } from '~/components/ui/field'
import type { IntakeField, IntakeFormDefinition } from '~/db/schema'

/** Added to the shared control look: white boxes that stand out from the card, red when in error. */
const control = 'bg-white shadow-sm aria-[invalid]:border-red-500'
const labelLook = 'block text-sm font-medium text-slate-800'
const LABELS: Record<string, string> = { routine: 'Routine', urgent: 'Urgent', emergent: 'Emergent' }
/** A choice as the form shows it: the stored urgencies are lowercase words, shown capitalised. */
export const optionLabel = (option: string) => LABELS[option] ?? option

export function IntakeFormFields({ definition, fields }: { definition: IntakeFormDefinition; fields: Record<string, FieldMetadata<unknown>> }) {
  return (
    <div className="space-y-8">
      {/* Two sections may share a title (the editor's preview shows what an admin types). */}
      {definition.sections.map((section, index) => (
        <fieldset key={index} className="rounded-lg border border-slate-200 bg-white p-5 shadow-sm">
          <legend className="px-1 text-base font-semibold text-slate-900">{section.title}</legend>
          <div className="mt-2 grid gap-x-6 gap-y-5 sm:grid-cols-2">
            {section.fields.map((field) => (
              <FieldControl key={field.key} field={field} meta={fields[field.key]!} />
            ))}
          </div>
        </fieldset>
      ))}
    </div>
  )
}

function FieldControl({ field, meta }: { field: IntakeField; meta: FieldMetadata<unknown> }) {
  const wide = field.type === 'textarea' || field.type === 'checkbox'
  const helpId = field.help ? `${meta.id}-help` : undefined
  const describedBy = [helpId, meta.errors?.length ? meta.errorId : undefined].filter(Boolean).join(' ') || undefined
  const label = (
    <>
      {field.label}
      {field.required ? <span className="text-red-700"> *</span> : <span className="font-normal text-slate-500"> (optional)</span>}
    </>
  )
  const help = field.help ? (
    <p id={helpId} className="mt-1 text-sm text-slate-500">
      {field.help}
    </p>
  ) : null

  if (field.type === 'checkbox') {
    const { key, ...props } = getInputProps(meta, { type: 'checkbox' })
    return (
      <div className="sm:col-span-2">
        <label className="flex items-start gap-3 text-sm">
          <input key={key} {...props} aria-describedby={describedBy} className="mt-0.5 size-4 rounded border-slate-300" />
          <span>{label}</span>
        </label>
        {help}
        <FieldError id={meta.errorId} errors={meta.errors} />
      </div>
    )
  }
  const frame = {
    label,
    help,
    errors: meta.errors,
    className: wide ? 'sm:col-span-2' : undefined,
    labelClassName: labelLook,
    controlClassName: control,
    size: 'large' as const,
  }
  if (field.type === 'textarea') return <TextareaField {...frame} textareaProps={{ ...getTextareaProps(meta), rows: 4, 'aria-describedby': describedBy }} />
  if (field.type === 'select') {
    const options = (field.options ?? []).map((option) => [option, optionLabel(option)] as const)
    return <SelectField {...frame} selectProps={{ ...getSelectProps(meta), 'aria-describedby': describedBy }} options={[['', 'Choose…'], ...options]} />
  }
  return (
    <Field
      {...frame}
      inputProps={{
        ...getInputProps(meta, { type: inputType(field) }),
        ...(field.type === 'phone' ? { autoComplete: 'tel', inputMode: 'tel' as const } : {}),
        'aria-describedby': describedBy,
      }}
    />
  )
}

function inputType(field: IntakeField) {
  switch (field.type) {
    case 'date':
      return 'date' as const
    case 'email':
      return 'email' as const
    case 'number':
      return 'number' as const
    case 'phone':
      return 'tel' as const
    default:
      return 'text' as const
  }
}
