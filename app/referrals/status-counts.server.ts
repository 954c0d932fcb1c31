/** The clinic at a glance: referrals by status, and the urgent or emergent ones not yet triaged. No PHI. */
import { count, sql } from 'drizzle-orm'
import { referralStatuses, type ReferralStatus } from '~/db/enums'
import { referrals } from '~/db/schema'
import type { TenantDatabase } from '~/tenancy/tenant.server'

/**
 * RLS narrows a referrer to their own referrals; staff count the clinic's. Every status is there,
 * zero or not. Not yet triaged means still Received: the count is what the queue filtered on
 * that status and priority lists, so the home page's links lead to exactly that many.
 */
export async function referralCounts(desk: { db: TenantDatabase }) {
  const rows = await desk.db.tenant((tx) =>
    tx
      .select({
        status: referrals.status,
        total: count(),
        emergent: sql<number>`count(*) filter (where ${referrals.priority} = 'emergent')`,
        urgent: sql<number>`count(*) filter (where ${referrals.priority} = 'urgent')`,
      })
      .from(referrals)
      .groupBy(referrals.status),
  )
  const byStatus = new Map<string, number>(rows.map((r) => [r.status, Number(r.total)]))
  const received = rows.find((r) => r.status === 'received')
  return {
    byStatus: referralStatuses.map((status): { status: ReferralStatus; total: number } => ({ status, total: byStatus.get(status) ?? 0 })),
    untriaged: { emergent: Number(received?.emergent ?? 0), urgent: Number(received?.urgent ?? 0) },
  }
}
