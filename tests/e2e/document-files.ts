/**
 * Files for the documents tests, and the stack's R2 on disk to count what was stored
 * (tests/e2e/documents.spec.ts, tests/e2e/fhir-documents.spec.ts: both in the storage project,
 * one at a time, so that no other upload lands between two counts).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { E2E } from './fixtures'

/* ------------------------------------------------------------------ files */

export const MB = 1024 * 1024
/** A small, valid PDF whose text is `marker`. */
export function pdf(marker: string) {
  const stream = `BT /F1 18 Tf 40 760 Td (${marker}) Tj ET`
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>',
    `<< /Length ${stream.length} >>\nstream\n${stream}\nendstream`,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
  ]
  let body = '%PDF-1.4\n'
  const offsets: number[] = []
  objects.forEach((o, i) => {
    offsets.push(body.length)
    body += `${i + 1} 0 obj\n${o}\nendobj\n`
  })
  const xref = body.length
  body += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n${offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join('')}`
  body += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`
  return Buffer.from(body, 'latin1')
}
/** A PDF of about `bytes`, padded with a comment (still a PDF by its first bytes). */
export const bigPdf = (bytes: number, marker: string) => Buffer.concat([pdf(marker), Buffer.alloc(Math.max(0, bytes - pdf(marker).length), '%')])
export const ELF = Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]), Buffer.alloc(4096, 1)])
export const marker = () => `MARKER-${crypto.randomUUID()}`

/* ------------------------------------------------------------------ the stack's R2 on disk */

/** Where the app server persists its R2 buckets: its --persist-to, from its command line. */
export function r2Folder() {
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    let args: string[]
    try {
      args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')
    } catch {
      continue
    }
    const at = args.indexOf('--persist-to')
    if (args.some((a) => a.endsWith('scripts/app-server.ts')) && args[args.indexOf('--port') + 1] === String(E2E.appPort) && at > 0) {
      return join(args[at + 1]!, 'v3', 'r2')
    }
  }
  throw new Error('the e2e app server is not running')
}
export function filesUnder(dir: string): string[] {
  try {
    return readdirSync(dir).flatMap((name) => {
      const path = join(dir, name)
      return statSync(path).isDirectory() ? filesUnder(path) : [path]
    })
  } catch {
    return []
  }
}
export const blobCount = () => filesUnder(join(r2Folder(), 'intakepilot-documents', 'blobs')).length
