import type { LoaderFunctionArgs } from '@remix-run/cloudflare'
import { useLoaderData } from '@remix-run/react'
import { z } from 'zod'
import { referralAccessHistory } from '~/audit/audit-log.server'
import { groupListViews } from '~/audit/audit-groups'
import { ActionName, Actor, ListViews, OutcomeBadge, Pager, When } from '~/audit/audit-ui'
import { requireClinic, requirePermission, requireUser } from '~/auth/guards.server'
import { GeneralErrorBoundary } from '~/components/error-boundary'
import { EmptyRow, Table, TableBody, TableHead, Td, Th } from '~/components/ui/table'
import { zoneAbbreviation } from '~/utils/clinic-time'
import { isUuid } from '~/utils/keyset'
import { invariantResponse } from '~/utils/misc'
import { useClinicTimeZone } from '~/utils/use-clinic-time'

const CursorSchema = z.coerce.number().int().positive().optional().catch(undefined)

/**
 * "Who accessed this": the accounting of disclosures a patient may ask for, from the audit
 * trail. It shows who and when, never PHI, so looking at it is not itself recorded.
 */
export async function loader({ request, params, context }: LoaderFunctionArgs) {
  const user = requireUser(request, context)
  requirePermission(user, 'read:referral-access:any')
  const clinicId = requireClinic(user)
  invariantResponse(isUuid(params.id), 'Not found', { status: 404 })
  const referralId = params.id
  const cursor = CursorSchema.parse(new URL(request.url).searchParams.get('cursor') ?? undefined)
  const page = await context.db.tenant((tx) => referralAccessHistory(tx, clinicId, referralId, cursor))
  invariantResponse(page, 'Not found', { status: 404 })
  return { cursor: cursor ?? null, ...page }
}

const LIST_KINDS = { list: 'seen in a list', search: 'seen in a list (patient search)', api: 'seen in a list (API)' } as const

/** The referral was one of the rows a list showed, not opened by itself. */
function SeenInList({ kind }: { kind: keyof typeof LIST_KINDS }) {
  return (
    <span
      data-testid="seen-in-list"
      className="mt-1 inline-flex rounded-full bg-sky-50 px-2 py-0.5 text-xs font-medium text-sky-800 ring-1 ring-inset ring-sky-200"
    >
      {LIST_KINDS[kind]}
    </span>
  )
}

export default function ReferralAccess() {
  const { cursor, rows, next } = useLoaderData<typeof loader>()
  const zone = useClinicTimeZone()
  return (
    <section aria-labelledby="access-heading" className="mt-6">
      <h2 id="access-heading" className="font-semibold">
        Who accessed this referral
      </h2>
      <p className="mt-1 text-sm text-slate-600">
        Every time it was opened, changed or printed, every refused attempt, and every list that showed it (queue pages, patient searches, API lists), newest
        first, from the audit trail; one person&apos;s list views in a row are one entry. Times are the clinic&apos;s, in {zone} ({zoneAbbreviation(zone)}); the
        reference finds the request in the full trail.
      </p>
      <Table className="mt-3">
        <TableHead>
          <Th>Time</Th>
          <Th>Who</Th>
          <Th>Action</Th>
          <Th>Outcome</Th>
          <Th>Reference</Th>
        </TableHead>
        <TableBody>
          {groupListViews(rows).map((entry) => {
            const row = entry.kind === 'row' ? entry.row : entry.rows[0]!
            return (
              <tr key={row.id} data-testid={entry.kind === 'row' ? 'access-row' : 'access-list-group'} className="align-top">
                <Td className="whitespace-nowrap font-mono text-xs">
                  <When iso={row.occurredAt} />
                  {entry.kind === 'lists' ? (
                    <div className="text-slate-500">
                      from <When iso={entry.rows.at(-1)!.occurredAt} />
                    </div>
                  ) : null}
                </Td>
                <Td>
                  <Actor id={row.actorId} name={row.actorName} role={row.actorRole} />
                </Td>
                <Td>
                  <ActionName action={row.action} />
                  {row.list ? <SeenInList kind={row.list} /> : null}
                  {entry.kind === 'lists' ? <ListViews rows={entry.rows} /> : null}
                </Td>
                <Td>
                  <OutcomeBadge outcome={row.outcome} />
                </Td>
                <Td className="font-mono text-xs text-slate-600">{entry.kind === 'row' ? row.requestId : `${entry.rows.length} requests`}</Td>
              </tr>
            )
          })}
          {rows.length === 0 ? <EmptyRow columns={5}>No recorded access yet.</EmptyRow> : null}
        </TableBody>
      </Table>
      <Pager first={cursor ? '.' : null} older={next ? `?cursor=${next}` : null} olderLabel="Earlier access" />
    </section>
  )
}

export function ErrorBoundary() {
  return <GeneralErrorBoundary />
}
