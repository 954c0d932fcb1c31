/**
 * Writing the audit trail (DESIGN §5). A row holds ids only, never PHI. Reads of PHI are
 * recorded in the same transaction as the read: pass the transaction you read with.
 */
import { auditLogs, type AuditOutcome } from '~/db/schema'
import type { TenantScope, TenantTx } from '~/tenancy/tenant.server'

export type AuditAction =
  | 'login'
  | 'login.denied'
  | 'logout'
  | 'clinic.switch'
  | 'referral.read'
  | 'referral.list'
  | 'referral.create'
  | 'referral.update'
  | 'referral.status'
  | 'referral.note'
  | 'referral.assign'
  | 'referral.print'
  | 'ai.generate'
  | 'ai.accept'
  | 'user.invite'
  | 'user.role'
  | 'user.disable'
  | 'user.enable'
  | 'form.publish'
  | 'audit.export'
  | 'audit.verify'
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

export type AuditRequest = { requestId: string; ip: string | null; userAgent: string | null }

export function auditRequest(request: Request, requestId: string): AuditRequest {
  return {
    requestId,
    ip: request.headers.get('CF-Connecting-IP') ?? request.headers.get('X-Forwarded-For')?.split(',')[0]?.trim() ?? null,
    userAgent: request.headers.get('User-Agent')?.slice(0, 512) ?? null,
  }
}

export async function recordAudit(tx: TenantTx, scope: TenantScope, request: AuditRequest, event: AuditEvent) {
  await tx.insert(auditLogs).values({
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
  })
}
