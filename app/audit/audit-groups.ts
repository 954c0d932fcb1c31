/**
 * List views, grouped: a morning of queue work writes a `referral.list` row per page shown, and
 * the trail read row by row is mostly those. Consecutive list rows of one person, of one kind
 * (queue, patient search, API) and one outcome become one entry that opens to show each view.
 * Grouping is of what one page shows (a run that crosses a page boundary is two entries), so the
 * pages and their keyset stay those of the rows. Browser-safe and pure.
 */

type Groupable = { action: string; actorId: string | null; outcome: string; list?: string | null }

export type AuditEntry<R> = { kind: 'row'; row: R } | { kind: 'lists'; rows: R[] }

/** Two rows of one list run: the same person, kind and outcome. */
const sameRun = (a: Groupable, b: Groupable) =>
  a.action === 'referral.list' && b.action === 'referral.list' && a.actorId === b.actorId && a.outcome === b.outcome && (a.list ?? null) === (b.list ?? null)

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
