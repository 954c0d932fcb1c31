/**
 * Accepting an event: one delivery row per recipient, in one statement, under the event's clinic
 * scope (RLS). A recipient who turned the kind off gets no row; a second look at the same event
 * adds nothing (email_deliveries_once).
 */
import { sql, type SQL } from 'drizzle-orm'
import type { OutboxEvent } from '~/db/schema'
import type { Database } from '~/db/client.server'
import { createTenantDatabase } from '~/tenancy/tenant.server'
import { courierScope } from './scope'
import type { EmailPlan } from './plan'

export async function recordDeliveries(db: Database, event: OutboxEvent, plan: EmailPlan): Promise<number> {
  // About a referral, or (endpoint_disabled) about an endpoint: never both (email_deliveries_subject).
  const endpointId = plan.kind === 'endpoint_disabled' ? (event.data.endpointId ?? null) : null
  const referralId = endpointId ? null : event.referralId
  if (!endpointId && !referralId) return 0
  const actorId = event.data.actorId ?? null
  const audience: Record<EmailPlan['audience'], SQL> = {
    // A referral staff entered for someone without an account names the staff member as its
    // submitter: nobody to tell. A forwarded one has no submitter here.
    referrer: sql`u.role = 'referrer' and u.id = (select r.submitted_by from referrals r
      where r.clinic_id = ${event.clinicId} and r.id = ${referralId} and r.entered_by is null)`,
    staff: sql`u.role in ('staff', 'admin') and u.status = 'active' and u.id is distinct from ${actorId}::uuid`,
    assignee: sql`u.role in ('staff', 'admin') and u.status = 'active' and u.id = ${event.data.to ?? null}::uuid`,
    admins: sql`u.role = 'admin' and u.status = 'active'`,
  }
  const tenant = createTenantDatabase(db, courierScope(event.clinicId))
  const { rowCount } = await tenant.tenant((tx) =>
    tx.execute(sql`insert into email_deliveries (clinic_id, outbox_event_id, referral_id, endpoint_id, recipient_id, kind)
      select u.clinic_id, ${event.id}, ${referralId}::uuid, ${endpointId}::uuid, u.id, ${plan.kind}
        from users u
        left join email_preferences p on p.clinic_id = u.clinic_id and p.user_id = u.id
       where u.clinic_id = ${event.clinicId} and u.status <> 'disabled'
         and not (${plan.kind}::text = any (coalesce(p.off, '{}')))
         and ${audience[plan.audience]}
      on conflict (clinic_id, outbox_event_id, recipient_id) do nothing`),
  )
  return rowCount ?? 0
}
