/**
 * A clinic admin's EHR integrations (docs/decisions/058-ehr-integrations-app-only-tokens.md): the
 * list, a new one (an EHR system's Entra app, bound to this clinic, with the app roles it may use),
 * and a revoke, which refuses the app's tokens from the next request on. Each is one transaction
 * under the admin's scope, recorded in the audit trail with ids and role codes only.
 */
import { and, eq } from 'drizzle-orm'
import type { AuditEvent } from '~/audit/audit.server'
import { ehrIntegrations, type IntegrationRole } from '~/db/schema'
import type { TenantDatabase, TenantTx } from '~/tenancy/tenant.server'

export type IntegrationDesk = {
  db: TenantDatabase
  audit: (tx: TenantTx, event: AuditEvent) => Promise<void>
}

/** A clinic has at most this many active integrations. */
export const MAX_INTEGRATIONS = 20

export function clinicIntegrations(desk: Pick<IntegrationDesk, 'db'>, clinicId: string) {
  return desk.db.tenant((tx) =>
    tx
      .select({
        id: ehrIntegrations.id,
        name: ehrIntegrations.name,
        clientId: ehrIntegrations.clientId,
        tenantId: ehrIntegrations.idpTenantId,
        roles: ehrIntegrations.roles,
        status: ehrIntegrations.status,
        createdAt: ehrIntegrations.createdAt,
        revokedAt: ehrIntegrations.revokedAt,
      })
      .from(ehrIntegrations)
      .where(eq(ehrIntegrations.clinicId, clinicId))
      .orderBy(ehrIntegrations.createdAt),
  )
}

export type NewIntegration = { name: string; clientId: string; tenantId: string; roles: IntegrationRole[] }

/**
 * Registers the app with this clinic. 'taken': that app is already an active integration (of this
 * clinic or another: its tokens name no clinic, so one app serves one clinic).
 */
export async function registerIntegration(desk: IntegrationDesk, clinicId: string, userId: string, made: NewIntegration) {
  return desk.db.tenant(async (tx) => {
    const active = await tx
      .select({ id: ehrIntegrations.id })
      .from(ehrIntegrations)
      .where(and(eq(ehrIntegrations.clinicId, clinicId), eq(ehrIntegrations.status, 'active')))
    if (active.length >= MAX_INTEGRATIONS) return 'too-many' as const
    // Another clinic's registration is invisible here (RLS): the unique index says so, without
    // the insert failing the transaction (on conflict ... do nothing).
    const [row] = await tx
      .insert(ehrIntegrations)
      .values({ clinicId, name: made.name, clientId: made.clientId, idpTenantId: made.tenantId, roles: made.roles, createdBy: userId })
      .onConflictDoNothing()
      .returning({ id: ehrIntegrations.id })
    if (!row) return 'taken' as const
    await desk.audit(tx, { action: 'integration.create', entityType: 'integration', entityId: row.id, details: { roles: made.roles } })
    return row
  })
}

/** Revokes one of this clinic's active integrations; false when there is none by that id. */
export async function revokeIntegration(desk: IntegrationDesk, clinicId: string, userId: string, integrationId: string) {
  return desk.db.tenant(async (tx) => {
    const [row] = await tx
      .update(ehrIntegrations)
      .set({ status: 'revoked', revokedAt: new Date(), revokedBy: userId })
      .where(and(eq(ehrIntegrations.clinicId, clinicId), eq(ehrIntegrations.id, integrationId), eq(ehrIntegrations.status, 'active')))
      .returning({ id: ehrIntegrations.id })
    if (!row) return false
    await desk.audit(tx, { action: 'integration.revoke', entityType: 'integration', entityId: row.id })
    return true
  })
}
