/**
 * Entering a referral on the referrer's behalf (a fax, a call, an email, a walk-in): the
 * referrer is one of the clinic's referrer accounts, or typed in; the referral is created by
 * createReferral like any other, and counts from when it first reached the clinic.
 * docs/decisions/028-referrals-entered-by-staff.md
 */
import type { AppLoadContext } from '@remix-run/cloudflare'
import { and, asc, eq, ne } from 'drizzle-orm'
import type { AuditEvent } from '~/audit/audit.server'
import type { SessionUser } from '~/auth/identity.server'
import type { PhiCipher } from '~/crypto/phi.server'
import { users, type IntakeFormDefinition } from '~/db/schema'
import { storeReferralDocuments, withNewReferralUpload, type ReferralUpload } from '~/documents/attach.server'
import { DOCUMENTS_FIELD } from '~/documents/limits'
import { intakeFormVersion } from '~/intake/intake-forms.server'
import type { RequestClinic } from '~/tenancy/request-start.server'
import type { TenantTx } from '~/tenancy/tenant.server'
import { parseForm } from '~/utils/form.server'
import { createReferral } from './create-referral.server'
import type { FormValues } from './form-data.server'
import { clinicTimeZone } from '~/utils/clinic-time'
import type { ClinicSettings } from '~/db/schema'
import { inboundSchema, INBOUND_KEYS, receivedAtOf, SOMEONE_ELSE, type InboundValues } from './inbound'
import { Envelope, type SubmitOutcome } from './submit-referral.server'

/** The clinic's referrers who can be picked: its referrer accounts, except disabled ones. */
export async function knownReferrers(tx: TenantTx, clinicId: string) {
  const rows = await tx
    .select({ id: users.id, displayName: users.displayName, organization: users.organization })
    .from(users)
    .where(and(eq(users.clinicId, clinicId), eq(users.role, 'referrer'), ne(users.status, 'disabled')))
    .orderBy(asc(users.displayName))
  return rows.map((r) => ({ id: r.id, name: r.organization ? `${r.displayName} (${r.organization})` : r.displayName }))
}

export type InboundReferral = {
  /** The id the new referral takes (its attachments are staged under it). */
  id?: string
  /** The clinic's settings name its time zone: the time received is on its clock. */
  clinic: { id: string; slug: string; settings?: ClinicSettings }
  /** The staff member entering it. */
  enteredBy: string
  form: { version: number; definition: IntakeFormDefinition }
  values: InboundValues
  idempotencyKey: string
}

/**
 * Creates the referral, or says the picked referrer is not one of this clinic's (another
 * clinic's, disabled, not a referrer, made up): then nothing is written.
 */
export async function enterInboundReferral(tx: TenantTx, cipher: PhiCipher, audit: (tx: TenantTx, event: AuditEvent) => Promise<void>, input: InboundReferral) {
  const { arrivedVia, receivedOn, receivedTime, referrerId, referrerName, referrerPractice } = input.values
  const typedIn = referrerId === SOMEONE_ELSE
  if (!typedIn) {
    const known = await knownReferrers(tx, input.clinic.id)
    if (!known.some((r) => r.id === referrerId)) return { refused: 'unknown-referrer' as const }
  }
  const values = Object.fromEntries(Object.entries(input.values).filter(([key]) => !(INBOUND_KEYS as string[]).includes(key))) as FormValues
  const created = await createReferral(tx, cipher, audit, {
    id: input.id,
    clinic: input.clinic,
    submittedBy: typedIn ? input.enteredBy : referrerId,
    form: input.form,
    values,
    idempotencyKey: input.idempotencyKey,
    entered: {
      by: input.enteredBy,
      channel: arrivedVia,
      receivedAt: receivedAtOf(receivedOn, receivedTime, clinicTimeZone(input.clinic.settings)),
      referrer: typedIn ? { name: referrerName!, organization: referrerPractice ?? null } : undefined,
    },
  })
  return { created }
}

/** Where the page goes after an entry: itself, for the next one, saying which it was. */
export const enteredUrl = (referenceNumber: string) => `/referrals/inbound?${new URLSearchParams({ entered: referenceNumber })}`

export const UNKNOWN_REFERRER = 'Choose one of this clinic’s referrers from the list'

class Refused extends Error {}

/**
 * The page's form with the faxed original attached, for both faces of the page (its action
 * without JavaScript, its upload endpoint with it), as submitReferral does for a referrer's: the
 * files are sealed into R2 while the body arrives, then one transaction checks the form, creates
 * the referral and records them. Anything refused keeps nothing: no row, no R2 object.
 */
export function submitInboundReferral(context: AppLoadContext, request: Request, user: SessionUser, clinic: RequestClinic): Promise<SubmitOutcome> {
  return withNewReferralUpload(context, request, (upload, keep) => submit(context, upload, user, clinic, keep))
}

async function submit(
  context: AppLoadContext,
  upload: ReferralUpload,
  user: SessionUser,
  clinic: RequestClinic,
  keep: { value: boolean },
): Promise<SubmitOutcome> {
  const formData = upload.fields
  const envelope = Envelope.safeParse({ idempotencyKey: formData.get('idempotencyKey'), formVersion: formData.get('formVersion') })
  if (!envelope.success) return { kind: 'bad-envelope' }
  try {
    return await context.db.tenant(async (tx) => {
      // Checked against the version the page showed: the referral keeps that version.
      const form = await intakeFormVersion(tx, clinic.id, envelope.data.formVersion)
      if (!form) return { kind: 'stale' as const }
      const submission = parseForm(formData, inboundSchema(form.definition, clinicTimeZone(clinic.settings)), { also: Object.keys(Envelope.shape) })
      const fileErrors: Record<string, string[]> = upload.problems.length ? { [DOCUMENTS_FIELD]: upload.problems } : {}
      if (submission.status !== 'success' || upload.problems.length) return { kind: 'invalid' as const, result: submission.reply({ fieldErrors: fileErrors }) }
      const entered = await enterInboundReferral(tx, context.phi, context.audit, {
        id: upload.target.referralId,
        clinic,
        enteredBy: user.id,
        form,
        values: submission.value as InboundValues,
        idempotencyKey: envelope.data.idempotencyKey,
      })
      if (!('created' in entered) || !entered.created) {
        return { kind: 'invalid' as const, result: submission.reply({ fieldErrors: { referrerId: [UNKNOWN_REFERRER] } }) }
      }
      const { created } = entered
      // A repeated submit finds the first one, which has its own documents: these go.
      if (!created.created) return { kind: 'created' as const, referenceNumber: created.referenceNumber }
      const recorded = await storeReferralDocuments(tx, context, upload, { uploadedBy: user.id, attachedWith: 'staff' })
      if (recorded !== 'recorded') throw new Refused()
      keep.value = true
      return { kind: 'created' as const, referenceNumber: created.referenceNumber }
    })
  } catch (error) {
    keep.value = false
    if (error instanceof Refused) return { kind: 'bad-envelope' }
    throw error
  }
}
