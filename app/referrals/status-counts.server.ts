/** The clinic at a glance: referrals by status, and the urgent or emergent ones not yet triaged. No PHI. */
import { count, sql } from 'drizzle-orm'
import { referralStatuses, type ReferralStatus } from '~/db/enums'
import { referrals } from '~/db/schema'
import type { TenantDatabase } from '~/tenancy/tenant.server'

/** RLS narrows a referrer to their own referrals; staff count the clinic's. Every status is there, zero or not. */
export async function referralCounts(desk: { db: TenantDatabase }) {
  const rows = await desk.db.tenant((tx) =>
    tx
      .select({
        status: referrals.status,
        total: count(),
        overdue: sql<number>`count(*) filter (where ${referrals.priority} <> 'routine' and ${referrals.triagedAt} is null)`,
      })
      .from(referrals)
      .groupBy(referrals.status),
  )
  const byStatus = new Map<string, number>(rows.map((r) => [r.status, Number(r.total)]))
  return {
    byStatus: referralStatuses.map((status): { status: ReferralStatus; total: number } => ({ status, total: byStatus.get(status) ?? 0 })),
    urgentUntriaged: rows.reduce((sum, r) => sum + Number(r.overdue), 0),
  }
}
