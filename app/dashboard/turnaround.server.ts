/**
 * The turnaround dashboard's numbers: one statement, under the request's RLS (db.tenant), so the
 * page costs the round trips of a single read (decision 029) and the database does the
 * counting, however many referrals the clinic has. No PHI is read: only statuses, priorities,
 * timestamps, who sent a referral and the category of a decline
 * (docs/decisions/034-turnaround-dashboard.md).
 */
import { sql } from 'drizzle-orm'
import { referralPriorities, type ReferralPriority } from '~/db/enums'
import { OPEN_STATUSES } from '~/referrals/queue'
import type { TenantTx } from '~/tenancy/tenant.server'
import { AGE_BANDS, type PeriodWeeks, type Targets } from './turnaround'

/** Referrers shown by name; the rest are added up as one line. */
export const TOP_REFERRERS = 10

export type Turnaround = {
  since: string
  received: number
  /** Per priority: referrals received in the period, how many reached the step, how fast, and how many within target. */
  triage: Step[]
  booking: Step[]
  /** Open referrals (whenever received) by days waiting, per priority. */
  aging: { band: number; priority: ReferralPriority; total: number }[]
  weekly: { week: string; total: number }[]
  referrers: { id: string | null; name: string; organization: string | null; total: number; declined: number }[]
  declined: number
  declineReasons: { reason: string | null; total: number }[]
}
export type Step = { priority: ReferralPriority; received: number; reached: number; withinTarget: number; medianHours: number | null; p90Hours: number | null }

type Row = {
  since: string
  triage: Step[] | null
  booking: Step[] | null
  aging: Turnaround['aging'] | null
  weekly: Turnaround['weekly'] | null
  referrers: Turnaround['referrers'] | null
  declined: number
  decline_reasons: Turnaround['declineReasons'] | null
}

/**
 * The period is whole weeks in the clinic's time zone (Monday to Sunday), the current one so far
 * included. `timeZone` must be a zone name the runtime knows (checked by the caller).
 */
export async function turnaround(tx: TenantTx, o: { clinicId: string; weeks: PeriodWeeks; timeZone: string; targets: Targets }): Promise<Turnaround> {
  const targets = sql.join(
    referralPriorities.map((p) => sql`(${p}::text, ${o.targets.triage[p]}::float8, ${o.targets.booking[p]}::float8)`),
    sql`, `,
  )
  const bands = sql.raw(
    `array[${AGE_BANDS.slice(1)
      .map((b) => b.from)
      .join(',')}]`,
  )
  const open = sql.raw(OPEN_STATUSES.map((s) => `'${s}'`).join(','))
  const result = await tx.execute<Row>(sql`
    with bounds as (
      select (date_trunc('week', now() at time zone ${o.timeZone}) - (${o.weeks}::int - 1) * interval '1 week') at time zone ${o.timeZone} as since
    ), target(priority, triage_hours, booking_hours) as (values ${targets}),
    period as materialized (
      -- An EHR system's referral is counted under the system, by its registration and its name (decision 061).
      select r.id, r.priority, r.status, r.received_at, r.triaged_at, r.scheduled_at,
             coalesce(r.submitted_by, r.submitted_by_integration) as submitted_by,
             coalesce(r.referrer_name, r.submitted_by_integration_name) as referrer_name, r.referrer_organization
        from referrals r, bounds
       where r.clinic_id = ${o.clinicId} and r.received_at >= bounds.since
    ), steps as (
      select p.priority, count(*)::int as received,
             count(p.triaged_at)::int as triaged,
             count(*) filter (where p.triaged_at - p.received_at <= make_interval(hours => 1) * t.triage_hours)::int as triaged_in_time,
             percentile_cont(0.5) within group (order by extract(epoch from p.triaged_at - p.received_at) / 3600) as triage_median,
             percentile_cont(0.9) within group (order by extract(epoch from p.triaged_at - p.received_at) / 3600) as triage_p90,
             count(p.scheduled_at)::int as booked,
             count(*) filter (where p.scheduled_at - p.received_at <= make_interval(hours => 1) * t.booking_hours)::int as booked_in_time,
             percentile_cont(0.5) within group (order by extract(epoch from p.scheduled_at - p.received_at) / 3600) as booking_median,
             percentile_cont(0.9) within group (order by extract(epoch from p.scheduled_at - p.received_at) / 3600) as booking_p90
        from period p join target t using (priority)
       group by p.priority
    ), aging as (
      select width_bucket(extract(epoch from now() - r.received_at) / 86400, ${bands}::float8[]) as band, r.priority, count(*)::int as total
        from referrals r
       where r.clinic_id = ${o.clinicId} and r.status in (${open})
       group by 1, 2
    ), weeks as (
      select to_char(w, 'YYYY-MM-DD') as week, w
        from bounds, generate_series(date_trunc('week', bounds.since at time zone ${o.timeZone}), date_trunc('week', now() at time zone ${o.timeZone}), interval '1 week') as w
    ), per_week as (
      select date_trunc('week', p.received_at at time zone ${o.timeZone}) as w, count(*)::int as total from period p group by 1
    ), weekly as (
      -- Counted once per week, then joined to the list of weeks: joining the weeks to every
      -- referral of the period would test each referral against each week (the bench's plan warning).
      select weeks.week, coalesce(per_week.total, 0) as total, weeks.w
        from weeks left join per_week using (w)
    ), by_referrer as (
      select p.submitted_by, p.referrer_name, p.referrer_organization, count(*)::int as total, count(*) filter (where p.status = 'declined')::int as declined
        from period p group by 1, 2, 3
    ), ranked as (
      select b.*, row_number() over (order by b.total desc, b.submitted_by, b.referrer_name) as n from by_referrer b
    ), referrers as (
      -- A referrer typed in by staff has no account: their name is on the referral, and the account is the staff member's.
      select case when r.n <= ${TOP_REFERRERS} then r.submitted_by end as id,
             case when r.n > ${TOP_REFERRERS} then 'All other referrers' else coalesce(r.referrer_name, u.display_name, 'Unknown') end as name,
             case when r.n <= ${TOP_REFERRERS} then coalesce(r.referrer_organization, u.organization) end as organization,
             sum(r.total)::int as total, sum(r.declined)::int as declined, min(r.n) as n
        from ranked r left join users u on u.clinic_id = ${o.clinicId} and u.id = r.submitted_by and r.referrer_name is null
       group by 1, 2, 3, r.n <= ${TOP_REFERRERS}
    ), reasons as (
      select e.reason, count(*)::int as total
        from period p
        cross join lateral (
          select ev.data ->> 'reasonCode' as reason from referral_events ev
           where ev.clinic_id = ${o.clinicId} and ev.referral_id = p.id and ev.type = 'status' and ev.data ->> 'to' = 'declined'
           order by ev.created_at desc limit 1
        ) e
       where p.status = 'declined'
       group by 1
    )
    select (select to_char(since at time zone ${o.timeZone}, 'YYYY-MM-DD') from bounds) as since,
           (select json_agg(json_build_object('priority', priority, 'received', received, 'reached', triaged, 'withinTarget', triaged_in_time,
                                              'medianHours', triage_median, 'p90Hours', triage_p90)) from steps) as triage,
           (select json_agg(json_build_object('priority', priority, 'received', received, 'reached', booked, 'withinTarget', booked_in_time,
                                              'medianHours', booking_median, 'p90Hours', booking_p90)) from steps) as booking,
           (select json_agg(aging) from aging) as aging,
           (select json_agg(json_build_object('week', week, 'total', total) order by w) from weekly) as weekly,
           (select json_agg(json_build_object('id', id, 'name', name, 'organization', organization, 'total', total, 'declined', declined) order by n) from referrers) as referrers,
           (select count(*)::int from period where status = 'declined') as declined,
           (select json_agg(reasons order by total desc, reason) from reasons) as decline_reasons
  `)
  const row = result.rows[0]!
  const byPriority = (steps: Step[] | null) =>
    referralPriorities.map(
      (priority) => steps?.find((s) => s.priority === priority) ?? { priority, received: 0, reached: 0, withinTarget: 0, medianHours: null, p90Hours: null },
    )
  const triage = byPriority(row.triage)
  return {
    since: row.since,
    received: triage.reduce((sum, s) => sum + s.received, 0),
    triage,
    booking: byPriority(row.booking),
    aging: row.aging ?? [],
    weekly: row.weekly ?? [],
    referrers: row.referrers ?? [],
    declined: Number(row.declined),
    declineReasons: row.decline_reasons ?? [],
  }
}
