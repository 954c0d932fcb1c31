/**
 * A labelled control with its errors under it, tied together for screen readers: the label
 * names the control's id, the errors are `${id}-error` (conform's errorId, which
 * getInputProps and friends already put in aria-describedby). Pass conform's props straight
 * through (`inputProps={getInputProps(fields.email, { type: 'email' })}`), or plain ones in a
 * GET filter form (`{ id, name, defaultValue }`).
 */
import type { InputHTMLAttributes, ReactNode, SelectHTMLAttributes, TextareaHTMLAttributes } from 'react'
import { FieldError } from '../forms'
import { cx, Input, Select, Textarea, type ControlSize } from './control'

type Frame = {
  label: ReactNode
  errors?: string[]
  /** Under the control, before the errors (give it the id named in the control's aria-describedby). */
  help?: ReactNode
  /** The wrapper: grid placement, spacing. */
  className?: string
  /** Replaces the label's look (default: a small bold line above the control). */
  labelClassName?: string
  /** Adds to the control's look (default: full width, just under the label). */
  controlClassName?: string
  size?: ControlSize
}

// conform's props carry a `key` (it remounts the control when the form is reset): it goes on
// the control itself, not spread with the other props.
type InputProps = Omit<InputHTMLAttributes<HTMLInputElement>, 'size'> & { key?: string }
type SelectProps = Omit<SelectHTMLAttributes<HTMLSelectElement>, 'size'> & { key?: string }
type TextareaProps = TextareaHTMLAttributes<HTMLTextAreaElement> & { key?: string }

const LABEL = 'block text-sm font-medium'
const CONTROL = 'mt-1 block w-full'

function FieldFrame({ id, label, errors, help, className, labelClassName, children }: Frame & { id?: string; children: ReactNode }) {
  return (
    <div className={className}>
      <label htmlFor={id} className={labelClassName ?? LABEL}>
        {label}
      </label>
      {children}
      {help}
      {id ? <FieldError id={`${id}-error`} errors={errors} /> : null}
    </div>
  )
}

export function Field({ inputProps: { key, ...inputProps }, controlClassName, size, ...frame }: Frame & { inputProps: InputProps }) {
  return (
    <FieldFrame id={inputProps.id} {...frame}>
      <Input key={key} {...inputProps} size={size} className={cx(CONTROL, controlClassName)} />
    </FieldFrame>
  )
}

/** A date box: the browser's own picker, sent as YYYY-MM-DD. */
export function DateField({ inputProps, ...field }: Frame & { inputProps: Omit<InputProps, 'type'> }) {
  return <Field {...field} inputProps={{ ...inputProps, type: 'date' }} />
}

/** `options` as [value, text] pairs, or `<option>`s as children. */
export function SelectField({
  selectProps: { key, ...selectProps },
  options,
  children,
  controlClassName,
  size,
  ...frame
}: Frame & { selectProps: SelectProps; options?: readonly (readonly [string, string])[]; children?: ReactNode }) {
  return (
    <FieldFrame id={selectProps.id} {...frame}>
      <Select key={key} {...selectProps} size={size} className={cx(CONTROL, controlClassName)}>
        {options?.map(([value, text]) => (
          <option key={value} value={value}>
            {text}
          </option>
        ))}
        {children}
      </Select>
    </FieldFrame>
  )
}

export function TextareaField({ textareaProps: { key, ...textareaProps }, controlClassName, size, ...frame }: Frame & { textareaProps: TextareaProps }) {
  return (
    <FieldFrame id={textareaProps.id} {...frame}>
      <Textarea key={key} {...textareaProps} size={size} className={cx(CONTROL, controlClassName)} />
    </FieldFrame>
  )
}

/** The props of a GET filter's control: its value comes from the address, and the form sends it back there. */
export const filterProps = (name: string, value: string | undefined) => ({ id: `filter-${name}`, name, defaultValue: value ?? '' })

/**
 * A set of checkboxes under one legend, each its own field ("on" when ticked), with the set's
 * errors under it (a schema reports a refused choice on one of the fields: pass that one's).
 */
export function CheckboxesField({
  legend,
  idPrefix,
  options,
  errorId,
  errors,
}: {
  legend: ReactNode
  idPrefix: string
  options: { name: string; label: ReactNode; defaultChecked?: boolean }[]
  errorId: string
  errors?: string[]
}) {
  return (
    <fieldset aria-describedby={errors?.length ? errorId : undefined}>
      <legend className="text-sm font-medium">{legend}</legend>
      <div className="mt-2 space-y-2">
        {options.map((option) => {
          const id = `${idPrefix}-${option.name}`
          return (
            <div key={option.name} className="flex items-start gap-2">
              <input type="checkbox" id={id} name={option.name} value="on" className="mt-1 size-4 shrink-0" defaultChecked={option.defaultChecked} />
              <label htmlFor={id} className="text-sm">
                {option.label}
              </label>
            </div>
          )
        })}
      </div>
      <FieldError id={errorId} errors={errors} />
    </fieldset>
  )
}
