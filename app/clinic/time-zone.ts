/** The clinic's time zone section: what it posts and how that is checked (the server and the browser alike). */
import { z } from 'zod'
import { isTimeZone } from '~/utils/clinic-time'

export const TIME_ZONE_INTENT = 'time-zone'

export const TimeZoneSchema = z.object({
  timeZone: z
    .string({ error: 'Choose a time zone' })
    .trim()
    .min(1, 'Choose a time zone')
    .max(64, 'Choose a time zone from the list')
    .refine((zone) => isTimeZone(zone), 'Choose a time zone from the list'),
})
