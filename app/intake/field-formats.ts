/**
 * Formats a text field of the intake form may declare (the form definition's `format`), checked
 * on the server and, with JavaScript, in the browser. Browser-safe. Health card numbers are the
 * reason: each province prints its own shape, and a clinic's form says which one it takes
 * (docs/decisions/031-referrer-profile-drafts-and-templates.md).
 */
import type { FieldFormat } from '~/db/schema'

type FormatRule = {
  /** As the form editor offers it. */
  label: string
  /** What the referrer is told when the value does not fit (after the field's label). */
  hint: string
  /** Checked on the value without spaces or dashes, in capitals, as the blind index sees it. */
  pattern: RegExp
}

export const FIELD_FORMATS: Record<FieldFormat, FormatRule> = {
  'ontario-health-card': {
    label: 'Ontario health card (10 digits, optional 2-letter version code)',
    hint: 'enter the 10 digits of an Ontario health card, then the version code if there is one, e.g. 1234-567-890-AB',
    pattern: /^\d{10}([A-Z]{2})?$/,
  },
  'bc-phn': {
    label: 'British Columbia personal health number (10 digits, starting with 9)',
    hint: 'enter the 10 digits of a BC personal health number, starting with 9, e.g. 9123 456 789',
    pattern: /^9\d{9}$/,
  },
  'quebec-ramq': {
    label: 'Quebec health insurance number (4 letters, 8 digits)',
    hint: 'enter the 4 letters and 8 digits of a RAMQ card, e.g. ABCD 1234 5678',
    pattern: /^[A-Z]{4}\d{8}$/,
  },
}

export const FIELD_FORMAT_KEYS = Object.keys(FIELD_FORMATS) as [FieldFormat, ...FieldFormat[]]
export const isFieldFormat = (value: unknown): value is FieldFormat => typeof value === 'string' && Object.hasOwn(FIELD_FORMATS, value)

/** Spaces, dashes and dots are how cards are printed and typed; the check ignores them, and case. */
export const compactFormatted = (value: string) => value.toUpperCase().replace(/[\s.-]/g, '')

export function fitsFormat(format: FieldFormat, value: string) {
  return FIELD_FORMATS[format].pattern.test(compactFormatted(value))
}
