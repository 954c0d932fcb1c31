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
import type { AuditEvent } from '~/audit/audit.server'
import { recordDocuments, type AttachedWith, type RecordOutcome, type Uploader } from './documents.server'
import { documentLimits, formatBytes, type DocumentLimits, type DocumentType } from './limits'
import { discardDocuments, receiveUpload, stageHeldFiles, type DocumentBucket, type HeldFile, type Upload, type UploadTarget } from './upload.server'

type Audit = (tx: TenantTx, event: AuditEvent) => Promise<void>

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
  const target = uploadTarget(context, clinicId, referralId)
  // A body that is not a form, or passes the route's limit, throws (MultipartError, the pipeline's
  // BodyRefusal): the pipeline answers it as for any form (400, 413), with nothing kept.
  return { ...(await receiveUpload(request, target)), target }
}

function uploadTarget(context: AppLoadContext, clinicId: string, referralId: string): UploadTarget {
  const { bucket, limits } = documentStore(context)
  return { bucket, cipher: documentCipherFromEnv(context.env), clinicId, referralId, limits }
}

/**
 * Files that came whole (a FHIR transaction's attachments, decision 062), staged for the id a
 * new referral will be created with, as receiveReferralUpload stages a form's: the same
 * recognition, sealing and limits. A refusal has kept nothing; `staged` is recorded with
 * storeReferralDocuments in the referral's transaction, or discarded.
 */
export async function receiveHeldFiles(
  context: AppLoadContext,
  files: HeldFile[],
): Promise<{ upload: ReferralUpload } | { refused: number; found: DocumentType | null }> {
  const clinicId = context.clinic?.id
  if (!clinicId) throw new Error('receiveHeldFiles needs the clinic of the request')
  const target = uploadTarget(context, clinicId, crypto.randomUUID())
  const outcome = files.length ? await stageHeldFiles(target, files) : { staged: [] }
  if ('refused' in outcome) return outcome
  return { upload: { fields: new FormData(), staged: outcome.staged, problems: [], target } }
}

/** Records the staged files in the caller's transaction; see the top of this file. */
export function storeReferralDocuments(
  tx: TenantTx,
  context: AppLoadContext,
  upload: ReferralUpload,
  options: { uploadedBy: Uploader; attachedWith: AttachedWith; audit?: Audit },
): Promise<RecordOutcome> {
  const { audit = context.audit, ...by } = options
  return recordDocuments(
    tx,
    { cipher: context.phi, audit },
    { clinicId: upload.target.clinicId, referralId: upload.target.referralId, staged: upload.staged, limits: upload.target.limits, ...by },
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
