/**
 * A referrer's intake form, sent with its attachments, as one outcome for both faces of the
 * new-referral page (the page's action without JavaScript, its upload endpoint with it). The
 * files are sealed into R2 while the body arrives; then, in one transaction, the form is
 * checked against the version filled in, the referral is created and the documents recorded.
 * A field error, a refused file or a failure anywhere keeps nothing: no row, no R2 object.
 */
import type { AppLoadContext } from '@remix-run/cloudflare'
import type { SubmissionResult } from '@conform-to/react'
import { z } from 'zod'
import type { SessionUser } from '~/auth/identity.server'
import { storeReferralDocuments, withNewReferralUpload, type ReferralUpload } from '~/documents/attach.server'
import { DOCUMENTS_FIELD } from '~/documents/limits'
import { intakeSchema } from '~/intake/form-schema'
import { intakeFormVersion } from '~/intake/intake-forms.server'
import { deleteDraftWithCommit } from '~/intake/referral-drafts.server'
import { DRAFT_ID_FIELD, TEMPLATE_NAME_FIELD } from '~/intake/referrer-kit'
import { isUuid } from '~/utils/keyset'
import type { RequestClinic } from '~/tenancy/request-start.server'
import { parseForm } from '~/utils/form.server'
import { formInteger } from '~/utils/form-values'
import { createReferral } from './create-referral.server'
import { DRAFT_OWNER_FIELD } from './draft'
import type { FormValues } from './form-data.server'

/** Fields every submission carries besides the clinic's own form fields. */
export const Envelope = z.object({ idempotencyKey: z.uuid(), formVersion: formInteger(1) })

export type SubmitOutcome =
  { kind: 'created'; referenceNumber: string } | { kind: 'invalid'; result: SubmissionResult<string[]> } | { kind: 'stale' } | { kind: 'bad-envelope' }

class Refused extends Error {}

export function submitReferral(context: AppLoadContext, request: Request, user: SessionUser, clinic: RequestClinic): Promise<SubmitOutcome> {
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
  // The owner token only matters to a draft (the pipeline's); it is no field of the form.
  formData.delete(DRAFT_OWNER_FIELD)
  // The server-side draft this referral was finished from goes with it (the template name is the page's, not the form's).
  const draftId = formData.get(DRAFT_ID_FIELD)
  formData.delete(DRAFT_ID_FIELD)
  formData.delete(TEMPLATE_NAME_FIELD)
  const envelope = Envelope.safeParse({ idempotencyKey: formData.get('idempotencyKey'), formVersion: formData.get('formVersion') })
  if (!envelope.success) return { kind: 'bad-envelope' }
  try {
    return await context.db.tenant(async (tx) => {
      // Validate against the version the referrer filled in: the referral keeps that version.
      const form = await intakeFormVersion(tx, clinic.id, envelope.data.formVersion)
      if (!form) return { kind: 'stale' as const }
      const submission = parseForm(formData, intakeSchema(form.definition), { also: [...Object.keys(Envelope.shape), DRAFT_OWNER_FIELD] })
      if (submission.status !== 'success' || upload.problems.length) {
        const reply = submission.reply({ fieldErrors: upload.problems.length ? { [DOCUMENTS_FIELD]: upload.problems } : undefined })
        return { kind: 'invalid' as const, result: reply }
      }
      const created = await createReferral(tx, context.phi, context.audit, {
        id: upload.target.referralId,
        clinic,
        submittedBy: user.id,
        form,
        values: submission.value as FormValues,
        idempotencyKey: envelope.data.idempotencyKey,
      })
      // A repeated submit finds the first one, which has its own documents: these go.
      if (!created.created) return { kind: 'created' as const, referenceNumber: created.referenceNumber }
      const recorded = await storeReferralDocuments(tx, context, upload, { uploadedBy: user.id, attachedWith: 'referral' })
      if (recorded !== 'recorded') throw new Refused()
      if (isUuid(draftId)) await deleteDraftWithCommit(tx, { clinicId: clinic.id, userId: user.id }, draftId)
      keep.value = true
      return { kind: 'created' as const, referenceNumber: created.referenceNumber }
    })
  } catch (error) {
    keep.value = false
    if (error instanceof Refused) return { kind: 'bad-envelope' }
    throw error
  }
}
