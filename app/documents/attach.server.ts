/**
 * Attaching documents to a referral, for any page or API route that takes files:
 *
 *   const upload = await receiveReferralUpload(context, request, referralId) // before any query
 *   if (upload.problems.length) ... // show them next to the upload field; nothing was kept
 *   const outcome = await context.db.tenant(async (tx) => {
 *     ... // create the referral with this id, or check the one that is there
 *     return storeReferralDocuments(tx, context, upload, { uploadedBy: user.id, attachedWith: 'staff' })
 *   })
 *   if (outcome !== 'recorded') await discardReferralUpload(upload) // and say why
 *
 * The body is read (and the files sealed into R2) before the transaction, so a slow upload
 * holds no database connection; the transaction records them with the rest, or not at all.
 * A transaction that throws must be followed by discardReferralUpload as well.
 * docs/decisions/027-referral-documents.md
 */
import type { AppLoadContext } from '@remix-run/cloudflare'
import { documentCipherFromEnv } from '~/crypto/phi.server'
import type { TenantTx } from '~/tenancy/tenant.server'
import { recordDocuments, type AttachedWith, type RecordOutcome } from './documents.server'
import { documentLimits, formatBytes, type DocumentLimits } from './limits'
import { discardDocuments, receiveUpload, type DocumentBucket, type Upload, type UploadTarget } from './upload.server'

export type ReferralUpload = Upload & { target: UploadTarget }

/** The bucket, the cipher and the clinic's limits; 503 when the deployment has no DOCUMENTS bucket. */
export function documentStore(context: AppLoadContext): { bucket: DocumentBucket; limits: DocumentLimits } {
  const bucket = context.env.DOCUMENTS
  if (!bucket) throw new Response('Documents are not available on this deployment', { status: 503 })
  return { bucket, limits: documentLimits(context.clinic?.settings) }
}

/**
 * Reads the request's multipart body: its text fields, and its files staged for `referralId`
 * (an existing referral's, or the id a new one will be created with). A body that is not a
 * well-formed form is refused (400) by the pipeline; what was staged of it is gone.
 */
export async function receiveReferralUpload(context: AppLoadContext, request: Request, referralId: string): Promise<ReferralUpload> {
  const clinicId = context.clinic?.id
  if (!clinicId) throw new Error('receiveReferralUpload needs the clinic of the request')
  const { bucket, limits } = documentStore(context)
  const target: UploadTarget = { bucket, cipher: documentCipherFromEnv(context.env), clinicId, referralId, limits }
  // A body that is not a form, or passes the route's limit, throws (MultipartError, the pipeline's
  // BodyRefusal): the pipeline answers it as for any form (400, 413), with nothing kept.
  return { ...(await receiveUpload(request, target)), target }
}

/** Records the staged files in the caller's transaction; see the top of this file. */
export function storeReferralDocuments(
  tx: TenantTx,
  context: AppLoadContext,
  upload: ReferralUpload,
  options: { uploadedBy: string; attachedWith: AttachedWith },
): Promise<RecordOutcome> {
  return recordDocuments(
    tx,
    { cipher: context.phi, audit: context.audit },
    { clinicId: upload.target.clinicId, referralId: upload.target.referralId, staged: upload.staged, limits: upload.target.limits, ...options },
  )
}

/**
 * A new referral's form with its files: received and staged (for the id the referral will be
 * created with), handed to `use`, then discarded unless `use` set `keep.value` (they were
 * recorded with the referral). A refusal or a failure anywhere keeps no R2 object.
 */
export async function withNewReferralUpload<T>(
  context: AppLoadContext,
  request: Request,
  use: (upload: ReferralUpload, keep: { value: boolean }) => Promise<T>,
): Promise<T> {
  const upload = await receiveReferralUpload(context, request, crypto.randomUUID())
  const keep = { value: false }
  try {
    return await use(upload, keep)
  } finally {
    if (!keep.value) await discardReferralUpload(upload)
  }
}

export function discardReferralUpload(upload: ReferralUpload) {
  return discardDocuments(upload.target, upload.staged)
}

/** What the upload field says when the referral's own total would pass the limit. */
export const referralFullMessage = (limits: DocumentLimits) =>
  `With the documents it already has, this referral would carry more than ${formatBytes(limits.referralBytes)}. Nothing was attached.`
