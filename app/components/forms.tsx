import type { Submission } from '@conform-to/react'
import { useEffect, useState } from 'react'
import { cx } from './ui/control'

/** Field errors, announced to screen readers and tied to their input by id. `className` places them (a grid span). */
export function FieldError({ id, errors, className }: { id: string; errors?: string[]; className?: string }) {
  if (!errors?.length) return null
  return (
    <ul id={id} role="alert" className={cx('mt-1 space-y-0.5 text-sm text-red-700', className)}>
      {errors.map((e) => (
        <li key={e}>{e}</li>
      ))}
    </ul>
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
