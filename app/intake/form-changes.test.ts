import { parseWithZod } from '@conform-to/zod/v4'
import { describe, expect, test } from 'vitest'
import { defaultIntakeForm } from './default-form'
import { IntakeFormEditorSchema, NEW_FIELD, toDefinition, toEditorValue } from './definition-schema'
import { draftDefinition, formChanges, sameDefinition } from './form-changes'
import { keyFromLabel, keysOf } from './form-keys'

const services = ['Physiotherapy assessment', 'Vestibular rehabilitation']
const published = () => defaultIntakeForm(services)
const edited = (edit: (value: ReturnType<typeof toEditorValue>) => void) => {
  const value = toEditorValue(published(), 1)
  edit(value)
  return draftDefinition(value)
}

describe('keys made from labels', () => {
  test('a label becomes a lowercase snake_case key the schema accepts', () => {
    expect(keyFromLabel('Referral source')).toBe('referral_source')
    expect(keyFromLabel('  Âge au début (années)  ')).toBe('age_au_debut_annees')
    expect(keyFromLabel('2nd opinion?')).toBe('field_2nd_opinion')
    expect(keyFromLabel('')).toBe('field')
    expect(keyFromLabel('A')).toBe('field_a')
    expect(keyFromLabel('请')).toBe('field')
    expect(keyFromLabel('x'.repeat(80))).toHaveLength(50)
    for (const label of ['Referral source', '2nd opinion?', '', '___', 'a', 'Ünïcödé', 'a b'.repeat(40)]) {
      expect(keyFromLabel(label), label).toMatch(/^[a-z][a-z0-9_]{1,49}$/)
    }
  })

  test('a made key never takes a typed key or an earlier made one; typed keys stay as typed', () => {
    const value = {
      sections: [
        { fields: [{ label: 'Phone', key: '' }, { label: 'Phone' }, { label: 'Other', key: 'phone_3' }] },
        { fields: [{ label: 'Phone', key: ' ' }, 'not a field'] },
      ],
    }
    expect(keysOf(value)).toEqual([
      ['phone', 'phone_2', 'phone_3'],
      ['phone_4', ''],
    ])
    expect(keysOf(null)).toEqual([])
    expect(keysOf({ sections: 'x' })).toEqual([])
  })

  test('the schema fills a blank key from the label, on the server as in the browser', () => {
    const value = toEditorValue(published(), 1)
    value.sections[2]!.fields.push({ ...NEW_FIELD, label: 'Reason for referral' })
    const data = new FormData()
    data.set('baseVersion', '1')
    value.sections.forEach((section, s) => {
      data.set(`sections[${s}].title`, section.title)
      section.fields.forEach((field, f) => {
        for (const prop of ['label', 'key', 'type', 'help', 'options'] as const) data.set(`sections[${s}].fields[${f}].${prop}`, field[prop])
        if (field.phi) data.set(`sections[${s}].fields[${f}].phi`, 'on')
      })
    })
    const submission = parseWithZod(data, { schema: IntakeFormEditorSchema })
    expect(submission.status).toBe('success')
    if (submission.status !== 'success') return
    expect(toDefinition(submission.value).sections[2]!.fields.at(-1)).toMatchObject({ key: 'reason_for_referral', label: 'Reason for referral' })
    // What goes back to the page is what was typed: a blank key stays blank, and follows the label.
    expect(submission.payload).toMatchObject({ sections: expect.any(Array) })
    expect((submission.payload as { sections: { fields: { key?: string }[] }[] }).sections[2]!.fields.at(-1)!.key ?? '').toBe('')
  })
})

describe('the changes an edit makes', () => {
  test('an unchanged form has no changes and is the same definition, whatever the order of its properties', () => {
    const draft = draftDefinition(toEditorValue(published(), 1))
    expect(formChanges(published(), draft)).toEqual([])
    expect(sameDefinition(published(), draft)).toBe(true)
    const reordered = { sections: published().sections.map((s) => ({ fields: s.fields.map((f) => ({ ...f, phi: f.phi, key: f.key })), title: s.title })) }
    expect(sameDefinition(published(), reordered)).toBe(true)
  })

  test('each kind of change is one sentence, in the admin’s words', () => {
    const draft = edited((v) => {
      const [patient, clinician, referral, consent] = v.sections
      patient!.title = 'The patient'
      patient!.fields.find((f) => f.key === 'patient_phone')!.required = false
      patient!.fields.find((f) => f.key === 'patient_sex')!.options = 'Female\nMale\nOther'
      patient!.fields.find((f) => f.key === 'patient_email')!.phi = false
      clinician!.fields.find((f) => f.key === 'clinician_fax')!.type = 'text'
      referral!.fields.find((f) => f.key === 'history')!.label = 'Medical history'
      referral!.fields.find((f) => f.key === 'reason')!.help = ''
      referral!.fields = referral!.fields.filter((f) => f.key !== 'allergies')
      referral!.fields.push({ ...NEW_FIELD, label: 'Referral source' })
      const medications = referral!.fields.findIndex((f) => f.key === 'medications')
      consent!.fields.unshift(referral!.fields.splice(medications, 1)[0]!)
      v.sections.push({ title: 'Follow-up', fields: [{ ...NEW_FIELD, label: 'Preferred day' }] })
    })
    expect(formChanges(published(), draft)).toEqual([
      'Section “Patient” renamed “The patient”',
      'Section “Follow-up” added',
      '“Allergies” removed from “Referral”',
      '“Sex”: options added “Other”; removed “Intersex”, “Prefer not to say”',
      '“Phone” is now optional',
      '“Email” is no longer PHI (stored unencrypted)',
      '“Fax”: type Phone → Short text',
      '“Reason for referral”: help text removed',
      '“Relevant history” relabelled “Medical history”',
      '“Referral source” added to “Referral”',
      '“Current medications” moved to “Consent”',
      '“Preferred day” added to “Follow-up”',
    ])
  })

  test('moves within a section and of sections are reported as reorders', () => {
    const draft = edited((v) => {
      v.sections.reverse()
      v.sections[1]!.fields.reverse()
    })
    expect(formChanges(published(), draft)).toEqual(['Sections reordered', 'Fields reordered in “Referral”'])
  })

  test('a half-typed edit is described without throwing', () => {
    expect(formChanges(published(), draftDefinition({ sections: [{ title: 42, fields: [null, { type: 'nope' }] }] })).length).toBeGreaterThan(0)
    expect(draftDefinition(undefined)).toEqual({ sections: [] })
  })
})
