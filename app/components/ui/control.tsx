/**
 * The look of every text box, list and date box: one place to change it. Field, SelectField,
 * TextareaField and DateField (field.tsx) put a label and the errors around these; use the
 * bare controls where the label is elsewhere (a table row, an aria-label).
 */
import type { InputHTMLAttributes, SelectHTMLAttributes, TextareaHTMLAttributes } from 'react'

/** Joins class names, skipping the empty ones. */
export const cx = (...classes: (string | false | null | undefined)[]) => classes.filter(Boolean).join(' ')

/**
 * How roomy a control is. `className` adds layout (width, margins, a font) and never repeats
 * a padding, so two paddings never fight.
 */
export const CONTROL_SIZES = {
  /** In a table row, beside a compact button. */
  compact: 'px-2 py-1',
  normal: 'px-2 py-1.5',
  /** The referral form: what a referrer fills in, field after field. */
  large: 'px-3 py-2',
} as const
export type ControlSize = keyof typeof CONTROL_SIZES

export const controlClass = (size: ControlSize = 'normal', className?: string) => cx('rounded-md border border-slate-300', CONTROL_SIZES[size], className)

type Sized = { size?: ControlSize }

export function Input({ size, className, ...props }: Omit<InputHTMLAttributes<HTMLInputElement>, 'size'> & Sized) {
  return <input {...props} className={controlClass(size, className)} />
}

export function Select({ size, className, ...props }: Omit<SelectHTMLAttributes<HTMLSelectElement>, 'size'> & Sized) {
  return <select {...props} className={controlClass(size, className)} />
}

export function Textarea({ size, className, ...props }: TextareaHTMLAttributes<HTMLTextAreaElement> & Sized) {
  return <textarea {...props} className={controlClass(size, className)} />
}
