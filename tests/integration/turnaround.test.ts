/**
 * The turnaround dashboard's numbers (app/dashboard/turnaround.server.ts), in the real database
 * under the runtime role: a clinic of known referrals gives exactly the counts and durations
 * worked out by hand, the seeded clinics' thousands of referrals never leak in, and a stranger
 * clinic's staff asking for this clinic's numbers get nothing (RLS, not the query's own filter).
 */
import type { AppLoadContext } from '@remix-run/cloudflare'
import { describe, expect, test } from 'vitest'
import type { ReferralPriority, ReferralStatus } from '../../app/db/enums'
import * as s from '../../app/db/schema'
import { turnaroundCsv } from '../../app/dashboard/turnaround-csv.server'
import { turnaroundReport } from '../../app/dashboard/turnaround-page.server'
import { DEFAULT_TARGET_HOURS } from '../../app/dashboard/turnaround'
import { turnaround } from '../../app/dashboard/turnaround.server'
import { useTestDatabase } from '../support/db'

const db = useTestDatabase()
const HOUR = 3_600_000
const DAY = 24 * HOUR

async function clinicWithReferrals(settings: s.ClinicSettings = {}) {
  const slug = `turnaround-${crypto.randomUUID().slice(0, 8)}`
  const [clinic] = await db.owner
    .insert(s.clinics)
    .values({ slug, name: `Turnaround ${slug}`, settings })
    .returning()
  const [staff, alpha] = await db.owner
    .insert(s.users)
    .values([
      { clinicId: clinic!.id, email: `staff@${slug}.test`, displayName: 'Sam Staff', role: 'staff', status: 'active' },
      // A name that a spreadsheet would run as a formula: the CSV must write it as text.
      { clinicId: clinic!.id, email: `alpha@${slug}.test`, displayName: '=Dr. Alpha', role: 'referrer', status: 'active', organization: 'Alpha Clinic' },
    ])
    .returning()
  const now = Date.now()
  let n = 0
  const referral = (o: {
    priority: ReferralPriority
    status: ReferralStatus
    daysAgo: number
    triagedAfter?: number
    bookedAfter?: number
    typed?: string
  }) => {
    const received = now - o.daysAgo * DAY
    return {
      clinicId: clinic!.id,
      referenceNumber: `T-${++n}`,
      formVersion: 1,
      submittedBy: o.typed ? staff!.id : alpha!.id,
      status: o.status,
      priority: o.priority,
      formData: {},
      receivedAt: new Date(received),
      triagedAt: o.triagedAfter === undefined ? null : new Date(received + o.triagedAfter * HOUR),
      scheduledAt: o.bookedAfter === undefined ? null : new Date(received + o.bookedAfter * HOUR),
      ...(o.typed ? { enteredBy: staff!.id, channel: 'fax' as const, referrerName: o.typed } : {}),
    }
  }
  const rows = await db.owner
    .insert(s.referrals)
    .values([
      referral({ priority: 'emergent', status: 'scheduled', daysAgo: 10, triagedAfter: 12, bookedAfter: 48 }),
      referral({ priority: 'emergent', status: 'closed', daysAgo: 20, triagedAfter: 30, bookedAfter: 100 }),
      referral({ priority: 'urgent', status: 'received', daysAgo: 5 }),
      referral({ priority: 'routine', status: 'declined', daysAgo: 40, triagedAfter: 100 }),
      referral({ priority: 'routine', status: 'received', daysAgo: 1, typed: 'Dr. Typed' }),
      // Before any period the page offers but one: open, so it waits in the aging chart's last band.
      referral({ priority: 'routine', status: 'in_review', daysAgo: 200, triagedAfter: 5 }),
    ])
    .returning()
  const declined = rows[3]!
  await db.owner.insert(s.referralEvents).values([
    // Declined, reopened, declined again: the latest decline's category counts.
    {
      clinicId: clinic!.id,
      referralId: declined.id,
      actorId: staff!.id,
      type: 'status',
      data: { from: 'received', to: 'declined', reasonCode: 'duplicate' },
      createdAt: new Date(now - 39 * DAY),
    },
    {
      clinicId: clinic!.id,
      referralId: declined.id,
      actorId: staff!.id,
      type: 'status',
      data: { from: 'declined', to: 'in_review' },
      createdAt: new Date(now - 38 * DAY),
    },
    {
      clinicId: clinic!.id,
      referralId: declined.id,
      actorId: staff!.id,
      type: 'status',
      data: { from: 'in_review', to: 'declined', reasonCode: 'outside_scope' },
      createdAt: new Date(now - 37 * DAY),
    },
  ])
  return { clinicId: clinic!.id, scope: { clinicId: clinic!.id, userId: staff!.id, role: 'staff' as const }, alphaId: alpha!.id, settings }
}

const numbersOf = (scope: { clinicId: string; userId: string; role: 'staff' }, clinicId: string, weeks: 4 | 12 | 52 = 12) =>
  db.as(scope).tenant((tx) => turnaround(tx, { clinicId, weeks, timeZone: 'America/Toronto', targets: DEFAULT_TARGET_HOURS }))

describe('the turnaround numbers', () => {
  test('are the counts and durations of the clinic’s referrals, worked out by hand', async () => {
    const { scope, clinicId, alphaId } = await clinicWithReferrals()
    const r = await numbersOf(scope, clinicId)

    expect(r.received).toBe(5)
    expect(r.triage).toEqual([
      { priority: 'routine', received: 2, reached: 1, withinTarget: 1, medianHours: expect.closeTo(100, 3), p90Hours: expect.closeTo(100, 3) },
      { priority: 'urgent', received: 1, reached: 0, withinTarget: 0, medianHours: null, p90Hours: null },
      // 12 h and 30 h against 24 h: one within; the median between them, the 90th percentile near the slower.
      { priority: 'emergent', received: 2, reached: 2, withinTarget: 1, medianHours: expect.closeTo(21, 3), p90Hours: expect.closeTo(28.2, 3) },
    ])
    expect(r.booking.find((b) => b.priority === 'emergent')).toEqual({
      priority: 'emergent',
      received: 2,
      reached: 2,
      withinTarget: 1,
      medianHours: expect.closeTo(74, 3),
      p90Hours: expect.closeTo(94.8, 3),
    })
    // Open now, whenever received: scheduled 10 days ago, waiting 5 and 1 days, and the old one.
    expect(r.aging.sort((a, b) => a.band - b.band)).toEqual([
      { band: 0, priority: 'routine', total: 1 },
      { band: 1, priority: 'urgent', total: 1 },
      { band: 2, priority: 'emergent', total: 1 },
      { band: 5, priority: 'routine', total: 1 },
    ])
    expect(r.weekly).toHaveLength(12)
    expect(r.weekly.reduce((sum, w) => sum + w.total, 0)).toBe(5)
    expect(r.referrers).toEqual([
      { id: alphaId, name: '=Dr. Alpha', organization: 'Alpha Clinic', total: 4, declined: 1 },
      { id: scope.userId, name: 'Dr. Typed', organization: null, total: 1, declined: 0 },
    ])
    expect(r.declined).toBe(1)
    expect(r.declineReasons).toEqual([{ reason: 'outside_scope', total: 1 }])
  })

  test('cover only the weeks asked for, each of them, in the clinic’s calendar', async () => {
    const { scope, clinicId } = await clinicWithReferrals()
    const four = await numbersOf(scope, clinicId, 4)
    expect(four.weekly).toHaveLength(4)
    // 1, 5, 10 and 20 days ago always fall in the last four weeks (22 days at least); 40 days ago never does.
    expect(four.received).toBe(4)
    expect(four.declined).toBe(0)
    const monday = new Date(`${four.since}T12:00:00Z`).getUTCDay()
    expect(monday).toBe(1)
    const year = await numbersOf(scope, clinicId, 52)
    expect(year.received).toBe(6)
  })

  test('of another clinic are nothing to a stranger, even when it names that clinic', async () => {
    const { clinicId } = await clinicWithReferrals()
    const stranger = await db.staffScopeOf('lakeview')
    const r = await numbersOf(stranger as { clinicId: string; userId: string; role: 'staff' }, clinicId)
    expect(r.received).toBe(0)
    expect(r.aging).toEqual([])
    expect(r.referrers).toEqual([])
    expect(r.declineReasons).toEqual([])
  })

  test('the CSV holds the page’s numbers, one fact a row, and a formula-like name as text', async () => {
    const { scope, clinicId, settings } = await clinicWithReferrals({ turnaroundHours: { emergent: 36 } })
    const context = { db: db.as(scope), clinic: { settings } } as unknown as AppLoadContext
    const csv = turnaroundCsv(await turnaroundReport(context, clinicId, 12)).split('\r\n')
    expect(csv[0]).toBe('section,item,measure,value')
    expect(csv).toContain('period,received,count,5')
    expect(csv).toContain('period,time_zone,name,America/Toronto')
    // The clinic's own target: 30 h is now within it, so both emergent referrals are.
    expect(csv).toContain('triage,Emergent,target_hours,36')
    expect(csv).toContain('triage,Emergent,within_target,2')
    expect(csv).toContain('triage,Routine,target_hours,336')
    expect(csv).toContain("referrer,'=Dr. Alpha (Alpha Clinic),received,4")
    expect(csv).toContain('decline_reason,Outside the clinic’s scope,declined,1')
  })
})
