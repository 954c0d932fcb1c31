import type { Submission } from '@conform-to/react'
import { useEffect, useRef, useState, type MouseEvent } from 'react'
import { cx } from './ui/control'

/** Field errors, announced to screen readers and tied to their input by id. `className` places them (a grid span). */
export function FieldError({ id, errors, className }: { id: string; errors?: string[]; className?: string }) {
  if (!errors?.length) return null
  return (
    // The alert is a wrapper: on the list itself, role="alert" would take away its list role,
    // and its items would be list items outside any list.
    <div id={id} role="alert" className={cx('mt-1 text-sm text-red-700', className)}>
      <ul className="space-y-0.5">
        {errors.map((e) => (
          <li key={e}>{e}</li>
        ))}
      </ul>
    </div>
  )
}

type When = { shouldValidate?: 'onSubmit' | 'onBlur' | 'onInput'; shouldRevalidate?: 'onSubmit' | 'onBlur' | 'onInput' }

/**
 * A form's client-side validation, fetched once the page is up instead of with it: zod and
 * conform's zod adapter are about 25 KB gzip, a fifth of a page's JavaScript. `load` must
 * import() the module that holds the schema (the action imports the same module statically,
 * so the server keeps validating with the very same schema). Until the module has arrived, or
 * if it never does, the form works as it does without JavaScript: checked on submit, by the
 * server. Spread the result into useForm's options; `when` applies once validation is local.
 */
export function useLazyValidation<M, S extends Submission<unknown, unknown, unknown>>(
  load: () => Promise<M>,
  validate: (module: M, formData: FormData) => S,
  when: When = {},
) {
  const [loaded, setLoaded] = useState<{ module: M } | null>(null)
  useEffect(() => {
    let live = true
    load().then(
      (module) => live && setLoaded({ module }),
      // A chunk that fails to load leaves validation to the server.
      () => {},
    )
    return () => {
      live = false
    }
    // Loaded once per mounted form: the module does not change while the page is up.
    // eslint-disable-next-line react-hooks/exhaustive-deps -- `load` is a new arrow each render, the module it loads is not
  }, [])
  if (!loaded) return { shouldValidate: 'onSubmit' as const, shouldRevalidate: 'onSubmit' as const }
  return { ...when, onValidate: ({ formData }: { formData: FormData }) => validate(loaded.module, formData) }
}

/** What ErrorSummary needs of conform's form metadata (useForm's first value). */
export type SummarisedForm = { id: string; allErrors: Record<string, string[]> }

/**
 * "There is a problem": every error of a form, at its top, each a link to its field, so that a
 * failed submit is never silent, even when the one field that is wrong is far down the page (or
 * is a checkbox whose only change is a line of red under it). Put it just above or inside the form.
 *
 * - Field errors are conform's (name -> messages; the field's id is `${form.id}-${name}`, as
 *   getInputProps makes it, unless `fieldIds` says otherwise); form-level errors and `messages`
 *   (e.g. an upload's answer) show as plain lines.
 * - Without JavaScript, the server's reply renders it with `autofocus`: the page lands on it.
 * - With JavaScript, focus moves to it once per submit that ends with errors (the browser's
 *   check, conform's or the server's reply), never while someone is typing a correction.
 */
export function ErrorSummary({
  form,
  messages = [],
  fieldIds = {},
  title = 'There is a problem',
}: {
  form: SummarisedForm
  messages?: (string | null | undefined)[]
  fieldIds?: Record<string, string>
  title?: string
}) {
  const ref = useRef<HTMLDivElement>(null)
  const attempts = useSubmitAttempts(form.id)
  const focusedFor = useRef(0)
  const lines = summaryLines(form, fieldIds, messages)
  const present = lines.length > 0
  useEffect(() => {
    if (!present || attempts === focusedFor.current) return
    focusedFor.current = attempts
    ref.current?.focus()
  }, [present, attempts])
  if (!present) return null
  const id = `${form.id}-error-summary`
  return (
    <div
      ref={ref}
      id={id}
      tabIndex={-1}
      // Rendered by the server after a failed submit: the browser focuses it when the page loads,
      // which is what lands a reader (and a screen reader) on what went wrong without JavaScript.
      // eslint-disable-next-line jsx-a11y/no-autofocus -- only ever rendered with errors to show, after a submit
      autoFocus
      aria-labelledby={`${id}-title`}
      className="mt-4 rounded-md border-2 border-red-700 bg-white px-4 py-3 text-sm text-red-900 focus:outline-2 focus:outline-offset-2 focus:outline-red-700"
      data-testid="error-summary"
    >
      <h2 id={`${id}-title`} className="font-semibold">
        {title}
      </h2>
      <ul className="mt-2 list-disc space-y-1 pl-5">
        {lines.map((line) => (
          <li key={line.key}>
            {line.target ? (
              <a href={`#${line.target}`} className="font-medium underline" onClick={(event) => focusField(event, line.target!)}>
                {line.text}
              </a>
            ) : (
              line.text
            )}
          </li>
        ))}
      </ul>
    </div>
  )
}

function summaryLines(form: SummarisedForm, fieldIds: Record<string, string>, messages: (string | null | undefined)[]) {
  const lines: { key: string; text: string; target?: string }[] = []
  for (const [name, errors] of Object.entries(form.allErrors)) {
    for (const text of errors ?? []) {
      lines.push(name ? { key: `${name}:${text}`, text, target: fieldIds[name] ?? `${form.id}-${name}` } : { key: `:${text}`, text })
    }
  }
  for (const text of messages) if (text) lines.push({ key: `message:${text}`, text })
  return lines
}

/** The link's own jump scrolls but leaves focus where it was: put it in the field, its label in view. */
function focusField(event: MouseEvent<HTMLAnchorElement>, id: string) {
  const field = document.getElementById(id)
  if (!field) return
  event.preventDefault()
  field.focus({ preventScroll: true })
  ;(field.closest('label, div') ?? field).scrollIntoView({ block: 'center' })
}

/**
 * How many times the form has been submitted since the page loaded (conform turns the browser's
 * own checks off, so a refused submit is a submit event that conform stops).
 */
function useSubmitAttempts(formId: string) {
  const [attempts, setAttempts] = useState(0)
  useEffect(() => {
    const counts = (event: Event) => {
      if (event.target instanceof HTMLFormElement && event.target.id === formId) setAttempts((n) => n + 1)
    }
    // Capture: before conform or Remix handle the submit (and perhaps stop it).
    document.addEventListener('submit', counts, true)
    return () => {
      document.removeEventListener('submit', counts, true)
    }
  }, [formId])
  return attempts
}
