import { describe, expect, test } from 'vitest'
import { z } from 'zod'
import { defaultIntakeForm } from '~/intake/default-form'
import { IntakeFormEditorSchema, MAX_FIELDS, toEditorValue } from '~/intake/definition-schema'
import { intakeSchema } from '~/intake/form-schema'
import { PatientSearchSchema } from '~/referrals/patient-search'
import { WorkSchema } from '~/referrals/work-schema'
import { formShape } from './form-shape'
import { FORM_REFUSED, parseForm } from './form.server'

const form = (entries: [string, string | Blob][]) => {
  const data = new FormData()
  for (const [name, value] of entries) data.append(name, value)
  return data
}
const replySize = (submission: { reply: () => unknown }) => JSON.stringify(submission.reply()).length

const EDITOR = { also: ['intent'], listIntents: true, maxItems: 2 * MAX_FIELDS } as const

/** The editor's published form as the browser posts it. */
function editorForm() {
  const value = toEditorValue(defaultIntakeForm(['Physiotherapy assessment']), 1)
  const entries: [string, string][] = [['baseVersion', '1']]
  value.sections.forEach((section, s) => {
    entries.push([`sections[${s}].title`, section.title])
    section.fields.forEach((field, f) => {
      for (const prop of ['label', 'key', 'type', 'help', 'options'] as const) entries.push([`sections[${s}].fields[${f}].${prop}`, field[prop]])
      if (field.phi) entries.push([`sections[${s}].fields[${f}].phi`, 'on'])
    })
  })
  return entries
}

describe('the form guard: names are checked before conform builds anything', () => {
  test('a form the page really sends parses as before', () => {
    const search = parseForm(form([['healthCard', '1234-567-890']]), PatientSearchSchema)
    expect(search.status).toBe('success')
    const editor = parseForm(form([...editorForm(), ['intent', 'publish']]), IntakeFormEditorSchema, EDITOR)
    expect(editor.status).toBe('success')
  })

  test.each([1e3, 1e5, 1e7, 1e8, 999_999_999, 1e9, 1e12])('an index of %d on a plain field is refused, fast, with a small reply', (n) => {
    const started = performance.now()
    const submission = parseForm(form([[`healthCard[${n}]`, 'x']]), PatientSearchSchema)
    expect(performance.now() - started).toBeLessThan(50)
    expect(submission.status).toBe('error')
    expect(submission.reply().error).toEqual({ '': [FORM_REFUSED.unknown] })
    expect(replySize(submission)).toBeLessThan(400)
  })

  test.each([100, 1e3, 1e6, 999_999_999, 1e9])('an index of %d beyond a list’s .max() is refused', (n) => {
    const submission = parseForm(form([...editorForm(), [`sections[${n}].title`, 'x']]), IntakeFormEditorSchema, EDITOR)
    expect(submission.status).toBe('error')
    expect(Object.values(submission.reply().error ?? {}).flat()).toHaveLength(1)
    expect(replySize(submission)).toBeLessThan(400)
  })

  test('nested names: known paths pass, unknown keys and indexes deep inside are refused', () => {
    const ok = parseForm(form([...editorForm(), ['sections[0].fields[99].label', 'Last one']]), IntakeFormEditorSchema, EDITOR)
    // The gap is the schema's business (fields need a key), not a refusal.
    expect(ok.status).toBe('error')
    expect(Object.values(FORM_REFUSED)).not.toContain(ok.reply().error?.['']?.[0])
    for (const name of [
      'sections[0].fields[100].label',
      'sections[0].fields[0].nope',
      'sections[0].nope',
      'sections.0.title',
      'sections[0]',
      'sections',
      'sections[0].fields[0].label.x',
      'sections[].title',
      'sections[0]..title',
      '.baseVersion',
      'constructor',
      '__proto__[0]',
      'sections[0x10].title',
      'sections[-1].title',
    ]) {
      const refused = parseForm(form([...editorForm(), [name, 'x']]), IntakeFormEditorSchema, EDITOR)
      expect(refused.reply().error, name).toEqual({ '': [expect.any(String)] })
    }
  })

  test('indexes within each list but more items than the form holds together are refused', () => {
    // 100 sections of 100 fields each would render 10,000 fields from a 3 KB post.
    const entries: [string, string][] = Array.from({ length: 100 }, (_, s) => [`sections[${s}].fields[99].label`, 'x'])
    const submission = parseForm(form(entries), IntakeFormEditorSchema, EDITOR)
    expect(submission.reply().error).toEqual({ '': [FORM_REFUSED.tooMany] })
  })

  test('a field sent twice, a file, conform’s reserved names and unknown fields are refused', () => {
    const cases: [string, [string, string | Blob][]][] = [
      [
        'twice',
        [
          ['healthCard', '1'],
          ['healthCard', '2'],
        ],
      ],
      ['file', [['healthCard', new Blob(['x'])]]],
      ['unknown', [['__state__', '{}']]],
      ['intent', [['__intent__', '{"type":"validate","payload":{}}']]],
      ['unknown', [['healthcard', '1']]],
      ['unknown', [['intent', 'publish']]],
    ]
    for (const [reason, entries] of cases) {
      const submission = parseForm(form(entries), PatientSearchSchema)
      expect(submission.reply().error, reason).toEqual({ '': [FORM_REFUSED[reason as keyof typeof FORM_REFUSED]] })
    }
    // Names the form adds itself pass, within a length.
    expect(
      parseForm(
        form([
          ['healthCard', '1'],
          ['extra', 'y'],
        ]),
        PatientSearchSchema,
        { also: ['extra'] },
      ).status,
    ).toBe('success')
    expect(
      parseForm(
        form([
          ['healthCard', '1'],
          ['extra', 'y'.repeat(201)],
        ]),
        PatientSearchSchema,
        { also: ['extra'] },
      ).status,
    ).toBe('error')
  })

  test('list intents: the editor’s own buttons work; forged ones are refused', () => {
    const intent = (value: unknown) => parseForm(form([...editorForm(), ['__intent__', JSON.stringify(value)]]), IntakeFormEditorSchema, EDITOR)
    const NEW = { title: '', fields: [{ label: '', key: '', type: 'text', phi: 'on', help: '', options: '' }] }
    expect(intent({ type: 'insert', payload: { name: 'sections', defaultValue: NEW } }).reply().error?.['']).toBeUndefined()
    expect(intent({ type: 'remove', payload: { name: 'sections', index: 1 } }).reply().error?.['']).toBeUndefined()
    expect(intent({ type: 'reorder', payload: { name: 'sections[0].fields', from: 0, to: 1 } }).reply().error?.['']).toBeUndefined()
    const forged = [
      'not json',
      { type: 'update', payload: { name: 'sections[100000000]', value: 'x' } },
      { type: 'reset', payload: { name: 'sections' } },
      { type: 'insert', payload: { name: 'baseVersion' } },
      { type: 'insert', payload: { name: 'sections[100000000].fields' } },
      { type: 'insert', payload: { name: 'sections', index: 1e8 } },
      { type: 'insert', payload: { name: 'sections', defaultValue: { fields: Array.from({ length: 101 }, () => ({})) } } },
      { type: 'insert', payload: { name: 'sections', defaultValue: { nope: 1 } } },
      { type: 'insert', payload: { name: 'sections', defaultValue: { title: 'x'.repeat(101) } } },
      { type: 'remove', payload: { name: 'sections' } },
      { type: 'reorder', payload: { name: 'sections', from: 0, to: 1e9 } },
      { type: 'insert' },
    ]
    for (const value of forged) {
      const submission = parseForm(
        form([...editorForm(), ['__intent__', typeof value === 'string' ? value : JSON.stringify(value)]]),
        IntakeFormEditorSchema,
        EDITOR,
      )
      expect(submission.status, JSON.stringify(value)).toBe('error')
      const [refusal] = submission.reply().error?.[''] ?? []
      expect([FORM_REFUSED.intent, FORM_REFUSED.tooMany], JSON.stringify(value)).toContain(refusal)
    }
    // A form without list buttons takes no intent at all.
    expect(parseForm(form([['__intent__', JSON.stringify({ type: 'insert', payload: { name: 'healthCard' } })]]), PatientSearchSchema).reply().error).toEqual({
      '': [FORM_REFUSED.intent],
    })
  })

  test('U+0000 in any text is a field error, whatever else is right', () => {
    const submission = parseForm(form([['healthCard', 'ab\u0000c']]), PatientSearchSchema)
    expect(submission.status).toBe('error')
    const reply = submission.reply()
    expect(reply.error?.healthCard).toEqual([expect.stringContaining('U+0000')])
    // The echo leaves the character out.
    expect(reply.initialValue).toEqual({ healthCard: 'abc' })
    const note = parseForm(
      form([
        ['intent', 'note'],
        ['body', 'fine\u0000'],
      ]),
      WorkSchema,
    )
    expect(note.reply().error).toEqual({ body: [expect.stringContaining('U+0000')] })
  })

  test('the reply echoes at most what each field can hold', () => {
    const submission = parseForm(
      form([
        ['intent', 'note'],
        ['body', 'x'.repeat(50_000)],
      ]),
      WorkSchema,
    )
    expect(submission.status).toBe('error')
    expect(replySize(submission)).toBeLessThan(4_300)
  })

  test('every form schema has a shape, and a list without .max() is a mistake caught here', () => {
    for (const schema of [PatientSearchSchema, IntakeFormEditorSchema, WorkSchema, intakeSchema(defaultIntakeForm(['A']))])
      expect(() => formShape(schema)).not.toThrow()
    expect(() => formShape(z.object({ tags: z.array(z.string()) }))).toThrow(/needs a \.max\(\)/)
    expect(() => formShape(z.object({ anything: z.record(z.string(), z.string()) }))).toThrow()
  })
})
