/**
 * Forwarding a referral to another clinic that accepts forwards
 * (docs/decisions/032-forwarding-between-clinics.md). The sending clinic reads its own referral
 * under RLS, opens its PHI, seals it again under the receiving clinic's key (bound to the new
 * referral's id) with the receiving clinic's blind indexes, and hands the result to
 * forward_referral(): one reviewed SECURITY DEFINER function that checks every argument and
 * writes both sides. Neither clinic's request ever reads a row of the other.
 */
import type { AppLoadContext } from '@remix-run/cloudflare'
import { and, eq, sql } from 'drizzle-orm'
import { deniedEvent, type AuditEvent } from '~/audit/audit.server'
import { requirePhiId, requirePhiPermission } from '~/auth/guards.server'
import type { SessionUser } from '~/auth/identity.server'
import type { PhiCipher } from '~/crypto/phi.server'
import { documentCipherFromEnv } from '~/crypto/phi.server'
import { copyForwardedDocuments, discardForwardedCopies, type DocumentCopier, type HeldDocument } from '~/documents/forward-documents.server'
import { intakeForms, referrals, type IntakeFormDefinition, type ReferralStatus } from '~/db/schema'
import type { TenantTx } from '~/tenancy/tenant.server'
import { openFormData, patientIndexes, sealFormData, type FormValues } from './form-data.server'
import { FORWARDABLE, type ForwardedFacts } from './forward'

export type ForwardTarget = { id: string; name: string }

export type ForwardOutcome =
  | { outcome: 'forwarded'; referenceNumber: string; clinicName: string; notCarried: string[] }
  | { outcome: 'not-found' | 'conflict' | 'bad-move' | 'not-accepting' | 'stale-form' }

export type ForwardRequest = { referralId: string; version: number; toClinic: string; reason: string }

type Deps = {
  clinicId: string
  cipher: PhiCipher
  audit: (tx: TenantTx, event: AuditEvent) => Promise<void>
  requestId: string | null
  /** R2 and the document cipher; needed only when the referral has documents. */
  documents?: DocumentCopier
}

/** The clinics this one may forward to: the others that accept forwards (name and id only). */
export async function forwardTargets(tx: TenantTx): Promise<ForwardTarget[]> {
  const result = await tx.execute<ForwardTarget>(sql`select id, name from forward_targets()`)
  return result.rows
}

/**
 * What the forward page shows: the referral's reference, status and version (no PHI, so no read
 * of it is recorded) and the clinics it can go to, in one statement.
 */
export async function forwardPageData(tx: TenantTx, referralId: string) {
  const [found] = await tx
    .select({
      id: referrals.id,
      referenceNumber: referrals.referenceNumber,
      status: referrals.status,
      version: referrals.version,
      forwardedToName: referrals.forwardedToName,
      targets: sql<
        ForwardTarget[]
      >`coalesce((select json_agg(json_build_object('id', t.id, 'name', t.name) order by t.name, t.id) from forward_targets() t), '[]'::json)`,
    })
    .from(referrals)
    .where(eq(referrals.id, referralId))
    .limit(1)
  return found ?? null
}

/** The one door from a page: the permission (a refusal is recorded), the id (a recorded 404), then the hand-off as this user. */
export async function forwardReferral(context: AppLoadContext, user: SessionUser, clinicId: string, request: ForwardRequest): Promise<ForwardOutcome> {
  const attempt = { action: 'referral.forward', entityId: request.referralId } as const
  await requirePhiPermission(context, user, 'forward:referral:any', attempt)
  const id = await requirePhiId(context, request.referralId, attempt)
  const bucket = context.env.DOCUMENTS
  const documents = bucket ? { bucket, cipher: documentCipherFromEnv(context.env) } : undefined
  return context.db.tenant((tx) =>
    performForward(tx, { clinicId, cipher: context.phi, audit: context.audit, requestId: context.requestId, documents }, { ...request, referralId: id }),
  )
}

type Found = {
  id: string
  status: ReferralStatus
  version: number
  formData: Record<string, unknown>
  definition: IntakeFormDefinition | null
  target: { version: number; definition: IntakeFormDefinition } | null
  documents: HeldDocument[]
}

/**
 * The hand-off in the caller's transaction. Two statements: the referral with its form and the
 * receiving clinic's form, then forward_referral(); the audit row goes with the commit.
 */
export async function performForward(tx: TenantTx, deps: Deps, request: ForwardRequest): Promise<ForwardOutcome> {
  const { clinicId, cipher, audit } = deps
  const [found]: Found[] = await tx
    .select({
      id: referrals.id,
      status: referrals.status,
      version: referrals.version,
      formData: referrals.formData,
      definition: intakeForms.definition,
      target: sql<
        Found['target']
      >`(select json_build_object('version', f.version, 'definition', f.definition) from forward_target_form(${request.toClinic}::uuid) f)`,
      documents: sql<HeldDocument[]>`coalesce((select json_agg(json_build_object('id', d.id, 'name', d.name, 'chunkCount', d.chunk_count,
        'chunkBytes', d.chunk_bytes, 'sizeBytes', d.size_bytes, 'sha256', d.sha256) order by d.created_at, d.id)
        from referral_documents d where d.clinic_id = ${referrals.clinicId} and d.referral_id = ${referrals.id} and d.removed_at is null), '[]'::json)`,
    })
    .from(referrals)
    .leftJoin(intakeForms, and(eq(intakeForms.clinicId, referrals.clinicId), eq(intakeForms.version, referrals.formVersion)))
    .where(eq(referrals.id, request.referralId))
    .limit(1)
  // A referral not there (or another clinic's) is the usual recorded 404 (decision 013); a
  // refused target or a stale form says which, as a code, with the clinic id it named.
  const refused = async (outcome: 'not-found' | 'not-accepting' | 'stale-form') => {
    const event = deniedEvent({ action: 'referral.forward', entityId: request.referralId }, 404)
    await audit(tx, outcome === 'not-found' ? event : { ...event, details: { reason: outcome.replace('-', '_'), toClinic: request.toClinic } })
    return { outcome }
  }
  if (!found) return refused('not-found')
  if (found.version !== request.version) return { outcome: 'conflict' }
  if (!FORWARDABLE.includes(found.status)) return { outcome: 'bad-move' }
  if (!found.target) return refused('not-accepting')
  if (!found.definition) throw new Error('referral form version missing')

  const values = await openFormData(cipher, found.definition, { clinicId, referralId: found.id }, found.formData)
  const { carried, notCarried } = carryOver(values, found.definition, found.target.definition)
  const newReferral = crypto.randomUUID()
  const newEvent = crypto.randomUUID()
  const senderEvent = crypto.randomUUID()
  const to = request.toClinic
  const formData = await sealFormData(cipher, found.target.definition, { clinicId: to, referralId: newReferral }, carried)
  // Keyed for the receiving clinic: its duplicate check and search find the patient, and the
  // same patient is still not linkable across clinics.
  const indexes = await patientIndexes(cipher, to, values)
  const reason = request.reason.trim()
  const forSender = await cipher.encrypt(reason, { clinicId, recordId: senderEvent, field: 'body' })
  const forReceiver = await cipher.encrypt(reason, { clinicId: to, recordId: newEvent, field: 'body' })
  // The documents go too, re-sealed for the receiver chunk by chunk (decision 039); the copies
  // are discarded unless the hand-off records them.
  if (found.documents.length && !deps.documents) throw new Error('forwarding documents needs the DOCUMENTS bucket')
  const copied = deps.documents
    ? await copyForwardedDocuments(deps.documents, cipher, { clinicId, referralId: found.id }, { clinicId: to, referralId: newReferral }, found.documents)
    : { copies: [], keys: [] }
  const discard = () => (deps.documents ? discardForwardedCopies(deps.documents.bucket, copied.keys) : undefined)
  const answer = await tx
    .execute<{ outcome: ForwardOutcome['outcome']; reference_number: string | null; clinic_name: string | null }>(
      sql`select outcome, reference_number, clinic_name from forward_referral(${found.id}::uuid, ${request.version}::integer, ${to}::uuid,
        ${found.target.version}::integer, ${newReferral}::uuid, ${newEvent}::uuid, ${senderEvent}::uuid, ${JSON.stringify(formData)}::jsonb,
        ${indexes.healthCardIndex}::text, ${indexes.nameDobIndex}::text, ${JSON.stringify(forSender)}::jsonb, ${JSON.stringify(forReceiver)}::jsonb,
        ${deps.requestId}::text, ${JSON.stringify(copied.copies)}::jsonb)`,
    )
    .then(
      (result) => result.rows[0],
      async (error: unknown) => {
        await discard()
        throw error
      },
    )
  if (!answer || answer.outcome !== 'forwarded' || !answer.reference_number) {
    await discard()
    const outcome = answer?.outcome && answer.outcome !== 'forwarded' ? answer.outcome : 'not-found'
    return outcome === 'conflict' || outcome === 'bad-move' ? { outcome } : refused(outcome)
  }
  await audit(tx, {
    action: 'referral.forward',
    entityType: 'referral',
    entityId: found.id,
    details: {
      toClinic: to,
      toReferral: newReferral,
      ...(copied.copies.length ? { documentIds: copied.copies.map((d) => d.from) } : {}),
      ...(notCarried.length ? { notCarried: notCarried.length } : {}),
    },
  })
  return { outcome: 'forwarded', referenceNumber: answer.reference_number, clinicName: answer.clinic_name ?? 'the other clinic', notCarried }
}

/**
 * The values the receiving clinic's form has a field for, by key (the answers of a field it does
 * not have cannot be stored there), and the labels of those left behind (labels, never values).
 */
export function carryOver(values: FormValues, from: IntakeFormDefinition, to: IntakeFormDefinition) {
  const keys = new Set(to.sections.flatMap((s) => s.fields.map((f) => f.key)))
  const carried: FormValues = {}
  const notCarried: string[] = []
  for (const field of from.sections.flatMap((s) => s.fields)) {
    const value = values[field.key]
    if (value === undefined || value === null || value === '') continue
    if (keys.has(field.key)) carried[field.key] = value
    else notCarried.push(field.label)
  }
  return { carried, notCarried }
}

/** Where a referral went or came from, from its own row (the hand-off wrote it there). */
export function forwardedFacts(row: typeof referrals.$inferSelect): ForwardedFacts {
  return {
    to:
      row.forwardedToName && row.forwardedToReference
        ? { name: row.forwardedToName, referenceNumber: row.forwardedToReference, at: (row.forwardedAt ?? row.updatedAt).toISOString() }
        : null,
    from: row.forwardedFromName ? { name: row.forwardedFromName } : null,
  }
}
