/**
 * The audit viewer's table: one row per entry, a person's run of list views as one entry that
 * opens (audit-groups.ts), entities by the names people use (reference numbers, names).
 */
import { EmptyRow, Table, TableBody, TableHead, Td, Th } from '~/components/ui/table'
import { groupListViews } from './audit-groups'
import { ActionName, Actor, EntityName, ListViews, OutcomeBadge, When } from './audit-ui'
import { auditUrl } from './audit-view'

export type AuditViewRow = {
  id: number
  seq: number | null
  occurredAt: string
  actorId: string | null
  actorName: string | null
  actorRole: string | null
  action: string
  outcome: string
  requestId: string | null
  list: 'search' | 'api' | 'list' | null
  listed: number | null
  entityType: string | null
  entityId: string | null
  entityLabel: string | null
  ip: string | null
}

/** Entries about a referral link to its entries: by reference number when it has one here, else by id. */
function entityHref(row: AuditViewRow) {
  if (row.entityType !== 'referral' || !row.entityId) return undefined
  return row.entityLabel ? auditUrl({ reference: row.entityLabel }) : auditUrl({ referral: row.entityId })
}

export function AuditRows({ rows, busy }: { rows: AuditViewRow[]; busy: boolean }) {
  return (
    <Table dense className="mt-4" busy={busy}>
      <TableHead>
        <Th>#</Th>
        <Th>Time</Th>
        <Th>Actor</Th>
        <Th>Action</Th>
        <Th>Entity</Th>
        <Th>Outcome</Th>
        <Th>Request id</Th>
        <Th>IP</Th>
      </TableHead>
      <TableBody>
        {groupListViews(rows).map((entry) => {
          if (entry.kind === 'lists') {
            const [newest, oldest] = [entry.rows[0]!, entry.rows.at(-1)!]
            return (
              <tr key={newest.id} data-testid="audit-list-group" className="align-top">
                <Td className="whitespace-nowrap font-mono text-xs text-slate-500">
                  {oldest.seq}–{newest.seq}
                </Td>
                <Td className="whitespace-nowrap font-mono text-xs">
                  <When iso={newest.occurredAt} />
                  <div className="text-slate-500">
                    from <When iso={oldest.occurredAt} />
                  </div>
                </Td>
                <Td>
                  <Actor id={newest.actorId} name={newest.actorName} role={newest.actorRole} />
                </Td>
                <Td>
                  <ActionName action={newest.action} />
                  <ListViews rows={entry.rows} />
                </Td>
                <Td className="text-xs text-slate-500">referral</Td>
                <Td>
                  <OutcomeBadge outcome={newest.outcome} />
                </Td>
                <Td className="text-xs text-slate-500">{entry.rows.length} requests</Td>
                <Td className="font-mono text-xs text-slate-600">{newest.ip}</Td>
              </tr>
            )
          }
          const { row } = entry
          const href = entityHref(row)
          return (
            <tr key={row.id} data-testid="audit-row" className="align-top">
              <Td className="font-mono text-xs text-slate-500" data-testid="audit-seq">
                {row.seq}
              </Td>
              <Td className="whitespace-nowrap font-mono text-xs">
                <When iso={row.occurredAt} />
              </Td>
              <Td>
                <Actor id={row.actorId} name={row.actorName} role={row.actorRole} />
              </Td>
              <Td>
                <ActionName action={row.action} />
                {row.listed !== null ? <div className="text-xs text-slate-500">{row.listed} shown</div> : null}
              </Td>
              <Td className="text-xs">
                <EntityName type={row.entityType} id={row.entityId} label={row.entityLabel} href={href} />
              </Td>
              <Td>
                <OutcomeBadge outcome={row.outcome} />
              </Td>
              <Td className="font-mono text-xs text-slate-600">{row.requestId}</Td>
              <Td className="font-mono text-xs text-slate-600">{row.ip}</Td>
            </tr>
          )
        })}
        {rows.length === 0 ? <EmptyRow columns={8}>No audit entries match these filters.</EmptyRow> : null}
      </TableBody>
    </Table>
  )
}
