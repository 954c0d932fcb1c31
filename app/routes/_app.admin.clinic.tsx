import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from '@remix-run/cloudflare'
import { useActionData, useLoaderData } from '@remix-run/react'
import { requireClinic, requireCurrentClinic, requirePermission, requireUser } from '~/auth/guards.server'
import { replyFor } from '~/clinic/section'
import { TIME_ZONE_INTENT } from '~/clinic/time-zone'
import { TimeZoneSection } from '~/clinic/time-zone-section'
import { saveTimeZone } from '~/clinic/time-zone.server'
import { GeneralErrorBoundary } from '~/components/error-boundary'
import { RETENTION_INTENT } from '~/privacy/retention'
import { RetentionSection } from '~/privacy/retention-section'
import { saveRetention } from '~/privacy/retention.server'
import { TargetsSection } from '~/dashboard/targets-section'
import { saveTargets } from '~/dashboard/targets.server'
import { targetFields, TARGETS_INTENT } from '~/dashboard/targets'
import { clinicTargets } from '~/dashboard/turnaround'
import { FORWARDS_INTENT } from '~/referrals/forward-setting'
import { AcceptsForwardsSection } from '~/referrals/forward-setting-section'
import { saveAcceptsForwards } from '~/referrals/forward-setting.server'
import { allTimeZones, clinicTimeZone, formatClinicTime } from '~/utils/clinic-time'

export const meta: MetaFunction = () => [{ title: 'Clinic settings · IntakePilot' }]

/**
 * The clinic's settings, one section per setting (app/clinic/section.ts). Each section posts its
 * own `intent`; the action hands the form to that section's handler and to no other.
 */
export async function loader({ request, context }: LoaderFunctionArgs) {
  const user = requireUser(request, context)
  requirePermission(user, 'update:clinic-settings:own')
  const clinic = requireCurrentClinic(context)
  const timeZone = clinicTimeZone(clinic.settings)
  const zones = allTimeZones()
  return {
    clinicName: clinic.name,
    saved: new URL(request.url).searchParams.get('saved'),
    acceptsForwards: clinic.settings.acceptsForwards === true,
    timeZone: { timeZone, nowThere: formatClinicTime(Date.now(), timeZone), zones: zones.includes(timeZone) ? zones : [...zones, timeZone] },
    targets: targetFields(clinicTargets(clinic.settings)),
    retentionDays: clinic.settings.phiRetentionDays ?? null,
  }
}

export async function action({ request, context }: ActionFunctionArgs) {
  const user = requireUser(request, context)
  requirePermission(user, 'update:clinic-settings:own')
  const clinicId = requireClinic(user)
  const formData = await request.formData()
  switch (formData.get('intent')) {
    case TIME_ZONE_INTENT:
      return saveTimeZone(formData, context, clinicId)
    case TARGETS_INTENT:
      return saveTargets(formData, context, clinicId)
    case FORWARDS_INTENT:
      return saveAcceptsForwards(formData, context, clinicId)
    case RETENTION_INTENT:
      return saveRetention(formData, context, clinicId)
    default:
      throw new Response('This form was sent with a button it does not have. Reload the page and try again.', { status: 400 })
  }
}

export default function ClinicSettingsPage() {
  const { clinicName, saved, timeZone, acceptsForwards, targets, retentionDays } = useLoaderData<typeof loader>()
  const reply = useActionData<typeof action>()
  return (
    <main className="mx-auto max-w-3xl px-4 py-8 sm:px-6">
      <h1 className="text-2xl font-semibold tracking-tight">Clinic settings</h1>
      <p className="mt-2 text-slate-600">
        How {clinicName} works in IntakePilot. Each section is saved on its own; every change is recorded in the audit trail.
      </p>
      <div className="mt-6 space-y-6">
        <TimeZoneSection current={timeZone} saved={saved === TIME_ZONE_INTENT} lastResult={replyFor(TIME_ZONE_INTENT, reply)} />
        <AcceptsForwardsSection accepts={acceptsForwards} saved={saved === FORWARDS_INTENT} lastResult={replyFor(FORWARDS_INTENT, reply)} />
        <TargetsSection current={targets} saved={saved === TARGETS_INTENT} lastResult={replyFor(TARGETS_INTENT, reply)} />
        <RetentionSection days={retentionDays} saved={saved === RETENTION_INTENT} lastResult={replyFor(RETENTION_INTENT, reply)} />
      </div>
    </main>
  )
}

export function ErrorBoundary() {
  return <GeneralErrorBoundary />
}
