/**
 * Email notifications as the app sees them (docs/decisions/041): a user's own choices, and the
 * clinic's deliveries for its admins. The courier writes the deliveries; the app only reads them.
 */
import { and, desc, eq, sql } from 'drizzle-orm'
import { emailDeliveries, emailPreferences, referrals, users, type EmailKind } from '~/db/schema'
import type { AuditEvent } from '~/audit/audit.server'
import type { TenantTx } from '~/tenancy/tenant.server'

/** The kinds this user turned off (RLS: their own row only). */
export async function myEmailOff(tx: TenantTx, userId: string): Promise<EmailKind[]> {
  const [row] = await tx.select({ off: emailPreferences.off }).from(emailPreferences).where(eq(emailPreferences.userId, userId))
  return row?.off ?? []
}

/** Saved, and recorded in the clinic's trail in the same transaction: the kinds now off, as codes. */
export async function saveMyEmailOff(
  tx: TenantTx,
  audit: (tx: TenantTx, event: AuditEvent) => Promise<void>,
  user: { id: string; clinicId: string },
  off: EmailKind[],
) {
  await tx
    .insert(emailPreferences)
    .values({ clinicId: user.clinicId, userId: user.id, off })
    .onConflictDoUpdate({ target: [emailPreferences.clinicId, emailPreferences.userId], set: { off, updatedAt: sql`now()` } })
  await audit(tx, { action: 'notifications.settings', entityType: 'user', entityId: user.id, details: { off } })
}

/** The clinic's newest deliveries: who, what kind, which reference (none for an endpoint disabled), and how it went. */
export async function recentDeliveries(tx: TenantTx, clinicId: string, limit = 100) {
  return tx
    .select({
      id: emailDeliveries.id,
      kind: emailDeliveries.kind,
      status: emailDeliveries.status,
      attempts: emailDeliveries.attempts,
      lastError: emailDeliveries.lastError,
      createdAt: emailDeliveries.createdAt,
      sentAt: emailDeliveries.sentAt,
      nextAttemptAt: emailDeliveries.nextAttemptAt,
      recipient: users.displayName,
      recipientEmail: users.email,
      referenceNumber: referrals.referenceNumber,
    })
    .from(emailDeliveries)
    .innerJoin(users, and(eq(users.clinicId, emailDeliveries.clinicId), eq(users.id, emailDeliveries.recipientId)))
    .leftJoin(referrals, and(eq(referrals.clinicId, emailDeliveries.clinicId), eq(referrals.id, emailDeliveries.referralId)))
    .where(eq(emailDeliveries.clinicId, clinicId))
    .orderBy(desc(emailDeliveries.createdAt), desc(emailDeliveries.id))
    .limit(limit)
}

export const ERROR_WORDS: Record<string, string> = {
  smtp_not_configured: 'No mail server is configured',
  smtp_unreachable: 'The mail server could not be reached',
  smtp_rejected: 'The mail server refused the message',
}
