/**
 * The editor's choice of a format for a short text field (app/intake/field-formats.ts): a
 * health card field says which province's cards it takes. Always rendered, so a format chosen
 * survives a change of type and back; the schema refuses it on any other type.
 */
import { getSelectProps, type FieldMetadata } from '@conform-to/react'
import { SelectField } from '~/components/ui/field'
import { FIELD_FORMAT_KEYS, FIELD_FORMATS } from './field-formats'

const OPTIONS = [['', 'Any text'] as const, ...FIELD_FORMAT_KEYS.map((key) => [key, FIELD_FORMATS[key].label] as const)]

export function FieldFormatSelect({
  meta,
  className,
  controlClassName,
}: {
  meta: FieldMetadata<string | undefined>
  className?: string
  controlClassName?: string
}) {
  return (
    <SelectField
      className={className}
      label={
        <>
          Format <span className="font-normal text-slate-600">(short text only)</span>
        </>
      }
      selectProps={getSelectProps(meta)}
      options={OPTIONS}
      controlClassName={controlClassName}
      errors={meta.errors}
    />
  )
}
