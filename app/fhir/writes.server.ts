/**
 * FHIR writes, each through the door the page's own action uses (docs/decisions/056-fhir-writes.md):
 * - a transaction Bundle is an intake form submission: the version it names, intakeSchema,
 *   createReferral (encryption, blind indexes, duplicate check, first event, audit);
 * - a Task update is a status move through performWork (workflow.ts, version, events, audit),
 *   or the sender's cancel (docs/decisions/060-sender-cancels.md);
 * - a Communication is a reply to the clinic's question (or a staff question) through workOnReferral.
 * Every audit row these write carries `fhir: true`, as the reads' do.
 */
import type { AppLoadContext } from '@remix-run/cloudflare'
import { deniedEvent, type AuditEvent } from '~/audit/audit.server'
import { requirePhiId, requirePhiPermission } from '~/auth/guards.server'
import type { SessionUser } from '~/auth/identity.server'
import { hasPermission } from '~/auth/permissions'
import type { ReferralStatus } from '~/db/enums'
import { intakeSchema } from '~/intake/form-schema'
import { intakeFormVersion } from '~/intake/intake-forms.server'
import { createReferral } from '~/referrals/create-referral.server'
import type { FormValues } from '~/referrals/form-data.server'
import { performWork, type Work, type WorkOutcome } from '~/referrals/work.server'
import type { TenantTx } from '~/tenancy/tenant.server'
import { clinicTimeZone } from '~/utils/clinic-time'
import { JSON_PATCH, readFhirBody } from './handler.server'
import { fhirError, fhirResponse, type Issue } from './outcome.server'
import { loadTask } from './referrals.server'
import { questionnaireUrl, REASON_SYSTEM, type FhirServer, type Resource } from './resources'
import { applyJsonPatch, taskMove } from './task-update'
import { answerExpression, readTransaction, transactionAnswers, transactionKey } from './transaction'
import { receiveTransactionDocuments } from './transaction-documents.server'

/** The request's audit, with the FHIR marker on every row (as the reads' `details.fhir`). */
export const fhirAudit = (context: AppLoadContext) => (tx: TenantTx, event: AuditEvent) =>
  context.audit(tx, { ...event, details: { ...event.details, fhir: true } })

const unprocessable = (issues: Issue[]) => fhirError(422, 'The transaction is not a referral this clinic can take', { issues })

/**
 * Who sends a transaction, after the recorded 403 for one who may not: a referrer in their own
 * name (`create:referral:own`), or an EHR integration with Referral.Submit (`create:referral:app`)
 * in the registration's (docs/decisions/061-referrals-from-ehr-integrations.md).
 */
async function requireTransactionSender(context: AppLoadContext, user: SessionUser) {
  const system = user.role === 'integration'
  await requirePhiPermission(context, user, system ? 'create:referral:app' : 'create:referral:own', { action: 'referral.create', details: { fhir: true } })
  return system ? { integration: user.id } : user.id
}

/**
 * POST /fhir/R4 with a transaction Bundle: one referral, from its sender (a referrer, as the
 * page and /api/v1 take one, or an EHR integration). A Bundle or ServiceRequest identifier
 * already used by this sender gives the first referral back (200 rather than 201), whatever the
 * retry carries.
 */
export async function submitTransaction(context: AppLoadContext, user: SessionUser, server: FhirServer, body: unknown): Promise<Response | Resource> {
  const submittedBy = await requireTransactionSender(context, user)
  const clinic = context.clinic
  if (!clinic) throw fhirError(403)
  const read = readTransaction(body, questionnaireUrl(server))
  if ('problems' in read) throw fhirError(400, 'The transaction is not valid', { issues: read.problems })
  const key = await transactionKey(read.key)
  // Its documents are read and sealed before any query, then kept with the referral or not at all (decision 062).
  const files = await receiveTransactionDocuments(context, body, read.fullUrls)
  type Outcome = { stale: true } | { problems: Issue[] } | { created: Awaited<ReturnType<typeof createReferral>> }
  const transaction = context.db.tenant(async (tx): Promise<Outcome> => {
    const form = await intakeFormVersion(tx, clinic.id, read.formVersion)
    if (!form) return { stale: true }
    const answered = transactionAnswers(read.entries, form.definition)
    if ('problems' in answered) return { problems: answered.problems }
    const values = intakeSchema(form.definition).safeParse(answered.answers)
    if (!values.success) {
      return {
        problems: values.error.issues.map((i) => {
          const field = String(i.path[0] ?? '')
          return { expression: [answerExpression(field)], diagnostics: `${field}: ${i.message}`, code: 'invalid' }
        }),
      }
    }
    const created = await createReferral(tx, context.phi, fhirAudit(context), {
      id: files.referralId,
      clinic,
      submittedBy,
      form,
      values: values.data as FormValues,
      idempotencyKey: key,
    })
    // Attached by whoever sent the referral: a referrer, or the integration in its own name (decision 063).
    await files.record(tx, created, { uploadedBy: submittedBy, audit: fhirAudit(context) })
    return { created }
  })
  const outcome = await transaction.finally(files.settle)
  if ('stale' in outcome) throw fhirError(409, 'That intake form version does not exist for this clinic: read the current Questionnaire and fill it in')
  if ('problems' in outcome) throw unprocessable(outcome.problems)
  const { id, created } = outcome.created
  const status = created ? '201 Created' : '200 OK'
  // Each entry answered in the request's order; the three resources share the referral's id, a document's two theirs.
  const entries = read.order.map((kind) => ({
    fullUrl: `${server.origin}/fhir/R4/${kind}/${id}`,
    response: { status, location: `${kind}/${id}` },
  }))
  return { resourceType: 'Bundle', type: 'transaction-response', entry: files.responseEntries(server, entries) }
}

/** A version as If-Match carries it (`W/"3"`, or `"3"`), or null when the header says something else. */
const ifMatchVersion = (header: string) => /^(?:W\/)?"(\d{1,9})"$/.exec(header.trim())?.[1] ?? null

const etag = (version: number) => ({ ETag: `W/"${version}"` })

/** What performWork's refusals are in FHIR: the status, the issue code, and the element at fault. */
const REFUSED: Partial<Record<WorkOutcome, [number, string, string, string]>> = {
  conflict: [409, 'conflict', 'Task.meta.versionId', 'the referral changed since it was read: read the Task again, then retry'],
  'bad-move': [422, 'business-rule', 'Task.status', 'the workflow does not allow this move from the current status'],
  'needs-reason': [422, 'required', 'Task.statusReason.text', 'a decline needs a reason the referrer can read'],
  'bad-reason-code': [422, 'code-invalid', 'Task.statusReason.coding', 'not a category for this move'],
  'needs-date': [422, 'required', 'Task.executionPeriod.start', 'booking needs the appointment date (and time, as the clinic reads it)'],
}

/**
 * PUT or PATCH /fhir/R4/Task/:id: one status move, made by performWork as the page makes it
 * (workflow, version, reason, appointment, event, audit). The receiving clinic's staff make every
 * move but a cancel; only the sender of a referral (the referrer, or the EHR system, that sent it)
 * may cancel it (the Ontario eReferral rule; docs/decisions/060-sender-cancels.md), and that is
 * the only update a sender makes.
 */
export async function updateTask(context: AppLoadContext, user: SessionUser, server: FhirServer, referralId: string | undefined, request: Request) {
  const attempt = { action: 'referral.status', entityId: referralId, details: { fhir: true } } as const
  const sender = !hasPermission(user, 'update:referral:any') && hasPermission(user, 'cancel:referral:own')
  await requirePhiPermission(context, user, sender ? 'cancel:referral:own' : 'update:referral:any', attempt)
  const id = await requirePhiId(context, referralId, attempt)
  // A referrer's own referrals only: a colleague's or another clinic's is not there (404).
  const { row, resource } = await loadTask(context, user, server, id)
  const ifMatch = request.headers.get('If-Match')
  if (ifMatch !== null && ifMatchVersion(ifMatch) !== String(row.version)) {
    throw fhirError(412, 'If-Match does not name the Task’s current version: read it again', { headers: etag(row.version) })
  }
  let incoming: unknown
  if (request.method === 'PATCH') {
    const patched = applyJsonPatch(resource, await readFhirBody(request, [JSON_PATCH]))
    if ('problems' in patched) throw fhirError(patched.conflict ? 409 : 400, 'The patch cannot be applied', { issues: patched.problems })
    incoming = patched.result
  } else {
    incoming = await readFhirBody(request)
  }
  const move = taskMove(resource, incoming, row.status, REASON_SYSTEM(server), clinicTimeZone(context.clinic?.settings))
  if ('problems' in move) throw fhirError(422, 'The Task update is not one this server makes', { issues: move.problems })
  const cancels = move.change === 'move' && move.to === 'cancelled'
  // The sender asking again for a Task that reads cancelled is still asking to cancel (refused below, 422).
  if (sender ? !cancels && !(move.change === 'none' && resource.status === 'cancelled') : cancels) {
    await context.db.tenant((tx) => context.audit(tx, deniedEvent(attempt, 403)))
    throw forbiddenMove(sender)
  }
  if (move.change === 'none') {
    // The clinic re-sending the status as read changes nothing; the sender's cancel of a Task that
    // already reads cancelled (cancelled, or forwarded to another clinic) is a move the workflow refuses.
    if (!sender) return fhirResponse(resource, { headers: etag(row.version) })
    throw refusal('bad-move', 'cancelled')
  }
  if (move.versionId !== undefined && move.versionId !== String(row.version)) {
    throw fhirError(409, 'Task.meta.versionId: the referral changed since it was read: read the Task again, then retry', { headers: etag(row.version) })
  }
  const work: Work = sender
    ? { intent: 'cancel', version: row.version, reason: move.reason, reasonCode: move.reasonCode }
    : {
        intent: 'status',
        to: move.to,
        version: row.version,
        reason: move.reason,
        reasonCode: move.reasonCode,
        scheduledFor: move.scheduledFor,
        scheduledTime: move.scheduledTime,
      }
  const { outcome } = await context.db.tenant((tx) =>
    performWork(tx, { clinicId: server.clinic.id, userId: user.id, cipher: context.phi, audit: fhirAudit(context) }, id, work),
  )
  if (outcome === 'not-found') throw fhirError(404)
  if (outcome !== 'done') throw refusal(outcome, move.to)
  const after = await loadTask(context, user, server, id)
  return fhirResponse(after.resource, { headers: etag(after.row.version) })
}

/** Who makes which move: staff every one but a cancel (they decline), the sender only the cancel. */
const forbiddenMove = (sender: boolean) =>
  fhirError(403, undefined, {
    issues: [
      {
        code: 'forbidden',
        expression: ['Task.status'],
        diagnostics: sender
          ? 'Task.status: the sender of a referral may only cancel it; the clinic makes every other move'
          : 'Task.status: only the sender of a referral (its referrer or EHR system) may cancel it; the clinic declines it (rejected)',
      },
    ],
  })

function refusal(outcome: WorkOutcome, to: ReferralStatus) {
  const [status, code, expression, diagnostics] = REFUSED[outcome] ?? [422, 'business-rule', 'Task.status', 'this move cannot be made']
  const said = outcome === 'needs-reason' && to === 'cancelled' ? 'a cancel needs a reason the clinic can read' : diagnostics
  return fhirError(status, undefined, { issues: [{ code, expression: [expression], diagnostics: `${expression}: ${said}` }] })
}
