/**
 * A streamed audit export: the body pulls batches in chain order as the client reads, each
 * batch in its own short db.tenant transaction (a transaction cannot stay open across a
 * stream the client reads at its own pace). Memory stays at one batch, whatever the range.
 */
import type { TenantDatabase } from '~/tenancy/tenant.server'
import { csvHeader, csvRow, ndjsonLine } from './audit-formats'
import { exportBatch } from './audit-log.server'
import type { AuditExport } from './audit-view'

export const EXPORT_BATCH_SIZE = 500

export const EXPORT_CONTENT_TYPES = { csv: 'text/csv; charset=utf-8', fhir: 'application/fhir+ndjson' } as const

export const exportFilename = ({ format, from, to }: AuditExport) =>
  `intakepilot-audit-${from}-to-${to}.${format === 'csv' ? 'csv' : 'ndjson'}`

/**
 * The stream, and a promise that settles when it is finished with the database (read to the
 * end, failed, or cancelled by the client): the connection must stay open until then.
 */
export function auditExportStream(
  db: TenantDatabase,
  clinicId: string,
  request: AuditExport,
  options: { onError: (error: unknown) => void; batchSize?: number },
) {
  const size = options.batchSize ?? EXPORT_BATCH_SIZE
  const encoder = new TextEncoder()
  const line = request.format === 'csv' ? csvRow : ndjsonLine
  let afterSeq = 0
  // A client that goes away mid-batch: the batch in flight is dropped, not enqueued (that throws).
  let cancelled = false
  let finished!: () => void
  const done = new Promise<void>((resolve) => (finished = resolve))

  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      if (request.format === 'csv') controller.enqueue(encoder.encode(csvHeader()))
    },
    async pull(controller) {
      try {
        const rows = await db.tenant((tx) => exportBatch(tx, clinicId, request, afterSeq, size))
        if (cancelled) return
        if (rows.length) {
          afterSeq = rows.at(-1)!.seq!
          controller.enqueue(encoder.encode(rows.map(line).join('')))
        }
        if (rows.length < size) {
          controller.close()
          finished()
        }
      } catch (error) {
        // The client sees a cut-off download rather than a complete-looking file.
        options.onError(error)
        controller.error(new Error('audit export failed'))
        finished()
      }
    },
    cancel() {
      cancelled = true
      finished()
    },
  })
  return { stream, done }
}
