/** The forward form: one schema for the page's action (through the form guard) and its field errors. */
import { z } from 'zod'
import { formInteger } from '~/utils/form-values'
import { FORWARD_REASON_MAX } from './forward'

export const REASON_MISSING = 'Give a reason: the referrer and the receiving clinic see it'

export const ForwardSchema = z.object({
  toClinic: z.uuid({ error: 'Choose the clinic to forward it to' }),
  reason: z
    .string({ error: REASON_MISSING })
    .trim()
    .min(1, REASON_MISSING)
    .max(FORWARD_REASON_MAX, `Keep the reason under ${FORWARD_REASON_MAX.toLocaleString('en-CA')} characters`),
  version: formInteger(1, 'Reload the page: this form is out of date'),
})
