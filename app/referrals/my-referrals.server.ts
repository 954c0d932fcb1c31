/**
 * A referrer's own referrals (RLS shows nothing else), newest first, keyset on (received, id),
 * with the clinic's latest word on each: an open question shows until the referrer replies.
 */
import { and, desc, eq, inArray, sql } from 'drizzle-orm'
import { referralEvents, referrals } from '~/db/schema'
import type { TenantTx } from '~/tenancy/tenant.server'
import { isPgTimestamp, isUuid } from '~/utils/keyset'

export const MY_REFERRALS_PAGE_SIZE = 25

/** The page link's key: PostgreSQL's text of the last row's received time, and its id. */
export function readMyReferralsCursor(before: string | null): { key: [string, string] | null; bad: boolean } {
  const [time, id, ...rest] = (before ?? '').split(',')
  const key: [string, string] | null = isPgTimestamp(time) && isUuid(id) && !rest.length ? [time, id] : null
  return { key, bad: before !== null && !key }
}

export async function myReferralsPage(tx: TenantTx, userId: string, before: [string, string] | null) {
  const rows = await tx
    .select({
      id: referrals.id,
      clinicId: referrals.clinicId,
      referenceNumber: referrals.referenceNumber,
      status: referrals.status,
      receivedAt: referrals.receivedAt,
      updatedAt: referrals.updatedAt,
      formData: referrals.formData,
      forwardedToName: referrals.forwardedToName,
      forwardedToReference: referrals.forwardedToReference,
      key: sql<string>`${referrals.receivedAt}::text`,
    })
    .from(referrals)
    .where(
      and(
        eq(referrals.submittedBy, userId),
        before ? sql`(${referrals.receivedAt}, ${referrals.id}) < (${before[0]}::timestamptz, ${before[1]}::uuid)` : undefined,
      ),
    )
    .orderBy(desc(referrals.receivedAt), desc(referrals.id))
    .limit(MY_REFERRALS_PAGE_SIZE + 1)
  const page = rows.slice(0, MY_REFERRALS_PAGE_SIZE)
  const ids = page.map((r) => r.id)
  const latest = ids.length
    ? await tx
        .selectDistinctOn([referralEvents.referralId], {
          referralId: referralEvents.referralId,
          type: referralEvents.type,
          createdAt: referralEvents.createdAt,
        })
        .from(referralEvents)
        .where(
          and(
            inArray(referralEvents.referralId, ids),
            inArray(referralEvents.type, ['message', 'reply', 'status']),
            // The move to "Waiting on referrer" that comes with a question does not answer it.
            sql`not (${referralEvents.type} = 'status' and ${referralEvents.data}->>'to' = 'info_requested')`,
          ),
        )
        .orderBy(referralEvents.referralId, desc(referralEvents.createdAt))
    : []
  const last = page.at(-1)
  return {
    rows: page.map((r) => ({ ...r, question: latest.find((l) => l.referralId === r.id)?.type === 'message' })),
    next: rows.length > MY_REFERRALS_PAGE_SIZE && last ? `${last.key},${last.id}` : null,
  }
}
