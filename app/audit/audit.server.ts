/**
 * Writing the audit trail (decisions 013, 016). A row holds ids only, never PHI. Reads of PHI are
 * recorded in the same transaction as the read: pass the transaction you read with.
 */
import { auditLogs, type AuditOutcome } from '~/db/schema'
import { sendWithCommit, type TenantScope, type TenantTx } from '~/tenancy/tenant.server'
import { isUuid } from '~/utils/keyset'

export type AuditAction =
  | 'login'
  | 'login.denied'
  | 'logout'
  | 'clinic.switch'
  | 'clinic.settings'
  | 'referral.read'
  | 'referral.list'
  | 'referral.create'
  | 'referral.update'
  | 'referral.status'
  | 'referral.note'
  | 'referral.assign'
  | 'referral.print'
  /** PHI's life (docs/decisions/048-050): owner jobs write these, and the accounting of disclosures. */
  | 'phi.rotate'
  | 'phi.rotate_blind_index'
  | 'phi.purge'
  | 'referral.purge'
  | 'disclosures.read'
  | 'disclosures.export'
  /** Sent to another clinic (the sender's trail), and arrived from one (the receiver's, written by forward_referral()). */
  | 'referral.forward'
  | 'referral.receive'
  | 'document.attach'
  | 'document.list'
  | 'document.read'
  | 'document.remove'
  | 'ai.generate'
  | 'ai.accept'
  | 'user.invite'
  | 'user.role'
  | 'user.disable'
  | 'user.enable'
  | 'form.publish'
  | 'draft.list'
  | 'draft.read'
  | 'audit.export'
  | 'audit.verify'
  /** A webhook endpoint registered; changed (secret rotated, disabled, enabled); a test event or a redelivery sent. */
  | 'webhook.create'
  | 'webhook.change'
  | 'webhook.send'
  /** An EHR system's app registered with the clinic (its app roles), or revoked (docs/decisions/058). */
  | 'integration.create'
  | 'integration.revoke'
  /** A user's own email notification choices saved (the kinds turned off, as codes). */
  | 'notifications.settings'
  /** Recorded by database triggers on PHI tables, not by application code. */
  | 'record.write'

export type AuditEvent = {
  action: AuditAction
  entityType?: string
  entityId?: string
  outcome?: AuditOutcome
  /** Ids and codes only (a list's referral ids, a switch reason, a denial reason code). */
  details?: Record<string, unknown>
}

/**
 * What a refused request tried to do with PHI. `entityId` may be the raw id from the URL: only
 * a well-formed id is written down (anything else is whatever was typed, and could be a name).
 */
export type PhiAttempt = { action: AuditAction; entityId?: string; details?: Record<string, unknown>; entityType?: 'referral' | 'patient' }

/**
 * The row for a refused attempt on PHI (denied attempts are recorded too: decision 013). PHI is
 * a referral's (its form data, its history), so the entity is a referral, or a patient for an
 * accounting of disclosures, which spans their referrals (app/privacy/disclosures.server.ts). The reason
 * code tells a 403 (the role may not) from a 404 (not there, or not theirs to see).
 */
export function deniedEvent(attempt: PhiAttempt, status: 403 | 404): AuditEvent {
  return {
    action: attempt.action,
    entityType: attempt.entityType ?? 'referral',
    entityId: isUuid(attempt.entityId) ? attempt.entityId : undefined,
    outcome: 'denied',
    details: { ...attempt.details, reason: status === 403 ? 'forbidden' : 'not_found' },
  }
}

export type AuditRequest = { requestId: string; ip: string | null; userAgent: string | null }

/**
 * The request as the trail records it. The IP is CF-Connecting-IP, and only behind Cloudflare
 * (production), whose edge sets it and overwrites whatever the client sent; any other header
 * (X-Forwarded-For, ...) is the client's to invent. Locally the header is the client's too
 * (wrangler keeps one the client sends), so nothing is recorded there.
 */
export function auditRequest(request: Request, requestId: string, options = { behindCloudflare: false }): AuditRequest {
  return {
    requestId,
    ip: options.behindCloudflare ? clientIp(request.headers.get('CF-Connecting-IP')) : null,
    userAgent: request.headers.get('User-Agent')?.slice(0, 512) ?? null,
  }
}

/** An IPv4 or IPv6 address as Cloudflare writes it, or nothing. */
function clientIp(value: string | null): string | null {
  if (!value || value.length > 45) return null
  return /^(\d{1,3}(\.\d{1,3}){3}|[0-9a-fA-F:]*:[0-9a-fA-F:.]*)$/.test(value) ? value : null
}

/**
 * Appends one row to the clinic's trail, in the transaction of the work it records. Inside
 * db.tenant the INSERT is sent with the commit (sendWithCommit): the same transaction, no round
 * trip of its own (decision 016). The chain trigger numbers and hashes it either way.
 */
export async function recordAudit(tx: TenantTx, scope: TenantScope, request: AuditRequest, event: AuditEvent) {
  const row = {
    clinicId: scope.clinicId,
    actorId: scope.userId,
    actorRole: scope.role,
    action: event.action,
    entityType: event.entityType ?? null,
    entityId: event.entityId ?? null,
    details: event.details ?? null,
    outcome: event.outcome ?? 'success',
    requestId: request.requestId,
    ip: request.ip,
    userAgent: request.userAgent,
  } satisfies typeof auditLogs.$inferInsert
  if (sendWithCommit(tx, (literal) => auditInsertStatement(row, literal))) return
  await tx.insert(auditLogs).values(row)
}

/** The row as an INSERT with literal values (the driver's escaping; no NUL, which text cannot hold). */
function auditInsertStatement(row: typeof auditLogs.$inferInsert, literal: (value: string) => string) {
  const value = (v: string | null | undefined) => (v === null || v === undefined ? 'NULL' : literal(v.replaceAll('\0', '')))
  return `insert into audit_logs (clinic_id, actor_id, actor_role, action, entity_type, entity_id, details, outcome, request_id, ip, user_agent) values (${[
    value(row.clinicId),
    value(row.actorId),
    value(row.actorRole),
    value(row.action),
    value(row.entityType),
    value(row.entityId),
    row.details === null || row.details === undefined ? 'NULL' : `${value(JSON.stringify(row.details))}::jsonb`,
    value(row.outcome),
    value(row.requestId),
    value(row.ip),
    value(row.userAgent),
  ].join(', ')})`
}
