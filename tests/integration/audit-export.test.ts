/**
 * The streamed audit export, against the real database: a complete file ends with a trailer that
 * states its row count; a database that fails part-way cuts the stream off (the download fails)
 * and no trailer is sent; how each export ended reaches onEnd (the route records it).
 */
import { describe, expect, test } from 'vitest'
import { auditExportStream, type ExportEnd } from '../../app/audit/audit-export.server'
import { recordAudit } from '../../app/audit/audit.server'
import { connectDatabase } from '../../app/db/client.server'
import { clinics, users } from '../../app/db/schema'
import { createTenantDatabase, NO_SCOPE } from '../../app/tenancy/tenant.server'
import { clinicDay } from '../../app/utils/clinic-time'
import { useTestDatabase } from '../support/db'

const db = useTestDatabase()
const today = new Date().toISOString().slice(0, 10)

async function clinicWithTrail(rows: number) {
  const slug = `export-${crypto.randomUUID().slice(0, 8)}`
  const [clinic] = await db.owner
    .insert(clinics)
    .values({ slug, name: `Export ${slug}` })
    .returning()
  const [admin] = await db.owner
    .insert(users)
    .values({ clinicId: clinic!.id, email: `admin@${slug}.test`, displayName: 'Admin', role: 'admin', status: 'active' })
    .returning()
  const scope = { clinicId: clinic!.id, userId: admin!.id, role: 'admin' as const }
  for (let i = 0; i < rows; i++) {
    await db
      .as(scope)
      .tenant((tx) =>
        recordAudit(
          tx,
          scope,
          { requestId: 'export-test', ip: null, userAgent: null },
          { action: 'referral.read', entityType: 'referral', entityId: `r-${i}` },
        ),
      )
  }
  return scope
}

function exporting(
  scope: Awaited<ReturnType<typeof clinicWithTrail>>,
  format: 'csv' | 'fhir',
  tenant = db.as(scope),
  range: { zone: string; from: string; to: string } = { zone: 'UTC', from: today, to: today },
) {
  const ends: ExportEnd[] = []
  const errors: unknown[] = []
  const { stream, done } = auditExportStream(tenant, scope.clinicId, { format, from: range.from, to: range.to }, range.zone, {
    batchSize: 3,
    onError: (error) => errors.push(error),
    onEnd: async (end) => void ends.push(end),
  })
  return { reader: stream.getReader(), done, ends, errors }
}

const decoder = new TextDecoder()
async function readAll(reader: ReadableStreamDefaultReader<Uint8Array>) {
  let text = ''
  for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) text += decoder.decode(chunk.value)
  return text
}

describe('a complete export', () => {
  test('CSV: the header, every row, then the trailer with the count', async () => {
    const scope = await clinicWithTrail(7)
    const { reader, done, ends } = exporting(scope, 'csv')
    const lines = (await readAll(reader)).split('\r\n')
    await done
    expect(lines.at(-1)).toBe('')
    expect(lines.at(-2)).toBe('# intakepilot-audit-export: 7 rows; complete')
    expect(lines.slice(1, -2)).toHaveLength(7)
    expect(ends).toEqual([{ stage: 'complete', rows: 7 }])
  })

  test('NDJSON: the events, then a FHIR Parameters trailer; an empty range says 0 rows', async () => {
    const scope = await clinicWithTrail(4)
    const { reader, done, ends } = exporting(scope, 'fhir')
    const lines = (await readAll(reader))
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l))
    await done
    expect(lines.slice(0, -1).every((l) => l.resourceType === 'AuditEvent')).toBe(true)
    expect(lines.slice(0, -1)).toHaveLength(4)
    expect(lines.at(-1)).toEqual({
      resourceType: 'Parameters',
      id: 'intakepilot-export-trailer',
      parameter: [
        { name: 'rows', valueInteger: 4 },
        { name: 'complete', valueBoolean: true },
      ],
    })
    expect(ends).toEqual([{ stage: 'complete', rows: 4 }])

    const empty = exporting(await clinicWithTrail(0), 'fhir')
    expect(await readAll(empty.reader)).toBe(
      '{"resourceType":"Parameters","id":"intakepilot-export-trailer","parameter":[{"name":"rows","valueInteger":0},{"name":"complete","valueBoolean":true}]}\n',
    )
  })
})

describe("names, reference numbers and the clinic's days", () => {
  // UTC+14: its day is never UTC's day at the same moment for long, so a UTC day would be the wrong rows.
  const zone = 'Pacific/Kiritimati'

  test("an export's days are the clinic's; each row gives its time there and names the zone", async () => {
    const scope = await clinicWithTrail(3)
    const day = clinicDay(Date.now(), zone)
    const before = new Date(Date.parse(`${day}T12:00:00Z`) - 86_400_000).toISOString().slice(0, 10)
    const theirs = exporting(scope, 'csv', db.as(scope), { zone, from: day, to: day })
    const [header, ...rows] = (await readAll(theirs.reader)).split('\r\n').slice(0, -2)
    expect(header!.split(',').slice(-3)).toEqual(['entity_name', 'clinic_time', 'time_zone'])
    expect(rows).toHaveLength(3)
    for (const row of rows) expect(row).toMatch(new RegExp(`,${day} \\d{2}:\\d{2}:\\d{2} GMT\\+14,Pacific/Kiritimati$`))
    // The clinic's day before holds none of them, though the UTC day may be that day.
    const earlier = exporting(scope, 'csv', db.as(scope), { zone, from: before, to: before })
    expect((await readAll(earlier.reader)).split('\r\n').slice(1, -2)).toEqual([])
  })

  test("an entity is named as the exporting clinic sees it: its own user by name, another clinic's by id only", async () => {
    const scope = await clinicWithTrail(0)
    const other = await clinicWithTrail(0)
    for (const entityId of [scope.userId, other.userId])
      await db
        .as(scope)
        .tenant((tx) => recordAudit(tx, scope, { requestId: 'names', ip: null, userAgent: null }, { action: 'user.role', entityType: 'user', entityId }))
    const { reader } = exporting(scope, 'fhir')
    const events = (await readAll(reader))
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l))
      .filter((e) => e.resourceType === 'AuditEvent')
    expect(events.map((e) => e.entity[0].what)).toEqual([{ identifier: { value: scope.userId }, display: 'Admin' }, { identifier: { value: other.userId } }])
    expect(events[0].extension).toEqual([{ url: 'urn:intakepilot:clinic-time-zone', valueString: 'UTC' }])
  })
})

describe('an export that fails part-way', () => {
  test('the database goes away after the first batch: the stream errors, no trailer, recorded as failed', async () => {
    const scope = await clinicWithTrail(8)
    // A connection of its own, so that ending it fails this export and nothing else.
    const connection = connectDatabase({ url: db.config.appUrl, wsProxy: db.config.wsProxy })
    const { reader, done, ends, errors } = exporting(scope, 'csv', createTenantDatabase(connection.db, { ...NO_SCOPE, ...scope }))
    let text = ''
    while (text.split('\r\n').length < 5) text += decoder.decode((await reader.read()).value)
    await connection.end()
    // The line that says so, then the stream errors (the runtime aborts the transfer).
    const { value } = await reader.read()
    expect(decoder.decode(value)).toBe('# intakepilot-audit-export: FAILED after 3 rows; incomplete\r\n')
    await expect(reader.read()).rejects.toThrow('audit export failed')
    await done
    expect(text).not.toContain('# intakepilot-audit-export')
    expect(ends).toEqual([{ stage: 'failed', rows: 3 }])
    expect(errors).toHaveLength(1)
  })

  test('the client goes away: recorded as cancelled, with the rows sent so far', async () => {
    const scope = await clinicWithTrail(8)
    const { reader, done, ends } = exporting(scope, 'fhir')
    await reader.read()
    await reader.cancel()
    await done
    expect(ends).toHaveLength(1)
    expect(ends[0]).toMatchObject({ stage: 'cancelled' })
  })
})
