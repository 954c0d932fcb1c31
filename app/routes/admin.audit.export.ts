import type { LoaderFunctionArgs } from '@remix-run/cloudflare'
import { auditExportStream, EXPORT_CONTENT_TYPES, exportFilename, type ExportEnd } from '~/audit/audit-export.server'
import { AuditExportSchema } from '~/audit/audit-view'
import { checkpointClinic } from '~/audit/checkpoints.server'
import { requireClinic, requireCurrentClinic, requirePermission, requireUser } from '~/auth/guards.server'
import { clinicTimeZone } from '~/utils/clinic-time'
import { isProduction } from '~/utils/env.server'
import { logError } from '~/utils/log.server'
import { invariantResponse } from '~/utils/misc'

/**
 * GET /admin/audit/export?format=csv|fhir&from=YYYY-MM-DD&to=YYYY-MM-DD: the clinic's audit
 * trail for those days of the clinic (its time zone: every row names it), streamed in chain order, ending with a trailer that states the row
 * count (audit-formats.ts). A resource route: no page, no parent loaders.
 */
export async function loader({ request, context }: LoaderFunctionArgs) {
  const user = requireUser(request, context)
  requirePermission(user, 'export:audit-log:any')
  const clinicId = requireClinic(user)
  const parsed = AuditExportSchema.safeParse(Object.fromEntries(new URL(request.url).searchParams))
  invariantResponse(parsed.success, `Cannot export: ${parsed.error?.issues.map((i) => i.message).join('; ')}.`, { status: 400 })
  const { format, from, to } = parsed.data
  const zone = clinicTimeZone(requireCurrentClinic(context).settings)
  const log = (error: unknown, what: string) => logError(context.requestId, error, what, { verbose: !isProduction(context.env) })

  // Recorded before the first row leaves: an export cut off halfway is still on the trail.
  await context.db.tenant((tx) =>
    context.audit(tx, { action: 'audit.export', entityType: 'audit_log', details: { format, from, to, timeZone: zone, stage: 'started' } }),
  )
  // Every export anchors the clinic's chain outside the database (docs/decisions/021).
  const signed = await checkpointClinic(context.env, context.db, clinicId, 'export').catch((error) => (log(error, 'audit-checkpoint'), null))
  if (signed === null && isProduction(context.env)) log(new Error('audit export without a signed checkpoint'), 'audit-checkpoint')

  const { stream, done } = auditExportStream(context.db, clinicId, parsed.data, zone, {
    onError: (error) => log(error, 'audit-export'),
    // How it ended, as a second row: complete (with the row count), failed or cancelled.
    onEnd: ({ stage, rows }: ExportEnd) =>
      context.db.tenant((tx) =>
        context.audit(tx, {
          action: 'audit.export',
          entityType: 'audit_log',
          outcome: stage === 'complete' ? 'success' : 'error',
          details: { format, from, to, stage, rows },
        }),
      ),
  })
  // The body queries as the client reads it, after this returns: keep the connection until then.
  context.waitUntil(done)
  return new Response(stream, {
    headers: {
      'Content-Type': EXPORT_CONTENT_TYPES[format],
      'Content-Disposition': `attachment; filename="${exportFilename(parsed.data)}"`,
      'Cache-Control': 'no-store',
      // Also in every row; here for a program that wants it before the first.
      'X-Time-Zone': zone,
    },
  })
}
