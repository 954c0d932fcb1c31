/**
 * A referral's documents over FHIR (decision 057), through the documents domain's own doors:
 * - DocumentReference/{document id}: the document page's read (openReferralDocument, one
 *   document.read row): its name is PHI.
 * - DocumentReference?related=ServiceRequest/{id}: the referral's document list (document.list).
 * - Binary/{document id}: the download (document.read with download: true), the stored file
 *   streamed and opened chunk by chunk, exactly as the page's and the API's download.
 * A document's id does not say its referral: it is looked up first under RLS (and, for a
 * referrer, among their own referrals), and a document that is not there is a recorded 404.
 */
import type { AppLoadContext } from '@remix-run/cloudflare'
import { and, eq, isNull } from 'drizzle-orm'
import { deniedEvent } from '~/audit/audit.server'
import { requirePhiId, requirePhiPermission } from '~/auth/guards.server'
import type { SessionUser } from '~/auth/identity.server'
import { hasPermission } from '~/auth/permissions'
import { PhiDecryptError } from '~/crypto/phi.server'
import { referralDocuments, referrals } from '~/db/schema'
import { documentResponse } from '~/documents/document-response.server'
import { documentBytes, documentsOfReferral, openReferralDocument } from '~/documents/referral-documents.server'
import { sentBy } from '~/referrals/queue.server'
import { fhirError } from './outcome.server'
import { documentReference, type FhirServer, type Resource } from './resources'

/** The referral a document belongs to, if the caller may see it; otherwise a recorded 404. */
async function referralOfDocument(context: AppLoadContext, user: SessionUser, documentId: string | undefined) {
  const attempt = { action: 'document.read' } as const
  const staff = hasPermission(user, 'read:referral:any')
  if (!staff) await requirePhiPermission(context, user, 'read:referral:own', attempt)
  const id = await requirePhiId(context, documentId, attempt)
  const referralId = await context.db.tenant(async (tx) => {
    const [row] = await tx
      .select({ referralId: referralDocuments.referralId })
      .from(referralDocuments)
      .innerJoin(referrals, and(eq(referrals.id, referralDocuments.referralId), eq(referrals.clinicId, referralDocuments.clinicId)))
      .where(and(eq(referralDocuments.id, id), isNull(referralDocuments.removedAt), staff ? undefined : sentBy(user.id)))
      .limit(1)
    if (!row) await context.audit(tx, deniedEvent({ ...attempt, details: { documentId: id } }, 404))
    return row?.referralId ?? null
  })
  if (!referralId) throw fhirError(404)
  return { referralId, documentId: id }
}

export async function readDocumentReference(context: AppLoadContext, user: SessionUser, server: FhirServer, documentId: string | undefined) {
  const { row, name } = await openReferralDocument(context, user, await referralOfDocument(context, user, documentId), 'page')
  return documentReference(server, { ...row, name })
}

/** Every document of one referral (they are few: at most the clinic's per-referral limit). */
export async function searchDocumentReferences(
  context: AppLoadContext,
  user: SessionUser,
  server: FhirServer,
  referralId: string | undefined,
): Promise<Resource[]> {
  const documents = await documentsOfReferral(context, user, referralId)
  return documents.map((d) => documentReference(server, { ...d, referralId: referralId! }))
}

/** The stored file itself, as its own type (the download's guards, audit and headers). */
export async function readBinary(context: AppLoadContext, user: SessionUser, documentId: string | undefined): Promise<Response> {
  const { row, name } = await openReferralDocument(context, user, await referralOfDocument(context, user, documentId), 'download')
  try {
    return documentResponse(await documentBytes(context, row), { name, contentType: row.contentType, sizeBytes: row.sizeBytes, download: true })
  } catch (error) {
    if (error instanceof PhiDecryptError) throw fhirError(500, `The document failed its integrity check (request ${context.requestId})`)
    throw error
  }
}
