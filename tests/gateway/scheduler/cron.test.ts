// The 5-field cron parser: fields, ranges, steps, names, aliases, day-field semantics and errors.
import { describe, expect, it } from 'vitest'
import { CronError, nextCronTime, parseCron } from '../../../gateway/scheduler/index.ts'

const at = (iso: string) => Date.parse(iso)
const next = (expression: string, afterIso: string) =>
  new Date(nextCronTime(parseCron(expression), at(afterIso))).toISOString()

describe('parseCron', () => {
  it('expands lists, ranges, steps and names', () => {
    const s = parseCron('*/15 8-10,22 1 jan-mar mon-fri')
    expect([...s.minutes]).toEqual([0, 15, 30, 45])
    expect([...s.hours]).toEqual([8, 9, 10, 22])
    expect([...s.days]).toEqual([1])
    expect([...s.months]).toEqual([1, 2, 3])
    expect([...s.weekdays]).toEqual([1, 2, 3, 4, 5])
  })

  it('reads 7 as Sunday and "5/20" as from 5 every 20', () => {
    const s = parseCron('5/20 0 * * 7')
    expect([...s.minutes]).toEqual([5, 25, 45])
    expect([...s.weekdays]).toEqual([0])
  })

  it('reports the field and the problem', () => {
    const problem = (expression: string) => {
      try {
        parseCron(expression)
        return null
      } catch (error) {
        return error instanceof CronError ? [error.code, error.message] : error
      }
    }
    expect(problem('* * * *')).toEqual([
      'SCHEDULER_CRON_INVALID',
      'cron "* * * *": expected 5 fields (minute hour day month weekday), got 4',
    ])
    expect(problem('60 * * * *')).toEqual([
      'SCHEDULER_CRON_INVALID',
      'cron "60 * * * *": minute: 60 is outside 0-59',
    ])
    expect(problem('*/0 * * * *')).toEqual([
      'SCHEDULER_CRON_INVALID',
      'cron "*/0 * * * *": minute: step "0" must be a positive integer',
    ])
    expect(problem('* 5-2 * * *')).toEqual([
      'SCHEDULER_CRON_INVALID',
      'cron "* 5-2 * * *": hour: range 5-2 runs backwards',
    ])
    expect(problem('* * * foo *')).toEqual([
      'SCHEDULER_CRON_INVALID',
      'cron "* * * foo *": month: "foo" is not a number',
    ])
  })
})

describe('nextCronTime', () => {
  it('finds the next whole minute strictly after the given time', () => {
    expect(next('* * * * *', '2026-03-01T10:00:00.000Z')).toBe('2026-03-01T10:01:00.000Z')
    expect(next('* * * * *', '2026-03-01T10:00:59.999Z')).toBe('2026-03-01T10:01:00.000Z')
    expect(next('*/15 * * * *', '2026-03-01T10:14:00.000Z')).toBe('2026-03-01T10:15:00.000Z')
  })

  it('rolls over hours, days, months and years', () => {
    expect(next('30 2 * * *', '2026-03-01T03:00:00.000Z')).toBe('2026-03-02T02:30:00.000Z')
    expect(next('0 0 1 * *', '2026-12-15T00:00:00.000Z')).toBe('2027-01-01T00:00:00.000Z')
    expect(next('@yearly', '2026-06-01T00:00:00.000Z')).toBe('2027-01-01T00:00:00.000Z')
    expect(next('0 12 29 2 *', '2026-03-01T00:00:00.000Z')).toBe('2028-02-29T12:00:00.000Z')
  })

  it('runs on either day field when both are restricted, on both otherwise', () => {
    // 2026-03-02 is a Monday.
    expect(next('0 0 15 * mon', '2026-03-01T00:00:00.000Z')).toBe('2026-03-02T00:00:00.000Z')
    expect(next('0 0 * * mon', '2026-03-02T00:00:00.000Z')).toBe('2026-03-09T00:00:00.000Z')
    expect(next('0 0 15 * *', '2026-03-02T00:00:00.000Z')).toBe('2026-03-15T00:00:00.000Z')
  })

  it('refuses a schedule that never matches', () => {
    expect(() => nextCronTime(parseCron('0 0 30 2 *'), at('2026-01-01T00:00:00Z'))).toThrow(CronError)
  })
})
