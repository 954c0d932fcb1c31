import { describe, expect, it } from 'vitest'
import { encodeQueueCursor } from '~/referrals/queue'
import {
  auditEventSearch,
  decodeAuditCursor,
  documentSearch,
  encodeAuditCursor,
  pageLink,
  readProblems,
  serviceRequestSearch,
  taskSearch,
  timeBound,
} from './search'

const ID = '8612de1a-c194-479e-8505-41c51ab3dd28'

const utcDay = (day: string) => new Date(`${day}T00:00:00Z`)
const q = (s: string) => new URLSearchParams(s)
const names = (problems: { name: string }[]) => problems.map((p) => p.name)

describe('FHIR search parameters', () => {
  it('ServiceRequest: status and priority codes become IntakePilot statuses and priorities', () => {
    const { search, problems } = serviceRequestSearch(q('status=active,completed&priority=stat,urgent&_count=10'), utcDay)
    expect(problems).toEqual([])
    expect(search.statuses).toEqual(['received', 'in_review', 'info_requested', 'accepted', 'scheduled', 'closed'])
    expect(search.priorities).toEqual(['urgent', 'emergent'])
    expect(search.count).toBe(10)
    // Valid FHIR codes IntakePilot has no referral for select nothing (not everything).
    expect(serviceRequestSearch(q('status=draft&priority=asap'), utcDay).search).toMatchObject({ statuses: [], priorities: [] })
    expect(serviceRequestSearch(q(''), utcDay).search).toMatchObject({ statuses: null, priorities: null, count: 25, cursor: undefined })
  })

  it('refuses, by name, every parameter it does not take or cannot read', () => {
    const { problems } = serviceRequestSearch(
      q('status=open&priority=high&authored=2026-13-01&_count=0&_cursor=abc&subject=Patient/1&status:not=active&_format=xml&_count=5'),
      utcDay,
    )
    expect(names(problems).sort()).toEqual(['_count', '_count', '_cursor', '_format', 'authored', 'priority', 'status', 'status:not', 'subject'])
    // A patient identifier in the URL is refused, and the message says where it goes.
    const inUrl = serviceRequestSearch(q('patient.identifier=1234567890'), utcDay).problems
    expect(inUrl[0]).toMatchObject({ name: 'patient.identifier', message: expect.stringContaining('_search') })
    expect(JSON.stringify(inUrl)).not.toContain('1234567890')
    expect(
      taskSearch(q('focus=Patient/x&status=done&business-status=9.9&owner=me'), utcDay)
        .problems.map((p) => p.name)
        .sort(),
    ).toEqual(['business-status', 'focus', 'owner', 'status'])
    expect(readProblems(q('_format=json'))).toEqual([])
    expect(names(readProblems(q('_elements=id&_format=xml')))).toEqual(['_format', '_elements'])
  })

  it('the health card only from a posted body, with or without a system', () => {
    const posted = serviceRequestSearch(
      q('_count=5'),
      utcDay,
      q('patient.identifier=https://fhir.infoway-inforoute.ca/NamingSystem/ca-on-patient-hcn|1234567890AB&status=active'),
    )
    expect(posted.problems).toEqual([])
    expect(posted.search).toMatchObject({ healthCard: '1234567890AB', count: 5 })
    expect(serviceRequestSearch(q(''), utcDay, q('patient.identifier=1234567890')).search.healthCard).toBe('1234567890')
    expect(names(serviceRequestSearch(q(''), utcDay, q('patient.identifier=http://other/mrn|77')).problems)).toEqual(['patient.identifier'])
  })

  it('dates: the interval of the given precision, compared per prefix; days are the clinic’s', () => {
    expect(timeBound('ge2026-11-30', utcDay)).toEqual({ op: 'ge', from: utcDay('2026-11-30'), until: utcDay('2026-12-01') })
    expect(timeBound('2026-02', utcDay)).toEqual({ op: 'eq', from: utcDay('2026-02-01'), until: utcDay('2026-03-01') })
    expect(timeBound('lt2026', utcDay)).toEqual({ op: 'lt', from: utcDay('2026-01-01'), until: utcDay('2027-01-01') })
    expect(timeBound('gt2026-11-30T10:00:00-05:00', utcDay)).toEqual({
      op: 'gt',
      from: new Date('2026-11-30T15:00:00Z'),
      until: new Date('2026-11-30T15:00:01Z'),
    })
    const toronto = (day: string) => new Date(`${day}T05:00:00Z`)
    expect(timeBound('2026-11-30', toronto)).toMatchObject({ from: new Date('2026-11-30T05:00:00Z'), until: new Date('2026-12-01T05:00:00Z') })
    for (const bad of ['sa2026-01-01', '2026-02-30', '2026-11-30T10:00', 'yesterday', '2026-11-30T25:00:00Z']) {
      expect(typeof timeBound(bad, utcDay), bad).toBe('string')
    }
  })

  it('Task: focus by reference, status and business status (both must hold), a page link keeps the search', () => {
    const id = '6f1c2b7a-9d3e-4a8b-b1c2-222222222222'
    const { search, problems } = taskSearch(
      q(`focus=ServiceRequest/${id}&status=rejected,cancelled&business-status=http://hl7.org/fhir/us/bser/CodeSystem/TaskBusinessStatusCS|4.0`),
      utcDay,
    )
    expect(problems).toEqual([])
    expect(search).toMatchObject({ focus: [id], statuses: ['declined'] })
    expect(taskSearch(q('business-status=2.0'), utcDay).search.statuses).toEqual(['received', 'in_review', 'info_requested'])
    const cursor = encodeQueueCursor({ r: 2, t: '2026-11-30 14:00:00.123456+00', id })
    expect(taskSearch(q(`_cursor=${cursor}`), utcDay).search.cursor).toBe(cursor)
    expect(pageLink('https://x/fhir/R4/Task', q('status=requested&_cursor=old'), 'new')).toBe('https://x/fhir/R4/Task?status=requested&_cursor=new')
  })
})

describe('the other reads (decision 057)', () => {
  it('refuses a parameter named like an Object property, by name', () => {
    const { problems } = documentSearch(new URLSearchParams(`related=ServiceRequest/${ID}&constructor=x&__proto__=y`))
    expect(problems.map((p) => [p.name, typeof p.message])).toEqual([
      ['constructor', 'string'],
      ['__proto__', 'string'],
    ])
  })

  it('DocumentReference takes exactly one of related, patient or subject', () => {
    expect(documentSearch(new URLSearchParams(`related=ServiceRequest/${ID}`))).toEqual({ search: { referralId: ID }, problems: [] })
    expect(documentSearch(new URLSearchParams(`subject=https://x.test/fhir/R4/Patient/${ID}`)).search.referralId).toBe(ID)
    expect(documentSearch(new URLSearchParams('')).problems).toHaveLength(1)
    expect(documentSearch(new URLSearchParams(`related=ServiceRequest/${ID}&patient=Patient/${ID}`)).problems).toHaveLength(1)
    expect(documentSearch(new URLSearchParams(`related=Patient/${ID}`)).problems[0]!.name).toBe('related')
  })

  it('AuditEvent cursors are only those the server made', () => {
    expect(decodeAuditCursor(encodeAuditCursor(12345))).toBe(12345)
    for (const bad of ['', 'not-ours', btoa('seq:0'), btoa('seq:-1'), btoa('row:5'), 'A'.repeat(60)]) expect(decodeAuditCursor(bad)).toBeNull()
    const codes = ['referral.read', 'document.read']
    const { search, problems } = auditEventSearch(
      new URLSearchParams('subtype=referral.read,document.read&outcome=0&_count=5'),
      (d) => new Date(`${d}T00:00:00Z`),
      codes,
    )
    expect(problems).toEqual([])
    expect(search).toMatchObject({ actions: codes, outcomes: ['0'], count: 5, beforeSeq: undefined })
    const bad = auditEventSearch(new URLSearchParams('subtype=nope&outcome=success&_cursor=x'), (d) => new Date(`${d}T00:00:00Z`), codes)
    expect(bad.problems.map((p) => p.name)).toEqual(['subtype', 'outcome', '_cursor'])
  })
})
