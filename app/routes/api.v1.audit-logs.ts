/** GET /api/v1/audit-logs: the clinic's audit trail, newest first, for admins (as /admin/audit). */
import type { LoaderFunctionArgs } from '@remix-run/cloudflare'
import { validationError } from '~/api/errors.server'
import { apiRoute, ok, requireApiPermission, requireApiUser } from '~/api/handler.server'
import { AUDIT_PAGE_SIZE, auditPage } from '~/audit/audit-log.server'
import { AuditViewSchema } from '~/audit/audit-view'

export const loader = apiRoute(async ({ request, context }: LoaderFunctionArgs) => {
  const user = requireApiUser(context)
  requireApiPermission(user, 'read:audit-log:any')
  const parsed = AuditViewSchema.safeParse(Object.fromEntries(new URL(request.url).searchParams))
  if (!parsed.success) throw validationError(parsed.error.issues)
  // The API speaks UTC throughout (ISO instants, UTC days): programs convert, people's pages do not.
  const { rows, next } = await context.db.tenant((tx) => auditPage(tx, user.clinicId, parsed.data, 'UTC'))
  const data = rows.map(({ actorName: _name, ip: _ip, entityLabel: _label, list: _list, listed: _listed, ...row }) => row)
  return ok(data, { pagination: { next: next === null ? null : String(next), limit: AUDIT_PAGE_SIZE }, requestId: context.requestId })
})
