/** The clinic settings section "accepts forwarded referrals": what it posts and how that is checked. */
import { z } from 'zod'

export const FORWARDS_INTENT = 'forwards'

/** A checkbox: sent as "on" when ticked, not sent at all when not. */
export const AcceptsForwardsSchema = z.object({
  acceptsForwards: z
    .literal('on', { error: 'Tick the box, or leave it empty' })
    .optional()
    .transform((value) => value === 'on'),
})
