/**
 * The queue's count of open referrals stays an index-only scan under RLS (drizzle/0037): every
 * column the referrals_read policy reads is in referrals_clinic_status_received_idx, so staff's
 * count stops at its LIMIT without fetching a heap row for each referral. A policy that comes to
 * read another column, or the index losing its INCLUDE, turns this back into a heap scan of every
 * open referral (10x slower on a clinic of 10,000).
 */
import { sql } from 'drizzle-orm'
import { expect, test } from 'vitest'
import { clinics, users } from '../../app/db/schema'
import { useTestDatabase } from '../support/db'

const db = useTestDatabase()

test("staff's count of open referrals reads the index alone, with the policy applied", async () => {
  const slug = `count-${crypto.randomUUID().slice(0, 8)}`
  const [clinic] = await db.owner
    .insert(clinics)
    .values({ slug, name: `Count ${slug}` })
    .returning()
  const [staff] = await db.owner
    .insert(users)
    .values({ clinicId: clinic!.id, email: `staff@${slug}.test`, displayName: `Staff ${slug}`, role: 'staff', status: 'active' })
    .returning()
  const plan = await db.as({ clinicId: clinic!.id, userId: staff!.id, role: 'staff' }).tenant(async (tx) => {
    // Small test tables would be read whole; the question is which scans can answer at all.
    await tx.execute(sql`set local enable_seqscan = off`)
    await tx.execute(sql`set local enable_bitmapscan = off`)
    const result = await tx.execute<{ 'QUERY PLAN': string }>(
      sql`explain select count(*)::int as n from (select 1 from referrals where status in ('received', 'in_review', 'info_requested', 'accepted', 'scheduled') limit 1001) counted`,
    )
    return result.rows.map((r) => r['QUERY PLAN']).join('\n')
  })
  // The policy is there (its CASE on app.role), and answered from the index.
  expect(plan).toContain("WHEN 'referrer'::text THEN (submitted_by")
  expect(plan).toContain('submitted_by_integration')
  expect(plan).toContain('Index Only Scan using referrals_clinic_status_received_idx on referrals')
})
