import { describe, expect, test } from 'vitest'
import {
  allTimeZones,
  clinicInstant,
  clinicDay,
  clinicDayAndTime,
  clinicTimeZone,
  DEFAULT_TIME_ZONE,
  formatClinicTime,
  isTimeZone,
  nextDay,
  startOfClinicDay,
  zoneAbbreviation,
} from './clinic-time'

describe('clinic time', () => {
  test('the day and the time read at once are what each reads alone, in every zone, for any instant', () => {
    for (const zone of ['America/Toronto', 'America/St_Johns', 'America/Vancouver', 'UTC', 'Not/A_Zone'])
      for (const at of ['2026-03-08T06:59:59Z', '2026-03-08T07:00:00Z', '2026-11-01T03:31:00Z', '2026-12-31T23:59:59Z', 'not a time'])
        expect(clinicDayAndTime(at, zone), `${zone} ${at}`).toEqual({ day: clinicDay(at, zone), time: formatClinicTime(at, zone) })
    expect(clinicDayAndTime('2026-01-15T14:30:00Z', 'America/Toronto')).toEqual({ day: '2026-01-15', time: '2026-01-15 09:30 EST' })
  })
  test('a Toronto clinic reads EST in winter and EDT in summer', () => {
    expect(formatClinicTime('2026-01-15T14:30:00Z', 'America/Toronto')).toBe('2026-01-15 09:30 EST')
    expect(formatClinicTime('2026-07-15T14:30:00Z', 'America/Toronto')).toBe('2026-07-15 10:30 EDT')
    expect(formatClinicTime(new Date('2026-07-15T14:30:05Z'), 'America/Toronto', { seconds: true })).toBe('2026-07-15 10:30:05 EDT')
  })

  test('the day can differ from the UTC day, midnight is 00', () => {
    expect(formatClinicTime('2026-01-16T03:00:00Z', 'America/Toronto')).toBe('2026-01-15 22:00 EST')
    expect(formatClinicTime('2026-01-15T05:00:00Z', 'America/Toronto')).toBe('2026-01-15 00:00 EST')
    expect(clinicDay('2026-01-16T03:00:00Z', 'America/Toronto')).toBe('2026-01-15')
    expect(formatClinicTime('2026-01-15T00:00:00Z', 'UTC')).toBe('2026-01-15 00:00 UTC')
  })

  test('other Canadian zones are named', () => {
    expect(zoneAbbreviation('America/Vancouver', '2026-01-15T12:00:00Z')).toBe('PST')
    expect(zoneAbbreviation('America/St_Johns', '2026-07-15T12:00:00Z')).toBe('NDT')
    expect(zoneAbbreviation('America/Regina', '2026-07-15T12:00:00Z')).toBe('CST')
  })

  test('a clinic day starts at its own midnight, through clock changes', () => {
    expect(startOfClinicDay('2026-01-15', 'America/Toronto')?.toISOString()).toBe('2026-01-15T05:00:00.000Z')
    expect(startOfClinicDay('2026-07-15', 'America/Toronto')?.toISOString()).toBe('2026-07-15T04:00:00.000Z')
    // Clocks go forward on 2026-03-08 and back on 2026-11-01 in Toronto: both days still start at 00:00 local.
    expect(startOfClinicDay('2026-03-08', 'America/Toronto')?.toISOString()).toBe('2026-03-08T05:00:00.000Z')
    expect(startOfClinicDay('2026-03-09', 'America/Toronto')?.toISOString()).toBe('2026-03-09T04:00:00.000Z')
    expect(startOfClinicDay('2026-11-01', 'America/Toronto')?.toISOString()).toBe('2026-11-01T04:00:00.000Z')
    expect(startOfClinicDay('2026-11-02', 'America/Toronto')?.toISOString()).toBe('2026-11-02T05:00:00.000Z')
    expect(startOfClinicDay('2026-01-15', 'Asia/Kolkata')?.toISOString()).toBe('2026-01-14T18:30:00.000Z')
    expect(startOfClinicDay('2026-1-15', 'America/Toronto')).toBeNull()
    expect(nextDay('2026-12-31')).toBe('2027-01-01')
    expect(nextDay('2028-02-28')).toBe('2028-02-29')
  })

  test("a wall-clock time on a clinic's day is its instant", () => {
    expect(clinicInstant('2026-01-15', '09:30', 'America/Toronto')?.toISOString()).toBe('2026-01-15T14:30:00.000Z')
    expect(clinicInstant('2026-07-15', '09:30', 'America/Toronto')?.toISOString()).toBe('2026-07-15T13:30:00.000Z')
    // The day clocks go forward: before 02:00 EST, after it EDT.
    expect(clinicInstant('2026-03-08', '01:30', 'America/Toronto')?.toISOString()).toBe('2026-03-08T06:30:00.000Z')
    expect(clinicInstant('2026-03-08', '09:00', 'America/Toronto')?.toISOString()).toBe('2026-03-08T13:00:00.000Z')
    expect(clinicInstant('2026-01-15', '23:59', 'UTC')?.toISOString()).toBe('2026-01-15T23:59:00.000Z')
    expect(clinicInstant('2026-01-15', '24:00', 'America/Toronto')).toBeNull()
    expect(clinicInstant('2026-01-15', '9:30', 'America/Toronto')).toBeNull()
  })

  test('only real zone names are zones; anything else falls back to Toronto', () => {
    expect(isTimeZone('America/Toronto')).toBe(true)
    expect(isTimeZone('UTC')).toBe(true)
    for (const bad of ['Mars/Olympus', '', 'America/Toronto; drop table', 'x'.repeat(100), 42, null, '../etc/passwd'])
      expect(isTimeZone(bad), String(bad)).toBe(false)
    expect(clinicTimeZone({})).toBe(DEFAULT_TIME_ZONE)
    expect(clinicTimeZone(null)).toBe(DEFAULT_TIME_ZONE)
    expect(clinicTimeZone({ timeZone: 'Mars/Olympus' })).toBe(DEFAULT_TIME_ZONE)
    expect(clinicTimeZone({ timeZone: 'America/Vancouver' })).toBe('America/Vancouver')
    expect(formatClinicTime('not a time', 'America/Toronto')).toBe('')
    expect(allTimeZones()).toContain('America/Toronto')
    expect(allTimeZones()).toContain('UTC')
  })
})
