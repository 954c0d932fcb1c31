/**
 * The use cases of a referral's documents, for pages and the API alike: who may (permission
 * first, a recorded refusal), which referral (a recorded 404 for an id that cannot be one),
 * then one transaction through RLS. Staff attach and remove at any time; the referrer attaches
 * to their own referral with a reply to the clinic. docs/decisions/027-referral-documents.md
 */
import type { AppLoadContext } from '@remix-run/cloudflare'
import { eq } from 'drizzle-orm'
import { deniedEvent } from '~/audit/audit.server'
import { requirePhiId, requirePhiPermission } from '~/auth/guards.server'
import type { SessionUser } from '~/auth/identity.server'
import { hasPermission } from '~/auth/permissions'
import type { TenantTx } from '~/tenancy/tenant.server'
import { documentCipherFromEnv } from '~/crypto/phi.server'
import { referrals } from '~/db/schema'
import { isUuid } from '~/utils/keyset'
import { discardReferralUpload, documentStore, receiveReferralUpload, storeReferralDocuments } from './attach.server'
import { documentContent } from './content.server'
import { listDocuments, openDocument, removeDocument, type RecordOutcome } from './documents.server'

const notFound = () => new Response('Not found', { status: 404, statusText: 'Not Found' })

async function mayRead(context: AppLoadContext, user: SessionUser, referralId: string | undefined, action: 'document.list' | 'document.read') {
  const attempt = { action, entityId: referralId } as const
  if (!hasPermission(user, 'read:referral:any')) await requirePhiPermission(context, user, 'read:referral:own', attempt)
  return requirePhiId(context, referralId, attempt)
}

/** The referral's documents, names decrypted; the list is a read of PHI (document.list). */
export async function documentsOfReferral(context: AppLoadContext, user: SessionUser, referralId: string | undefined) {
  const id = await mayRead(context, user, referralId, 'document.list')
  const listed = await context.db.tenant(async (tx) => {
    const [referral] = await tx.select({ id: referrals.id }).from(referrals).where(eq(referrals.id, id)).limit(1)
    if (!referral) {
      await context.audit(tx, deniedEvent({ action: 'document.list', entityId: id }, 404))
      return null
    }
    const documents = await listDocuments(tx, context.phi, id)
    await context.audit(tx, { action: 'document.list', entityType: 'referral', entityId: id, details: { documentIds: documents.map((d) => d.id) } })
    return documents
  })
  if (!listed) throw notFound()
  return listed
}

export type AttachOutcome =
  { outcome: 'attached'; count: number } | { outcome: 'problems'; problems: string[] } | { outcome: 'too-much' } | { outcome: 'needs-message' }

/** Sends the referrer's reply in the attaching transaction (the referrals domain's work, given by the route). */
export type SendReply = (tx: TenantTx, referralId: string, message: string) => Promise<'done' | 'not-found'>

/**
 * Staff attach; a referrer attaches with a reply (`message`, sent with `sendReply`), on their
 * own referral. The body is the multipart form; its other fields come back in `fields`.
 */
export async function attachToReferral(
  context: AppLoadContext,
  user: SessionUser,
  referralId: string | undefined,
  request: Request,
  sendReply: SendReply,
): Promise<AttachOutcome & { fields?: FormData }> {
  const staff = hasPermission(user, 'update:referral:any')
  const attempt = { action: 'document.attach', entityId: referralId } as const
  if (!staff) await requirePhiPermission(context, user, 'reply:referral:own', attempt)
  const id = await requirePhiId(context, referralId, attempt)
  const upload = await receiveReferralUpload(context, request, id)
  let kept = false
  try {
    if (upload.problems.length) return { outcome: 'problems', problems: upload.problems, fields: upload.fields }
    if (!upload.staged.length) return { outcome: 'problems', problems: ['Choose at least one file to attach.'], fields: upload.fields }
    const message = String(upload.fields.get('message') ?? '').trim()
    if (!staff && (!message || message.length > 5000)) return { outcome: 'needs-message', fields: upload.fields }
    const recorded = await context.db
      .tenant(async (tx): Promise<RecordOutcome> => {
        if (!staff && (await sendReply(tx, id, message)) !== 'done') return 'not-found'
        const outcome = await storeReferralDocuments(tx, context, upload, { uploadedBy: user.id, attachedWith: staff ? 'staff' : 'reply' })
        // A reply refused for its documents is not sent either.
        if (outcome !== 'recorded') throw new NotRecorded(outcome)
        return outcome
      })
      .catch((error: unknown) => {
        if (error instanceof NotRecorded) return error.outcome
        throw error
      })
    if (recorded === 'not-found') {
      if (staff) await context.db.tenant((tx) => context.audit(tx, deniedEvent(attempt, 404)))
      throw notFound()
    }
    if (recorded === 'too-much') return { outcome: 'too-much', fields: upload.fields }
    kept = true
    return { outcome: 'attached', count: upload.staged.length }
  } finally {
    if (!kept) await discardReferralUpload(upload)
  }
}

class NotRecorded extends Error {
  constructor(readonly outcome: RecordOutcome) {
    super(outcome)
  }
}

/**
 * One document to view or download: its name and type, recorded as document.read. 404 for a
 * document that is not there, removed, on another referral, or not theirs to see.
 */
export async function openReferralDocument(
  context: AppLoadContext,
  user: SessionUser,
  params: { referralId: string | undefined; documentId: string | undefined },
  purpose: 'page' | 'view' | 'download',
) {
  const referralId = await mayRead(context, user, params.referralId, 'document.read')
  if (!isUuid(params.documentId)) {
    await context.db.tenant((tx) => context.audit(tx, deniedEvent({ action: 'document.read', entityId: referralId }, 404)))
    throw notFound()
  }
  const documentId = params.documentId
  const opened = await context.db.tenant((tx) =>
    openDocument(tx, { cipher: context.phi, audit: context.audit }, { referralId, documentId, download: purpose === 'download' }),
  )
  if (!opened) throw notFound()
  return opened
}

/** The bytes of an opened document, streamed from R2 and opened chunk by chunk. */
export function documentBytes(context: AppLoadContext, document: Awaited<ReturnType<typeof openReferralDocument>>['row']) {
  return documentContent(documentStore(context).bucket, documentCipherFromEnv(context.env), document)
}

/** Staff remove a document with a reason; the bytes stay until retention. */
export async function removeReferralDocument(
  context: AppLoadContext,
  user: SessionUser,
  params: { referralId: string | undefined; documentId: string | undefined },
  reason: string,
) {
  const attempt = { action: 'document.remove', entityId: params.referralId } as const
  await requirePhiPermission(context, user, 'update:referral:any', attempt)
  const referralId = await requirePhiId(context, params.referralId, attempt)
  const clinicId = context.clinic?.id
  const documentId = params.documentId
  if (!clinicId || !isUuid(documentId)) throw notFound()
  const removed = await context.db.tenant(async (tx) => {
    const done = await removeDocument(tx, { cipher: context.phi, audit: context.audit }, { clinicId, referralId, documentId, removedBy: user.id, reason })
    if (!done) await context.audit(tx, deniedEvent({ ...attempt, entityId: referralId, details: { documentId } }, 404))
    return done
  })
  if (!removed) throw notFound()
}
