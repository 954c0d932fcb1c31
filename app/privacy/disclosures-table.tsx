/** The accounting of disclosures as the page shows and prints it: one row per recorded access, newest first. */
import { Link } from '@remix-run/react'
import { useSyncExternalStore } from 'react'
import { actionLabel } from '~/audit/actions'
import { OutcomeBadge, When } from '~/audit/audit-ui'
import { Button } from '~/components/ui/button'
import { EmptyRow, Table, TableBody, TableHead, Td, Th } from '~/components/ui/table'

export type DisclosureRow = {
  seq: number
  occurredAt: string
  /** What the accounting names them by: their name, or what they were when they have none here (a scheduled job, another clinic). */
  who: string
  actorRole: string | null
  action: string
  outcome: string
  referenceNumber: string | null
  referralId: string
  ip: string | null
  userAgent: string | null
}

export function DisclosuresTable({ rows }: { rows: DisclosureRow[] }) {
  return (
    <Table dense className="mt-3 print:overflow-visible print:rounded-none print:border-0">
      <TableHead>
        <Th>When</Th>
        <Th>Who</Th>
        <Th>What</Th>
        <Th>Referral</Th>
        <Th>Outcome</Th>
        <Th>From where</Th>
      </TableHead>
      <TableBody>
        {rows.map((r) => (
          <tr key={r.seq} className="break-inside-avoid align-top" data-testid="disclosure-row" data-entry={r.seq}>
            <Td className="whitespace-nowrap font-mono text-xs">
              <When iso={r.occurredAt} />
            </Td>
            {/* Widths that keep a phone's table readable: it scrolls sideways in its card instead of squeezing each column. */}
            <Td className="min-w-40">
              <div className="font-medium text-slate-900">{r.who}</div>
              {r.actorRole ? <div className="text-xs text-slate-500">{r.actorRole}</div> : null}
            </Td>
            <Td className="min-w-40">
              <div>{actionLabel(r.action)}</div>
              <div className="font-mono text-xs text-slate-500">{r.action}</div>
            </Td>
            <Td className="whitespace-nowrap font-mono text-xs">
              {r.referenceNumber ? (
                <Link to={`/referrals/${r.referralId}`} className="text-brand-700 hover:underline print:text-slate-900 print:no-underline">
                  {r.referenceNumber}
                </Link>
              ) : null}
            </Td>
            <Td>
              <OutcomeBadge outcome={r.outcome} />
            </Td>
            <Td className="min-w-64 max-w-sm text-xs text-slate-600">
              <div className="font-mono text-slate-900">{r.ip ?? 'no address recorded'}</div>
              {r.userAgent ? <div className="break-all">{r.userAgent}</div> : null}
            </Td>
          </tr>
        ))}
        {rows.length === 0 ? <EmptyRow columns={6}>No recorded access to these referrals in this period.</EmptyRow> : null}
      </TableBody>
    </Table>
  )
}

const noChange = () => () => {}

/** The browser's print dialog once the page's script runs; before that (or without it), the browser's own Print command says the same. */
export function PrintButton() {
  // False in the server's HTML and until the page's script runs (as the intake form editor's useHydrated).
  const ready = useSyncExternalStore(
    noChange,
    () => true,
    () => false,
  )
  if (!ready) return <p className="text-sm text-slate-600">To print, use your browser&apos;s Print command.</p>
  return (
    <Button size="md" onClick={() => window.print()}>
      Print
    </Button>
  )
}
