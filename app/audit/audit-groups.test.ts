import { describe, expect, test } from 'vitest'
import { groupListViews, pageOfRuns, RUN_REACH } from './audit-groups'

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

describe('a page ends where a list run ends', () => {
  const lists = (from: number, n: number, actor = 'a') => Array.from({ length: n }, (_, i) => row(from - i, 'referral.list', actor))
  const seqs = (r: { seq: number }[]) => r.map((x) => x.seq)

  test('a run that crosses the boundary starts the next page, whole', () => {
    // 45 reads, then a run of 10 lists across the 50th row, then more.
    const rows = [...Array.from({ length: 45 }, (_, i) => row(100 - i, 'referral.read')), ...lists(55, 10), row(45, 'referral.read')]
    const { page, more } = pageOfRuns(rows, 50)
    expect(seqs(page)).toEqual(seqs(rows.slice(0, 45)))
    expect(more).toBe(true)
    // The next page (read after the last kept row) holds the whole run as one entry.
    const next = pageOfRuns(rows.slice(45), 50)
    expect(groupListViews(next.page)[0]).toMatchObject({ kind: 'lists', rows: rows.slice(45, 55) })
  })

  test('a run that begins the page goes on to its end there; one longer than the reach is cut at it', () => {
    const rows = [...lists(200, 70), row(130, 'referral.read'), row(129, 'referral.read')]
    const { page, more } = pageOfRuns(rows, 50)
    expect(seqs(page)).toEqual(seqs(rows.slice(0, 70)))
    expect(groupListViews(page)).toHaveLength(1)
    expect(more).toBe(true)
    const long = lists(500, 120)
    expect(pageOfRuns(long, 50).page).toHaveLength(50 + RUN_REACH)
  })

  test('a boundary between two runs, or between rows, is kept; a short read is one page', () => {
    const rows = [...lists(100, 50, 'a'), ...lists(50, 5, 'b')]
    expect(pageOfRuns(rows, 50)).toMatchObject({ more: true, page: rows.slice(0, 50) })
    const reads = Array.from({ length: 60 }, (_, i) => row(60 - i, 'referral.read'))
    expect(pageOfRuns(reads, 50)).toMatchObject({ more: true, page: reads.slice(0, 50) })
    expect(pageOfRuns(reads.slice(0, 50), 50)).toMatchObject({ more: false, page: reads.slice(0, 50) })
  })
})
