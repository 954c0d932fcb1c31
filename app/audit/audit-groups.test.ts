import { describe, expect, test } from 'vitest'
import { groupListViews } from './audit-groups'

const row = (seq: number, action: string, actorId: string | null = 'a', extra: { outcome?: string; list?: string | null } = {}) => ({
  seq,
  action,
  actorId,
  outcome: extra.outcome ?? 'success',
  list: extra.list ?? (action === 'referral.list' ? 'list' : null),
})

describe('list views, grouped', () => {
  test("one person's consecutive list views are one entry; anything between them ends the run", () => {
    const rows = [
      row(9, 'referral.list'),
      row(8, 'referral.list'),
      row(7, 'referral.list'),
      row(6, 'referral.read'),
      row(5, 'referral.list'),
      row(4, 'referral.list', 'b'),
      row(3, 'referral.list', 'b', { list: 'search' }),
      row(2, 'referral.list', 'b', { list: 'search', outcome: 'denied' }),
      row(1, 'referral.list', 'b', { list: 'search', outcome: 'denied' }),
    ]
    const entries = groupListViews(rows)
    expect(entries.map((e) => (e.kind === 'row' ? e.row.seq : e.rows.map((r) => r.seq)))).toEqual([[9, 8, 7], 6, 5, 4, 3, [2, 1]])
    // Nothing is lost or reordered.
    expect(entries.flatMap((e) => (e.kind === 'row' ? [e.row] : e.rows))).toEqual(rows)
  })

  test('rows that are not lists are never grouped', () => {
    expect(groupListViews([row(2, 'referral.read'), row(1, 'referral.read')]).map((e) => e.kind)).toEqual(['row', 'row'])
    expect(groupListViews([])).toEqual([])
  })
})
