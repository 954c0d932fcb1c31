import { describe, expect, it } from 'vitest'
import { MAX_FILE_BYTES, MAX_FILES_PER_REFERRAL, MAX_REFERRAL_BYTES, MB } from '~/documents/limits'
import { base64Size, inRequestOrder, MAX_BUNDLE_DOCUMENT_BYTES, readTransactionDocuments, TRANSACTION_BODY } from './transaction-documents'
import { readTransaction } from './transaction'

const URLS = { Patient: 'urn:uuid:p', ServiceRequest: 'urn:uuid:s' }
const LIMITS = { fileBytes: MAX_FILE_BYTES, referralBytes: MAX_REFERRAL_BYTES }
const PDF = Buffer.from('%PDF-1.4\n% a letter\n').toString('base64')

type Json = Record<string, unknown>
const reference = (attachment: Json, more: Json = {}) => ({
  fullUrl: `urn:uuid:d${Math.random()}`,
  resource: {
    resourceType: 'DocumentReference',
    status: 'current',
    subject: { reference: 'urn:uuid:p' },
    context: { related: [{ reference: 'urn:uuid:s' }] },
    content: [{ attachment }],
    ...more,
  },
  request: { method: 'POST', url: 'DocumentReference' },
})
const binary = (fullUrl: string, data = PDF, contentType = 'application/pdf') => ({
  fullUrl,
  resource: { resourceType: 'Binary', contentType, data },
  request: { method: 'POST', url: 'Binary' },
})
const read = (entry: unknown[], limits = LIMITS) => readTransactionDocuments({ resourceType: 'Bundle', type: 'transaction', entry }, URLS, limits)
const problems = (entry: unknown[], limits = LIMITS) => {
  const got = read(entry, limits)
  if (!('problems' in got)) throw new Error('expected problems')
  return { status: got.status, at: got.problems.map((p) => [p.expression![0], p.code]) }
}

describe('the documents of a transaction Bundle', () => {
  it('reads inline data and a Binary named by url, with their places, sizes and names', () => {
    const got = read([
      { resource: { resourceType: 'Patient' } },
      reference({ contentType: 'application/pdf', data: PDF, title: 'Consult letter.pdf', size: 20 }),
      reference({ contentType: 'application/pdf', url: 'urn:uuid:b' }),
      binary('urn:uuid:b'),
      reference({ contentType: 'text/plain; charset=utf-8', data: 'aGk=' }),
    ])
    expect(got).toEqual({
      documents: [
        {
          entry: 1,
          name: 'Consult letter.pdf',
          contentType: 'application/pdf',
          sizeBytes: 20,
          data: PDF,
          expression: 'Bundle.entry[1].resource.content[0].attachment.data',
          binaryEntry: undefined,
        },
        {
          entry: 2,
          binaryEntry: 3,
          name: 'document.pdf',
          contentType: 'application/pdf',
          sizeBytes: 20,
          data: PDF,
          expression: 'Bundle.entry[3].resource.data',
        },
        {
          entry: 4,
          name: 'document.txt',
          contentType: 'text/plain',
          sizeBytes: 2,
          data: 'aGk=',
          expression: 'Bundle.entry[4].resource.content[0].attachment.data',
          binaryEntry: undefined,
        },
      ],
    })
    expect(read([])).toEqual({ documents: [] })
  })

  it('takes base64 wrapped in lines, as MIME writes it', () => {
    const wrapped = `${PDF.slice(0, 12)}\r\n${PDF.slice(12)}`
    expect(read([reference({ contentType: 'application/pdf', data: wrapped })])).toMatchObject({ documents: [{ data: PDF, sizeBytes: 20 }] })
  })

  it('refuses bytes from outside the Bundle, a Binary nobody names, one named twice, and a Binary without a fullUrl (400)', () => {
    expect(problems([reference({ contentType: 'application/pdf', url: 'https://elsewhere.test/letter.pdf' })])).toEqual({
      status: 400,
      at: [['Bundle.entry[0].resource.content[0].attachment.url', 'invalid']],
    })
    expect(problems([binary('urn:uuid:b')])).toEqual({ status: 400, at: [['Bundle.entry[0]', 'not-supported']] })
    expect(problems([reference({ url: 'urn:uuid:b' }), reference({ url: 'urn:uuid:b' }), binary('urn:uuid:b')]).at).toEqual([
      ['Bundle.entry[1].resource.content[0].attachment.url', 'invalid'],
    ])
    expect(
      problems([{ resource: { resourceType: 'Binary', contentType: 'application/pdf', data: PDF }, request: { method: 'POST', url: 'Binary' } }]).at,
    ).toEqual([['Bundle.entry[0].fullUrl', 'required']])
  })

  it('refuses what is not base64, an empty document, a missing type, data and url together, and a size that differs (400)', () => {
    const at = (attachment: Json) => problems([reference(attachment)]).at
    const where = 'Bundle.entry[0].resource.content[0].attachment'
    expect(at({ contentType: 'application/pdf', data: 'not base64!' })).toEqual([[`${where}.data`, 'invalid']])
    expect(at({ contentType: 'application/pdf', data: 'abc' })).toEqual([[`${where}.data`, 'invalid']])
    expect(at({ contentType: 'application/pdf', data: '' })).toEqual([[`${where}.data`, 'required']])
    expect(at({ data: PDF })).toEqual([[`${where}.contentType`, 'required']])
    expect(at({ contentType: 'application/pdf' })).toEqual([[`${where}.data`, 'required']])
    expect(at({ contentType: 'application/pdf', data: PDF, url: 'urn:uuid:b' })).toEqual([[where, 'invalid']])
    expect(at({ contentType: 'application/pdf', data: PDF, size: 21 })).toEqual([[`${where}.size`, 'invariant']])
    expect(at({ contentType: 'application/pdf', data: PDF, hash: 'x' })).toEqual([[`${where}.hash`, 'not-supported']])
    expect(problems([reference({ contentType: 'application/pdf', url: 'urn:uuid:b' }), binary('urn:uuid:b', PDF, 'image/png')]).at).toEqual([
      [`${where}.contentType`, 'invariant'],
    ])
  })

  it('refuses a DocumentReference that is not one current document of this patient and this referral (400)', () => {
    const att = { contentType: 'application/pdf', data: PDF }
    const at = (more: Json) => problems([reference(att, more)]).at
    const r = 'Bundle.entry[0].resource'
    expect(at({ status: 'superseded' })).toEqual([[`${r}.status`, 'value']])
    expect(at({ subject: { reference: 'Patient/123' } })).toEqual([[`${r}.subject`, 'invalid']])
    expect(at({ context: undefined })).toEqual([[`${r}.context.related`, 'invalid']])
    expect(at({ context: { related: [{ reference: 'urn:uuid:p' }] } })).toEqual([[`${r}.context.related`, 'invalid']])
    expect(at({ type: { text: 'Letter' } })).toEqual([[`${r}.type`, 'not-supported']])
    expect(at({ id: 'mine' })).toEqual([[`${r}.id`, 'invalid']])
    expect(at({ content: [{ attachment: att }, { attachment: att }] })).toEqual([[`${r}.content`, 'invalid']])
    const put = { ...reference(att), request: { method: 'PUT', url: 'DocumentReference/1' } }
    expect(problems([put]).at).toEqual([['Bundle.entry[0].request', 'not-supported']])
  })

  it('refuses a type not taken, a name that says another type, and sizes past the clinic’s limits, from the base64 length (422)', () => {
    const where = 'Bundle.entry[0].resource.content[0].attachment'
    expect(problems([reference({ contentType: 'application/zip', data: PDF })])).toEqual({ status: 422, at: [[`${where}.contentType`, 'not-supported']] })
    expect(problems([reference({ contentType: 'application/pdf', data: PDF, title: 'letter.png' })]).at).toEqual([[`${where}.title`, 'invariant']])
    // 16 bytes a file, 30 a referral: the clinic's own lower limits.
    const small = { fileBytes: 16, referralBytes: 30 }
    expect(problems([reference({ contentType: 'application/pdf', data: PDF })], small).at).toEqual([[`${where}.data`, 'too-long']])
    const twelve = Buffer.alloc(12).toString('base64')
    const three = [0, 1, 2].map(() => reference({ contentType: 'text/plain', data: twelve }))
    expect(problems(three, small).at).toEqual([['Bundle.entry', 'too-long']])
    const many = Array.from({ length: MAX_FILES_PER_REFERRAL + 1 }, () => reference({ contentType: 'text/plain', data: 'aGk=' }))
    expect(problems(many).at).toEqual([['Bundle.entry', 'too-long']])
  })

  it('says the size of base64 from its length alone', () => {
    for (const n of [1, 2, 3, 4, 100, 1001]) expect(base64Size(Buffer.alloc(n, 7).toString('base64'))).toBe(n)
    expect(base64Size(Buffer.alloc(10 * MB + 1).toString('base64'))).toBe(10 * MB + 1)
    expect(base64Size(`${Buffer.alloc(10 * MB).toString('base64')}!===`)).toBeNull()
    expect(base64Size('====')).toBeNull()
    expect(base64Size('ab=c')).toBeNull()
  })

  it('leaves the three resources to readTransaction, which reads them around the documents', () => {
    const bundle = {
      resourceType: 'Bundle',
      type: 'transaction',
      identifier: { system: 'urn:ietf:rfc:3986', value: 'urn:uuid:x' },
      entry: [
        reference({ contentType: 'application/pdf', data: PDF }),
        { fullUrl: 'urn:uuid:p', resource: { resourceType: 'Patient' }, request: { method: 'POST', url: 'Patient' } },
        {
          fullUrl: 'urn:uuid:s',
          resource: { resourceType: 'ServiceRequest', status: 'active', intent: 'order', subject: { reference: 'urn:uuid:p' } },
          request: { method: 'POST', url: 'ServiceRequest' },
        },
        {
          fullUrl: 'urn:uuid:q',
          resource: { resourceType: 'QuestionnaireResponse', status: 'completed', questionnaire: 'https://f.test/form|2' },
          request: { method: 'POST', url: 'QuestionnaireResponse' },
        },
      ],
    }
    const got = readTransaction(bundle, 'https://f.test/form')
    expect(got).toMatchObject({ order: ['Patient', 'ServiceRequest', 'QuestionnaireResponse'], fullUrls: URLS })
    expect(inRequestOrder(4, new Map([[0, 'd']]), ['p', 's', 'q'])).toEqual(['d', 'p', 's', 'q'])
    expect(
      inRequestOrder(
        5,
        new Map([
          [1, 'd'],
          [4, 'b'],
        ]),
        ['p', 's', 'q'],
      ),
    ).toEqual(['p', 'd', 's', 'q', 'b'])
  })

  it('has a body limit that takes the largest file a form may attach, and says what a Bundle holds', () => {
    expect(Math.ceil(MAX_FILE_BYTES / 3) * 4 + MB).toBeLessThanOrEqual(TRANSACTION_BODY.maxBytes)
    expect(MAX_BUNDLE_DOCUMENT_BYTES).toBe(12 * MB)
  })
})
