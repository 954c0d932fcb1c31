/**
 * "Reply received": the referrer answered a clinic question and no one at the clinic has said
 * they saw it yet. The database marks the referral with the reply (drizzle/0021: a trigger on
 * the reply's event, in the reply's own transaction); staff clear it here, once they have read it.
 */
import type { AppLoadContext } from '@remix-run/cloudflare'
import { and, eq, isNotNull } from 'drizzle-orm'
import { requirePhiId, requirePhiPermission } from '~/auth/guards.server'
import type { SessionUser } from '~/auth/identity.server'
import { referrals } from '~/db/schema'

/** The post that acknowledges a reply (the referral page's ReplyReceived form). */
export const ACKNOWLEDGE_REPLY = 'acknowledge-reply'

/**
 * Clears the marker, audited as a change to the referral. Acknowledging twice (two people, two
 * tabs) is not an error: the second finds nothing waiting and changes nothing.
 */
export async function acknowledgeReply(context: AppLoadContext, user: SessionUser, referralId: string | undefined) {
  const attempt = { action: 'referral.update', entityId: referralId, details: { event: 'reply-acknowledged' } } as const
  await requirePhiPermission(context, user, 'update:referral:any', attempt)
  const id = await requirePhiId(context, referralId, attempt)
  return context.db.tenant(async (tx) => {
    const [cleared] = await tx
      .update(referrals)
      .set({ replyReceivedAt: null })
      .where(and(eq(referrals.id, id), isNotNull(referrals.replyReceivedAt)))
      .returning({ id: referrals.id })
    if (cleared) await context.audit(tx, { action: 'referral.update', entityType: 'referral', entityId: id, details: { event: 'reply-acknowledged' } })
    return cleared ? ('acknowledged' as const) : ('nothing-waiting' as const)
  })
}
