/**
 * Buttons, and links that look like them. Primary is the one thing the page is for (send,
 * save, apply); secondary is everything else.
 */
import type { ButtonHTMLAttributes } from 'react'
import { cx } from './control'

const VARIANTS = {
  primary: 'bg-brand-700 text-white hover:bg-brand-800',
  secondary: 'border border-slate-300 bg-white hover:bg-slate-50',
} as const

/** `className` adds layout (a margin, full width, a shadow, a text size) and never repeats a padding. */
const SIZES = {
  /** In a table row: takes the row's text. */
  compact: 'px-2 py-1',
  xs: 'px-2 py-1 text-xs font-medium',
  sm: 'px-3 py-1.5 text-sm font-medium',
  md: 'px-3 py-2 text-sm font-medium',
  /** Takes the surrounding text size. */
  lg: 'px-4 py-2 font-medium',
  xl: 'px-5 py-2.5 font-medium',
} as const

export type ButtonLook = { variant?: keyof typeof VARIANTS; size?: keyof typeof SIZES; className?: string }

export const buttonClass = ({ variant = 'secondary', size = 'sm', className }: ButtonLook = {}) =>
  cx('rounded-md disabled:opacity-60', VARIANTS[variant], SIZES[size], className)

export function Button({ variant, size, className, type = 'button', ...props }: ButtonHTMLAttributes<HTMLButtonElement> & ButtonLook) {
  return <button type={type} {...props} className={buttonClass({ variant, size, className })} />
}
