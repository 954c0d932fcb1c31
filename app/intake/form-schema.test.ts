import { describe, expect, test } from 'vitest'
import type { IntakeFormDefinition } from '~/db/schema'
import { defaultIntakeForm } from './default-form'
import { validateIntake } from './form-schema'

const form = defaultIntakeForm(['Physiotherapy assessment'])

/** The default form, filled in as a referrer would, with some values replaced. */
function submit(changes: Record<string, string | null>, definition: IntakeFormDefinition = form) {
  const values: Record<string, string | null> = {
    patient_first_name: 'Ada',
    patient_last_name: 'Zed',
    patient_dob: '1970-03-12',
    health_card_number: '1234-567-890-AB',
    patient_phone: '(416) 555-0142',
    clinician_name: 'Dr. Amara Okafor',
    clinician_practice: 'Maple Family Health Team',
    clinician_phone: '(416) 555-0199',
    clinician_billing_number: '123456',
    reason: 'Knee pain',
    urgency: 'routine',
    requested_service: 'Physiotherapy assessment',
    consent: 'on',
    ...changes,
  }
  const data = new FormData()
  for (const [key, value] of Object.entries(values)) if (value !== null) data.set(key, value)
  const submission = validateIntake(data, definition)
  return { status: submission.status, error: (submission.status === 'error' ? submission.error : undefined) ?? {} }
}

const withoutFormat = (): IntakeFormDefinition => ({
  sections: form.sections.map((s) => ({ ...s, fields: s.fields.map(({ format: _, ...f }) => f) })),
})

describe('the health card number, against the format the form declares', () => {
  test.each(['1234-567-890-AB', '1234567890', '1234 567 890', '1234 567 890 kt', '1234.567.890'])('the default form (Ontario) takes %s', (card) => {
    expect(submit({ health_card_number: card })).toMatchObject({ status: 'success' })
  })

  test.each(['12', '123456789', '12345678901', '1234567890A', '1234567890ABC', 'ABCD12345678', '1234-567-890-A1'])(
    'the default form refuses %s, saying what it expects',
    (card) => {
      const { status, error } = submit({ health_card_number: card })
      expect(status).toBe('error')
      expect(error.health_card_number).toEqual([
        'Health card / insurance number: enter the 10 digits of an Ontario health card, then the version code if there is one, e.g. 1234-567-890-AB',
      ])
    },
  )

  test('a form that declares no format takes any text (control: the refusal above is the format’s)', () => {
    expect(submit({ health_card_number: '12' }, withoutFormat())).toMatchObject({ status: 'success' })
  })

  test('another province’s format is checked as declared', () => {
    const quebec: IntakeFormDefinition = {
      sections: form.sections.map((s) => ({
        ...s,
        fields: s.fields.map((f) => (f.key === 'health_card_number' ? { ...f, format: 'quebec-ramq' as const } : f)),
      })),
    }
    expect(submit({ health_card_number: 'ABCD 1234 5678' }, quebec).status).toBe('success')
    expect(submit({ health_card_number: '1234-567-890-AB' }, quebec).status).toBe('error')
  })
})

describe('the wording of the form’s errors', () => {
  test('a choice left empty: “Choose an urgency”, with the right article', () => {
    const { error } = submit({ urgency: null, requested_service: null })
    expect(error.urgency).toEqual(['Choose an urgency'])
    expect(error.requested_service).toEqual(['Choose a requested service'])
  })

  test('the consent box left unticked: a short message, not the 16-word label', () => {
    const { error } = submit({ consent: null })
    expect(error.consent).toEqual(['Confirm that the patient consents'])
    expect(error.consent![0]!.split(' ').length).toBeLessThanOrEqual(6)
  })
})
