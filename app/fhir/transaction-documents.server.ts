/**
 * A transaction Bundle's documents, kept through the intake form's own doors
 * (docs/decisions/062-documents-in-a-fhir-transaction.md): read (transaction-documents.ts), then
 * staged for the new referral's id as the form's files are (receiveHeldFiles: recognised from
 * their bytes, sealed chunk by chunk into R2), recorded by storeReferralDocuments in the
 * transaction that creates the referral, or discarded: no row and no R2 object for a Bundle
 * that was refused, failed, or repeated.
 *
 *   const files = await receiveTransactionDocuments(context, body, read.fullUrls) // before any query
 *   await context.db.tenant(async (tx) => { ...createReferral(tx, …, { id: files.referralId, … })
 *     await files.record(tx, created, { uploadedBy: submittedBy, audit }) }).finally(files.settle)
 */
import { Buffer } from 'node:buffer'
import type { AppLoadContext } from '@remix-run/cloudflare'
import { and, eq, isNull } from 'drizzle-orm'
import type { AuditEvent } from '~/audit/audit.server'
import { referralDocuments } from '~/db/schema'
import type { Uploader } from '~/documents/documents.server'
import { discardReferralUpload, receiveHeldFiles, storeReferralDocuments, type ReferralUpload } from '~/documents/attach.server'
import { DOCUMENT_TYPES, documentLimits } from '~/documents/limits'
import type { TenantTx } from '~/tenancy/tenant.server'
import { fhirError, operationOutcome } from './outcome.server'
import type { FhirServer, Resource } from './resources'
import { inRequestOrder, readTransactionDocuments, type TransactionDocument } from './transaction-documents'

type Audit = (tx: TenantTx, event: AuditEvent) => Promise<void>
type ResponseEntry = { fullUrl?: string; response: { status: string; location?: string; outcome?: Resource } }

export type TransactionFiles = {
  /** The id the referral is to be created with (its documents were sealed for it). */
  referralId: string
  /** Records the documents with a new referral; for a repeat, finds the first one's. */
  record: (tx: TenantTx, referral: { id: string; created: boolean }, by: { uploadedBy: Uploader; audit: Audit }) => Promise<void>
  /** After the transaction, whatever its end: discards what was staged unless it was recorded. */
  settle: () => Promise<void>
  /** The response's entries for the whole Bundle, `others` (the three resources') in their places. */
  responseEntries: (server: FhirServer, others: ResponseEntry[]) => ResponseEntry[]
}

/** Reads and stages the Bundle's documents, or throws the OperationOutcome that refuses them (nothing kept). */
export async function receiveTransactionDocuments(
  context: AppLoadContext,
  body: unknown,
  fullUrls: { Patient?: string; ServiceRequest?: string },
): Promise<TransactionFiles> {
  const read = readTransactionDocuments(body, fullUrls, documentLimits(context.clinic?.settings))
  if ('problems' in read) throw fhirError(read.status, 'The transaction’s documents cannot be taken', { issues: read.problems })
  const { documents } = read
  const received = await receiveHeldFiles(
    context,
    documents.map((d) => ({ name: d.name, contentType: d.contentType, bytes: () => Buffer.from(d.data, 'base64') })),
  )
  if ('refused' in received) {
    const d = documents[received.refused]!
    const diagnostics = received.found
      ? `the bytes are a ${DOCUMENT_TYPES[received.found]} file, not the contentType declared`
      : 'the bytes are not a PDF, JPEG, PNG, TIFF or plain text file, whatever the contentType says'
    throw fhirError(422, 'The transaction’s documents cannot be taken', {
      issues: [{ expression: [d.expression], diagnostics: `${d.expression}: ${diagnostics}`, code: 'invalid' }],
    })
  }
  return heldFiles(context, received.upload, documents, Array.isArray((body as { entry?: unknown }).entry) ? (body as { entry: unknown[] }).entry.length : 0)
}

function heldFiles(context: AppLoadContext, upload: ReferralUpload, documents: TransactionDocument[], entries: number): TransactionFiles {
  let kept = false
  let ids: (string | null)[] = []
  let status = '201 Created'
  return {
    referralId: upload.target.referralId,
    async record(tx, referral, by) {
      if (!documents.length) return
      if (referral.created) {
        const recorded = await storeReferralDocuments(tx, context, upload, { ...by, attachedWith: 'referral' })
        // Not for a referral created in this transaction, with its limits checked before: a throw undoes the referral too.
        if (recorded !== 'recorded') throw fhirError(422, 'The documents pass what one referral may carry')
        kept = true
        ids = upload.staged.map((d) => d.id)
        return
      }
      // A repeat: the first referral kept its documents; each sent again is answered with the one that has its bytes.
      status = '200 OK'
      const stored = await tx
        .select({ id: referralDocuments.id, sha256: referralDocuments.sha256 })
        .from(referralDocuments)
        .where(and(eq(referralDocuments.referralId, referral.id), isNull(referralDocuments.removedAt)))
      ids = upload.staged.map((d) => {
        const at = stored.findIndex((s) => s.sha256 === d.sha256)
        return at < 0 ? null : stored.splice(at, 1)[0]!.id
      })
    },
    async settle() {
      if (!kept) await discardReferralUpload(upload)
    },
    responseEntries(server, others) {
      const placed = new Map<number, ResponseEntry>()
      documents.forEach((d, i) => {
        const id = ids[i]
        const entry = (kind: string): ResponseEntry =>
          id
            ? { fullUrl: `${server.origin}/fhir/R4/${kind}/${id}`, response: { status, location: `${kind}/${id}` } }
            : { response: { status: '200 OK', outcome: notKept } }
        placed.set(d.entry, entry('DocumentReference'))
        if (d.binaryEntry !== undefined) placed.set(d.binaryEntry, entry('Binary'))
      })
      return inRequestOrder(entries, placed, others)
    },
  }
}

const notKept = operationOutcome(200, [
  {
    severity: 'warning',
    code: 'duplicate',
    diagnostics: 'This referral was received before, with the documents it came with: this one is not among them and was not kept',
  },
])
