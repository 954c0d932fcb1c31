import { describe, expect, test } from 'vitest'
import { defaultIntakeForm } from '~/intake/default-form'
import { intakeSchema } from '~/intake/form-schema'
import { BIRTH_DAY, calendarDay, dayFromToday, formInteger, INT32_MAX, isCalendarDay, NEAR_DAY } from './form-values'

const messages = (result: { success: boolean; error?: { issues: { message: string }[] } }) => (result.success ? [] : result.error!.issues.map((i) => i.message))

describe('calendar days', () => {
  test.each(['1961-02-31', '1900-02-29', '2026-99-99', '2026-00-10', '2026-04-31', '2023-02-29', '2026-1-05', '20261-01-01', '10000-01-01', '', 'yesterday'])(
    '%s is not a day',
    (day) => {
      expect(isCalendarDay(day)).toBe(false)
    },
  )
  test.each(['2000-02-29', '2024-02-29', '1961-02-28', '2026-12-31', '0000-01-01', '9999-12-31'])('%s is a day', (day) => {
    expect(isCalendarDay(day)).toBe(true)
  })

  test('any day: a real date between 1900 and 2100, each refusal saying why', () => {
    const any = calendarDay('Received from')
    expect(any.safeParse('2026-11-30').success).toBe(true)
    expect(messages(any.safeParse('0000-01-01'))).toEqual(['Received from: enter a date on or after January 1, 1900'])
    expect(messages(any.safeParse('9999-12-31'))).toEqual(['Received from: enter a date on or before December 31, 2100'])
    expect(messages(any.safeParse('10000-01-01'))).toEqual(['Received from: enter a date as YYYY-MM-DD'])
    expect(messages(any.safeParse('1961-02-31'))).toEqual(['Received from: enter a real date (that day does not exist)'])
  })

  test('a date of birth is not in the future nor before 1900', () => {
    const dob = calendarDay('Date of birth', BIRTH_DAY)
    expect(dob.safeParse(dayFromToday()).success).toBe(true)
    expect(dob.safeParse('1900-01-01').success).toBe(true)
    expect(messages(dob.safeParse(dayFromToday(1)))).toEqual(['Date of birth cannot be in the future'])
    expect(messages(dob.safeParse('1899-12-31'))).toEqual(['Date of birth: enter a date on or after January 1, 1900'])
  })

  test('an appointment is within a few years of today, either side', () => {
    const appointment = calendarDay('Appointment date', NEAR_DAY)
    expect(appointment.safeParse(dayFromToday()).success).toBe(true)
    expect(appointment.safeParse(dayFromToday(1)).success).toBe(true)
    expect(appointment.safeParse(dayFromToday(-1)).success).toBe(true)
    expect(appointment.safeParse(dayFromToday(4)).success).toBe(false)
    expect(appointment.safeParse(dayFromToday(-3)).success).toBe(false)
    expect(appointment.safeParse('2026-99-99').success).toBe(false)
  })

  test('the intake form’s date of birth takes the birth range, on the server and in the browser alike', () => {
    const schema = intakeSchema(defaultIntakeForm(['A'])).shape.patient_dob!
    for (const day of ['1961-02-31', '1900-02-29', '0000-01-01', '1850-06-01', dayFromToday(1)]) expect(schema.safeParse(day).success, day).toBe(false)
    expect(schema.safeParse('1961-02-28').success).toBe(true)
  })
})

describe('whole numbers that fit PostgreSQL’s integer', () => {
  test.each([
    ['1', 1],
    [String(INT32_MAX), INT32_MAX],
  ])('%s is fine', (text, value) => {
    expect(formInteger(1).parse(text)).toBe(value)
  })
  test.each(['2147483648', '1e10', '9007199254740993', '1.5', '-1', '0', 'NaN', 'Infinity'])('%s is refused', (text) => {
    expect(formInteger(1).safeParse(text).success).toBe(false)
  })
})

test('text with U+0000 is refused by the intake form’s own schema (the API uses it too)', () => {
  const schema = intakeSchema(defaultIntakeForm(['A'])).shape.patient_first_name!
  expect(messages(schema.safeParse('Ann\u0000'))).toEqual([expect.stringContaining('U+0000')])
})
