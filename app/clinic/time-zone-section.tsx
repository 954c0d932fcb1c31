/** The clinic settings page's time zone section: every page and export shows times in this zone. */
import { getFormProps, getSelectProps, useForm, type SubmissionResult } from '@conform-to/react'
import { getZodConstraint, parseWithZod } from '@conform-to/zod/v4'
import { Form } from '@remix-run/react'
import { Button } from '~/components/ui/button'
import { SelectField } from '~/components/ui/field'
import { CANADIAN_TIME_ZONES } from '~/utils/clinic-time'
import { TIME_ZONE_INTENT, TimeZoneSchema } from './time-zone'
import { SettingsSection } from './settings-section'

export type TimeZoneSettings = {
  timeZone: string
  /** The time there now, formatted by the server (a clock read twice would not hydrate). */
  nowThere: string
  /** Every zone the server knows, from its own Intl (the browser's list may differ). */
  zones: string[]
}

export function TimeZoneSection({ current, saved, lastResult }: { current: TimeZoneSettings; saved: boolean; lastResult?: SubmissionResult<string[]> }) {
  const [form, fields] = useForm({
    id: TIME_ZONE_INTENT,
    lastResult,
    defaultValue: { timeZone: current.timeZone },
    constraint: getZodConstraint(TimeZoneSchema),
    onValidate: ({ formData }) => parseWithZod(formData, { schema: TimeZoneSchema }),
    shouldRevalidate: 'onInput',
  })
  const canadian = new Set<string>(CANADIAN_TIME_ZONES.map((z) => z.zone))
  return (
    <SettingsSection
      intent={TIME_ZONE_INTENT}
      title="Time zone"
      saved={saved && !lastResult}
      form={form}
      description={
        <>
          Every time on every page and in every export is shown in this zone, with its abbreviation (EST or EDT in Toronto). Days in audit exports are this
          zone&apos;s days. It is now <span data-testid="time-zone-now">{current.nowThere}</span> there.
        </>
      }
    >
      <Form method="post" {...getFormProps(form)} className="mt-4 space-y-4">
        <input type="hidden" name="intent" value={TIME_ZONE_INTENT} />
        <SelectField label="Clinic time zone" selectProps={getSelectProps(fields.timeZone)} errors={fields.timeZone.errors} controlClassName="sm:max-w-md">
          <optgroup label="Canada">
            {CANADIAN_TIME_ZONES.map((z) => (
              <option key={z.zone} value={z.zone}>
                {z.label}: {z.zone}
              </option>
            ))}
          </optgroup>
          <optgroup label="Everywhere">
            {current.zones
              .filter((zone) => !canadian.has(zone))
              .map((zone) => (
                <option key={zone} value={zone}>
                  {zone.replaceAll('_', ' ')}
                </option>
              ))}
          </optgroup>
        </SelectField>
        <Button type="submit" variant="primary">
          Save time zone
        </Button>
      </Form>
    </SettingsSection>
  )
}
