import { describe, expect, test } from 'vitest'
import { AuditExportSchema, dayAfter, dayStart, parseAuditView } from './audit-view'
import { csvCell, csvHeader, csvRow, fhirAuditEvent, type AuditRecord } from './audit-formats'

const row: AuditRecord = {
  id: 41,
  seq: 7,
  occurredAt: '2026-03-02T14:05:06.123456Z',
  clinicId: '11111111-1111-4111-8111-111111111111',
  actorId: '22222222-2222-4222-8222-222222222222',
  actorName: 'Northside Intake Coordinator',
  actorRole: 'staff',
  action: 'referral.read',
  entityType: 'referral',
  entityId: '33333333-3333-4333-8333-333333333333',
  entityLabel: 'NOR-7K3M9PX',
  outcome: 'success',
  requestId: 'req-1',
  ip: '203.0.113.9',
  userAgent: 'Mozilla/5.0',
  details: null,
  prevHash: 'aa',
  hash: 'bb',
}

describe('CSV', () => {
  test('quotes commas, quotes and line breaks (RFC 4180)', () => {
    expect(csvCell('plain')).toBe('plain')
    expect(csvCell('a,b')).toBe('"a,b"')
    expect(csvCell('say "hi"')).toBe('"say ""hi"""')
    expect(csvCell('two\nlines')).toBe('"two\nlines"')
    expect(csvCell(null)).toBe('')
    expect(csvCell(7)).toBe('7')
  })

  test('a cell a spreadsheet would run as a formula is neutralised', () => {
    expect(csvCell('=HYPERLINK("http://evil.test")')).toBe(`"'=HYPERLINK(""http://evil.test"")"`)
    expect(csvCell('+1')).toBe("'+1")
    expect(csvCell('-2+3')).toBe("'-2+3")
    expect(csvCell('@SUM(A1)')).toBe("'@SUM(A1)")
    expect(csvCell('\tx')).toBe("'\tx")
  })

  test('a row has one cell per header column', () => {
    expect(csvHeader().trim().split(',')).toHaveLength(20)
    expect(csvHeader().trim().split(',').slice(-3)).toEqual(['entity_name', 'clinic_time', 'time_zone'])
    // 14:05 UTC on 2 March is 09:05 EST in Toronto: the clinic's time and its zone, beside the UTC instant the hash covers.
    expect(csvRow({ ...row, details: '{"a": 1, "b": 2}' }, 'America/Toronto')).toBe(
      `41,7,2026-03-02T14:05:06.123456Z,${row.clinicId},${row.actorId},Northside Intake Coordinator,staff,referral.read,referral,${row.entityId},success,req-1,203.0.113.9,Mozilla/5.0,"{""a"": 1, ""b"": 2}",aa,bb,NOR-7K3M9PX,2026-03-02 09:05:06 EST,America/Toronto\r\n`,
    )
    expect(
      csvRow({ ...row, occurredAt: '2026-07-02T14:05:06.000000Z', entityLabel: null }, 'America/Vancouver')
        .trimEnd()
        .split(',')
        .slice(-3),
    ).toEqual(['', '2026-07-02 07:05:06 PDT', 'America/Vancouver'])
  })
})

describe('FHIR AuditEvent', () => {
  test('a referral read', () => {
    expect(fhirAuditEvent(row, 'America/Toronto')).toEqual({
      resourceType: 'AuditEvent',
      id: '41',
      extension: [{ url: 'urn:intakepilot:clinic-time-zone', valueString: 'America/Toronto' }],
      type: { system: 'http://dicom.nema.org/resources/ontology/DCM', code: '110110', display: 'Patient Record' },
      subtype: [{ system: 'urn:intakepilot:audit-action', code: 'referral.read' }],
      action: 'R',
      recorded: '2026-03-02T14:05:06.123456Z',
      outcome: '0',
      agent: [
        {
          who: { identifier: { value: row.actorId }, display: 'Northside Intake Coordinator' },
          requestor: true,
          role: [{ text: 'staff' }],
          network: { address: '203.0.113.9', type: '2' },
        },
      ],
      source: { site: row.clinicId, observer: { display: 'IntakePilot' } },
      entity: [
        {
          what: { identifier: { value: row.entityId }, display: 'NOR-7K3M9PX' },
          type: { system: 'urn:intakepilot:entity-type', code: 'referral', display: 'referral' },
          detail: [{ type: 'request-id', valueString: 'req-1' }],
        },
      ],
    })
  })

  test('a denied sign-in, a failed check, and a list naming each referral it showed', () => {
    const denied = fhirAuditEvent({ ...row, action: 'login.denied', outcome: 'denied', entityType: null, entityId: null, actorId: null, ip: null }, 'UTC')
    expect(denied).toMatchObject({ type: { code: '110114', display: 'User Authentication' }, action: 'E', outcome: '4', outcomeDesc: 'denied' })
    expect(denied.agent[0]).toEqual({ who: { display: 'Unknown user' }, requestor: true, role: [{ text: 'staff' }] })
    expect(fhirAuditEvent({ ...row, actorId: null, actorRole: 'system' }, 'UTC').agent[0]!.who).toEqual({ display: 'IntakePilot (scheduled job)' })
    expect(denied).not.toHaveProperty('entity')
    expect(fhirAuditEvent({ ...row, action: 'audit.verify', outcome: 'error' }, 'UTC')).toMatchObject({ type: { code: '110101' }, outcome: '8' })
    const list = fhirAuditEvent({ ...row, action: 'referral.list', entityId: null, details: '{"ids": ["r1", "r2"], "search": false}' }, 'UTC')
    expect(list.entity?.map((e) => e.what?.identifier.value)).toEqual(['r1', 'r2'])
    // The label names the row's own entity, never one of the list's.
    expect(list.entity?.map((e) => e.what)).toEqual([{ identifier: { value: 'r1' } }, { identifier: { value: 'r2' } }])
  })
})

describe('the viewer and export parameters', () => {
  test('a hand-edited URL keeps what makes sense and names what it ignored', () => {
    const { view, ignored } = parseAuditView(new URL('http://x/admin/audit?from=2026-01-01&to=soon&action=referral.read&cursor=-3'))
    expect(view).toEqual({ from: '2026-01-01', action: 'referral.read' })
    expect(ignored.sort()).toEqual(['cursor', 'to'])
    expect(parseAuditView(new URL('http://x/admin/audit?reference=%20nor-7k3m9px%20')).view).toEqual({ reference: 'NOR-7K3M9PX' })
    for (const bad of ["NOR-7K3'--", 'x'.repeat(40), 'NOR 7K3M9PX', '%00'])
      expect(parseAuditView(new URL(`http://x/admin/audit?reference=${encodeURIComponent(bad)}`)).ignored, bad).toEqual(['reference'])
  })

  test("a filter's days are the clinic's days", () => {
    expect(dayStart('2026-12-01', 'America/Toronto').toISOString()).toBe('2026-12-01T05:00:00.000Z')
    expect(dayAfter('2026-12-01', 'America/Toronto').toISOString()).toBe('2026-12-02T05:00:00.000Z')
    expect(dayAfter('2026-07-31', 'America/Vancouver').toISOString()).toBe('2026-08-01T07:00:00.000Z')
    expect(dayStart('2026-12-01', 'UTC').toISOString()).toBe('2026-12-01T00:00:00.000Z')
  })

  test('an export needs a format and a real, ordered range', () => {
    expect(AuditExportSchema.safeParse({ format: 'csv', from: '2026-01-01', to: '2026-01-31' }).success).toBe(true)
    expect(AuditExportSchema.safeParse({ format: 'xml', from: '2026-01-01', to: '2026-01-31' }).success).toBe(false)
    expect(AuditExportSchema.safeParse({ format: 'csv', from: '2026-02-30', to: '2026-03-01' }).success).toBe(false)
    expect(AuditExportSchema.safeParse({ format: 'csv', from: '2026-02-01', to: '2026-01-01' }).success).toBe(false)
  })
})
