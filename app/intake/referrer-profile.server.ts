/** The signed-in referrer's profile row (drizzle/0022: RLS shows a user their own row only). */
import { eq, sql } from 'drizzle-orm'
import { referrerProfiles } from '~/db/schema'
import type { TenantTx } from '~/tenancy/tenant.server'
import type { ReferrerProfile } from './referrer-profile'

/** Filtered by user as well as by RLS: the policy is the second wall, not the only one. */
export async function readReferrerProfile(tx: TenantTx, userId: string): Promise<ReferrerProfile | null> {
  const [row] = await tx
    .select({
      clinicianName: referrerProfiles.clinicianName,
      practice: referrerProfiles.practice,
      phone: referrerProfiles.phone,
      fax: referrerProfiles.fax,
      billingNumber: referrerProfiles.billingNumber,
    })
    .from(referrerProfiles)
    .where(eq(referrerProfiles.userId, userId))
    .limit(1)
  return row ?? null
}

/** One statement: the row is created on the first save, replaced on the next. */
export async function saveReferrerProfile(tx: TenantTx, owner: { clinicId: string; userId: string }, profile: ReferrerProfile) {
  await tx
    .insert(referrerProfiles)
    .values({ ...owner, ...profile })
    .onConflictDoUpdate({
      target: [referrerProfiles.clinicId, referrerProfiles.userId],
      set: { ...profile, updatedAt: sql`now()` },
    })
}
