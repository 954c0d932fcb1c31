/**
 * A streamed audit export: the body pulls batches in chain order as the client reads, each
 * batch in its own short db.tenant transaction (a transaction cannot stay open across a
 * stream the client reads at its own pace). Memory stays at one batch, whatever the range.
 *
 * A complete file ends with a trailer that states its row count (audit-formats.ts). A failure
 * part-way sends a last line that says so, then errors the stream, so that the runtime aborts
 * the transfer and the download fails. Locally, wrangler 4.86 still ends an errored body as if
 * it were complete (curl exits 0): the failure line and the missing trailer are what show it
 * there. A file without its trailer is never complete. How it ended is recorded (onEnd).
 */
import type { TenantDatabase } from '~/tenancy/tenant.server'
import { csvHeader, csvRow, exportFailure, exportTrailer, ndjsonLine } from './audit-formats'
import { exportBatch } from './audit-log.server'
import type { AuditExport } from './audit-view'

export const EXPORT_BATCH_SIZE = 500

export const EXPORT_CONTENT_TYPES = { csv: 'text/csv; charset=utf-8', fhir: 'application/fhir+ndjson' } as const

export const exportFilename = ({ format, from, to }: AuditExport) => `intakepilot-audit-${from}-to-${to}.${format === 'csv' ? 'csv' : 'ndjson'}`

/** How an export ended: every row and the trailer sent, a failure, or the client went away. */
export type ExportEnd = { stage: 'complete' | 'failed' | 'cancelled'; rows: number }

/**
 * The stream, and a promise that settles when it is finished with the database (read to the
 * end, failed, or cancelled by the client, and its end recorded): the connection must stay
 * open until then.
 */
export function auditExportStream(
  db: TenantDatabase,
  clinicId: string,
  request: AuditExport,
  /** The clinic's time zone: the export's days are its days, and every row names it. */
  zone: string,
  options: { onError: (error: unknown) => void; onEnd: (end: ExportEnd) => Promise<void>; batchSize?: number },
) {
  const size = options.batchSize ?? EXPORT_BATCH_SIZE
  const encoder = new TextEncoder()
  const line = request.format === 'csv' ? csvRow : ndjsonLine
  let afterSeq = 0
  let rows = 0
  // A client that goes away mid-batch: the batch in flight is dropped, not enqueued (that throws).
  let cancelled = false
  // Set once the failure line is queued: the next pull errors the stream (erroring at once
  // would drop the line from the queue unread).
  let failed = false
  let finished!: () => void
  const done = new Promise<void>((resolve) => (finished = resolve))
  // Recording the end may fail too (the database is what failed): that is logged, never thrown.
  const recordEnd = (end: ExportEnd) => options.onEnd(end).catch(options.onError)

  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      if (request.format === 'csv') controller.enqueue(encoder.encode(csvHeader()))
    },
    async pull(controller) {
      if (failed) {
        controller.error(new Error('audit export failed'))
        return
      }
      try {
        const batch = await db.tenant((tx) => exportBatch(tx, clinicId, request, zone, afterSeq, size))
        if (cancelled) return
        if (batch.length) {
          afterSeq = batch.at(-1)!.seq!
          rows += batch.length
          controller.enqueue(encoder.encode(batch.map((r) => line(r, zone)).join('')))
        }
        if (batch.length < size) {
          // Recorded first: a file that says "complete" is one the trail says was complete.
          await options.onEnd({ stage: 'complete', rows })
          if (cancelled) return
          controller.enqueue(encoder.encode(exportTrailer(request.format, rows)))
          controller.close()
          finished()
        }
      } catch (error) {
        if (cancelled) return
        options.onError(error)
        failed = true
        controller.enqueue(encoder.encode(exportFailure(request.format, rows)))
        await recordEnd({ stage: 'failed', rows })
        finished()
      }
    },
    async cancel() {
      if (cancelled) return
      cancelled = true
      await recordEnd({ stage: 'cancelled', rows })
      finished()
    },
  })
  return { stream, done }
}
