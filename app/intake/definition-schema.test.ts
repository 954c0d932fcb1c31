import { parseWithZod } from '@conform-to/zod/v4'
import { describe, expect, test } from 'vitest'
import type { IntakeFormDefinition } from '~/db/schema'
import { defaultIntakeForm } from './default-form'
import { IntakeFormEditorSchema, splitOptions, toDefinition, toEditorValue } from './definition-schema'

const services = ['Physiotherapy assessment', 'Vestibular rehabilitation']

/** The editor's values as the browser would post them: flat names, checkboxes "on" or absent. */
function formData(value: ReturnType<typeof toEditorValue>) {
  const data = new FormData()
  data.set('baseVersion', String(value.baseVersion))
  value.sections.forEach((section, s) => {
    data.set(`sections[${s}].title`, section.title)
    section.fields.forEach((field, f) => {
      const name = `sections[${s}].fields[${f}]`
      for (const prop of ['label', 'key', 'type', 'help', 'options', 'format'] as const) data.set(`${name}.${prop}`, field[prop])
      if (field.required) data.set(`${name}.required`, 'on')
      if (field.phi) data.set(`${name}.phi`, 'on')
    })
  })
  return data
}

function parse(edit: (value: ReturnType<typeof toEditorValue>) => void = () => {}) {
  const value = toEditorValue(defaultIntakeForm(services), 1)
  edit(value)
  return outcome(formData(value))
}

function outcome(data: FormData) {
  const submission = parseWithZod(data, { schema: IntakeFormEditorSchema })
  return submission.status === 'success'
    ? { status: submission.status, value: submission.value, error: undefined }
    : { status: submission.status, value: undefined, error: submission.error }
}

const fieldAt = (value: ReturnType<typeof toEditorValue>, key: string) => value.sections.flatMap((s) => s.fields).find((f) => f.key === key)!

describe('the intake form editor schema', () => {
  test('the default form passes and round-trips to the same definition', () => {
    const submission = parse()
    expect(submission.status).toBe('success')
    expect(toDefinition(submission.value!)).toEqual<IntakeFormDefinition>(defaultIntakeForm(services))
  })

  test('a duplicate key is reported on the second field that uses it', () => {
    const submission = parse((v) => {
      v.sections[1]!.fields[0]!.key = 'patient_phone'
    })
    expect(submission.status).toBe('error')
    expect(submission.error?.['sections[1].fields[0].key']).toEqual(['Another field already uses the key “patient_phone”'])
    expect(submission.error?.['sections[0].fields[5].key']).toBeUndefined()
  })

  test('every error shows at once: an empty label does not hide a duplicate key or a choice without options', () => {
    const submission = parse((v) => {
      fieldAt(v, 'history').label = ''
      fieldAt(v, 'allergies').key = 'medications'
      fieldAt(v, 'urgency').options = ''
      fieldAt(v, 'urgency').label = ''
      fieldAt(v, 'patient_dob').phi = false
      fieldAt(v, 'patient_dob').label = ''
    })
    expect(submission.error).toEqual({
      'sections[2].fields[3].label': ['Enter a label'],
      'sections[2].fields[5].key': ['Another field already uses the key “medications”'],
      'sections[2].fields[1].label': ['Enter a label'],
      'sections[2].fields[1].options': ['A choice field needs at least one option'],
      'sections[0].fields[2].label': ['Enter a label'],
      'sections[0].fields[2].phi': ['Used for duplicate detection: this field must stay PHI'],
    })
  })

  test('forged shapes are errors, never exceptions', () => {
    const shapes: [string, string][][] = [
      [['sections', 'abc']],
      [
        ['sections[0]', 'abc'],
        ['baseVersion', 'x'],
      ],
      [
        ['sections[0].fields', 'zzz'],
        ['sections[0].title', 'T'],
      ],
      [
        ['sections[0].fields[0]', 'q'],
        ['sections[1].fields[0].key', 'patient_dob'],
        ['sections[1].fields[0].type', 'nope'],
      ],
      [
        ['sections[0].fields[0].key', 'a'],
        ['sections[0].fields[0].options', 'x'.repeat(10_000)],
      ],
    ]
    for (const shape of shapes) {
      const data = new FormData()
      for (const [name, value] of shape) data.append(name, value)
      expect(outcome(data).status, JSON.stringify(shape)).toBe('error')
    }
  })

  test('keys are lowercase snake_case, 2 to 50 characters', () => {
    for (const key of ['Reason', 'reason-for', '1st', 'x', 'a'.repeat(51), 'rea son']) {
      const submission = parse((v) => {
        fieldAt(v, 'reason').key = key
      })
      expect(submission.error?.['sections[2].fields[0].key'], key).toEqual(['Use 2–50 lowercase letters, digits and underscores, starting with a letter'])
    }
  })

  test('duplicate-detection fields may be relabelled, but not removed, re-keyed or made non-PHI', () => {
    expect(parse((v) => (fieldAt(v, 'patient_dob').label = 'Birth date')).status).toBe('success')

    const removed = parse((v) => v.sections[0]!.fields.splice(2, 1))
    expect(removed.error?.['']).toEqual(['The field “patient_dob” is used for duplicate detection: it cannot be removed or given another key'])

    const rekeyed = parse((v) => (fieldAt(v, 'health_card_number').key = 'insurance_number'))
    expect(rekeyed.error?.['']).toEqual(['The field “health_card_number” is used for duplicate detection: it cannot be removed or given another key'])

    const notPhi = parse((v) => (fieldAt(v, 'patient_last_name').phi = false))
    expect(notPhi.error?.['sections[0].fields[1].phi']).toEqual(['Used for duplicate detection: this field must stay PHI'])

    const retyped = parse((v) => (fieldAt(v, 'patient_dob').type = 'text'))
    expect(retyped.error?.['sections[0].fields[2].type']).toEqual(['Used for duplicate detection: this field must stay date'])
  })

  test('a choice field needs options: at most 50, each at most 100 characters, none twice', () => {
    const none = parse((v) => (fieldAt(v, 'urgency').options = ' \n '))
    expect(none.error?.['sections[2].fields[1].options']).toEqual(['A choice field needs at least one option'])

    const many = parse((v) => (fieldAt(v, 'urgency').options = Array.from({ length: 51 }, (_, i) => `o${i}`).join(',')))
    expect(many.error?.['sections[2].fields[1].options']).toEqual(['At most 50 options'])

    const long = parse((v) => (fieldAt(v, 'urgency').options = `short\n${'x'.repeat(101)}`))
    expect(long.error?.['sections[2].fields[1].options']?.[0]).toMatch(/^Each option must be at most 100 characters/)

    const twice = parse((v) => (fieldAt(v, 'urgency').options = 'urgent, routine, urgent'))
    expect(twice.error?.['sections[2].fields[1].options']).toEqual(['“urgent” is listed twice'])
  })

  test('options are one per line, or comma-separated; only choice fields keep them', () => {
    expect(splitOptions('Yes, No ,, Maybe')).toEqual(['Yes', 'No', 'Maybe'])
    expect(splitOptions('Knee, left\nKnee, right\n\n')).toEqual(['Knee, left', 'Knee, right'])
    const submission = parse((v) => {
      fieldAt(v, 'urgency').options = 'routine, urgent'
      fieldAt(v, 'reason').options = 'ignored'
    })
    expect(submission.status).toBe('success')
    const fields = toDefinition(submission.value!).sections.flatMap((s) => s.fields)
    expect(fields.find((f) => f.key === 'urgency')?.options).toEqual(['routine', 'urgent'])
    expect(fields.find((f) => f.key === 'reason')).not.toHaveProperty('options')
  })

  test('labels, titles and help have lengths; a form needs sections with fields, at most 100 fields', () => {
    const blank = parse((v) => {
      fieldAt(v, 'reason').label = '   '
      v.sections[1]!.title = ''
      fieldAt(v, 'history').help = 'h'.repeat(301)
      fieldAt(v, 'allergies').label = 'a'.repeat(201)
    })
    expect(blank.error).toMatchObject({
      'sections[2].fields[0].label': ['Enter a label'],
      'sections[1].title': ['Enter a section title'],
      'sections[2].fields[3].help': ['At most 300 characters'],
      'sections[2].fields[5].label': ['At most 200 characters'],
    })

    const empty = parse((v) => (v.sections[3]!.fields = []))
    expect(empty.error?.['sections[3].fields']).toEqual(['Add a field to this section, or remove the section'])

    const nothing = outcome(new FormData())
    expect(nothing.error?.sections).toEqual(['Add a section'])

    const huge = parse((v) => {
      for (let i = 0; i < 90; i++) v.sections[2]!.fields.push({ ...fieldAt(v, 'history'), key: `extra_${i}` })
    })
    expect(huge.error?.['']).toEqual(['A form can have at most 100 fields (this one has 110)'])
  })

  test('a format is kept through the editor, can be taken off, and is refused on anything but short text or when made up', () => {
    const kept = parse()
    expect(toDefinition(kept.value!).sections[0]!.fields.find((f) => f.key === 'health_card_number')?.format).toBe('ontario-health-card')

    const off = parse((v) => (fieldAt(v, 'health_card_number').format = ''))
    expect(off.status).toBe('success')
    expect(toDefinition(off.value!).sections[0]!.fields.find((f) => f.key === 'health_card_number')).not.toHaveProperty('format')

    const onDate = parse((v) => (fieldAt(v, 'history').format = 'bc-phn'))
    expect(onDate.error?.['sections[2].fields[3].format']).toEqual(['Only a short text field can have a format'])

    const forged = parse((v) => (fieldAt(v, 'health_card_number').format = 'anything' as never))
    expect(forged.error?.['sections[0].fields[4].format']).toEqual(['Choose a format from the list'])
  })
})
