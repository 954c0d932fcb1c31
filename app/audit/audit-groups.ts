/**
 * List views, grouped: a morning of queue work writes a `referral.list` row per page shown, and
 * the trail read row by row is mostly those. Consecutive list rows of one person, of one kind
 * (queue, patient search, API) and one outcome become one entry that opens to show each view.
 * A page ends where a run ends (pageOfRuns), so a run is one entry on one page, as long as it is
 * not longer than RUN_REACH more views. Browser-safe and pure.
 */

type Groupable = { action: string; actorId: string | null; outcome: string; list?: string | null }

export type AuditEntry<R> = { kind: 'row'; row: R } | { kind: 'lists'; rows: R[] }

/** Two rows of one list run: the same person, kind and outcome. */
const sameRun = (a: Groupable, b: Groupable) =>
  a.action === 'referral.list' && b.action === 'referral.list' && a.actorId === b.actorId && a.outcome === b.outcome && (a.list ?? null) === (b.list ?? null)

/**
 * How many rows past a page's size are read, so that a run crossing the boundary can finish on
 * its page. With pages of 50, a read is 100 rows: what audit_list_views() gives at most
 * (drizzle/0013), so "who accessed this" misses no list within what it read.
 */
export const RUN_REACH = 49

/**
 * A page of at most `size` rows from `rows` (read newest first, up to size + RUN_REACH + 1 of
 * them), moved so that no list run is cut: a run that crosses the boundary starts the next page
 * instead (the page ends before it), or, when it began the page, goes on to its end here (up to
 * RUN_REACH more rows). `more`: rows are left after the page.
 */
export function pageOfRuns<R extends Groupable>(rows: readonly R[], size: number): { page: R[]; more: boolean } {
  if (rows.length <= size) return { page: [...rows], more: false }
  // Where the run that holds the page's last row begins.
  let start = size - 1
  while (start > 0 && sameRun(rows[start - 1]!, rows[start]!)) start--
  if (!sameRun(rows[size - 1]!, rows[size]!)) return { page: rows.slice(0, size), more: true }
  if (start > 0) return { page: rows.slice(0, start), more: true }
  // The run fills the page: it ends here, however long, up to what was read.
  let end = size
  while (end < rows.length && end < size + RUN_REACH && sameRun(rows[end - 1]!, rows[end]!)) end++
  return { page: rows.slice(0, end), more: end < rows.length }
}

/** Entries in the rows' order; a list run of two or more is one `lists` entry. */
export function groupListViews<R extends Groupable>(rows: readonly R[]): AuditEntry<R>[] {
  const entries: AuditEntry<R>[] = []
  for (const row of rows) {
    const last = entries.at(-1)
    if (last?.kind === 'lists' && sameRun(last.rows[0]!, row)) last.rows.push(row)
    else if (last?.kind === 'row' && sameRun(last.row, row)) entries[entries.length - 1] = { kind: 'lists', rows: [last.row, row] }
    else entries.push({ kind: 'row', row })
  }
  return entries
}
