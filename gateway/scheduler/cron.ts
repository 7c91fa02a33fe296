// A 5-field cron expression parser (minute hour day-of-month month day-of-week), evaluated in UTC.

export class CronError extends Error {
  readonly code = 'SCHEDULER_CRON_INVALID'
  constructor(expression: string, problem: string) {
    super(`cron "${expression}": ${problem}`)
    this.name = 'CronError'
  }
}

export interface CronSchedule {
  expression: string
  minutes: Set<number>
  hours: Set<number>
  days: Set<number>
  months: Set<number>
  weekdays: Set<number>
  /** Vixie cron: when both day fields are restricted, a day matching either runs. */
  daysRestricted: boolean
  weekdaysRestricted: boolean
}

const ALIASES: Record<string, string> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
}
const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec']
const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat']

interface FieldSpec {
  name: string
  min: number
  max: number
  names?: string[]
  namesFrom?: number
}

const FIELDS: FieldSpec[] = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12, names: MONTHS, namesFrom: 1 },
  // 7 is Sunday too, as in most crons.
  { name: 'day of week', min: 0, max: 7, names: WEEKDAYS, namesFrom: 0 },
]

function parseField(expression: string, raw: string, spec: FieldSpec): Set<number> {
  const out = new Set<number>()
  const value = (token: string): number => {
    const lower = token.toLowerCase()
    const named = spec.names?.indexOf(lower) ?? -1
    if (named >= 0) return named + (spec.namesFrom ?? 0)
    if (!/^\d+$/.test(token)) throw new CronError(expression, `${spec.name}: "${token}" is not a number`)
    const n = Number(token)
    if (n < spec.min || n > spec.max)
      throw new CronError(expression, `${spec.name}: ${n} is outside ${spec.min}-${spec.max}`)
    return n
  }
  for (const part of raw.split(',')) {
    const [range, stepText, extra] = part.split('/')
    if (range === undefined || range === '' || extra !== undefined)
      throw new CronError(expression, `${spec.name}: "${part}" is malformed`)
    let step = 1
    if (stepText !== undefined) {
      if (!/^\d+$/.test(stepText) || Number(stepText) === 0)
        throw new CronError(expression, `${spec.name}: step "${stepText}" must be a positive integer`)
      step = Number(stepText)
    }
    let from: number
    let to: number
    if (range === '*') {
      from = spec.min
      to = spec.max
    } else if (range.includes('-')) {
      const [a, b] = range.split('-')
      from = value(a ?? '')
      to = value(b ?? '')
      if (from > to) throw new CronError(expression, `${spec.name}: range ${range} runs backwards`)
    } else {
      from = value(range)
      to = stepText === undefined ? from : spec.max
    }
    for (let n = from; n <= to; n += step) out.add(n)
  }
  return out
}

export function parseCron(expression: string): CronSchedule {
  const text = ALIASES[expression.trim().toLowerCase()] ?? expression.trim()
  const fields = text.split(/\s+/)
  if (fields.length !== 5)
    throw new CronError(expression, `expected 5 fields (minute hour day month weekday), got ${fields.length}`)
  const [minutes, hours, days, months, weekdays] = fields.map((f, i) => parseField(expression, f, FIELDS[i]!))
  if (weekdays!.delete(7)) weekdays!.add(0)
  return {
    expression,
    minutes: minutes!,
    hours: hours!,
    days: days!,
    months: months!,
    weekdays: weekdays!,
    daysRestricted: fields[2] !== '*',
    weekdaysRestricted: fields[4] !== '*',
  }
}

function dayMatches(s: CronSchedule, date: Date): boolean {
  const day = s.days.has(date.getUTCDate())
  const weekday = s.weekdays.has(date.getUTCDay())
  if (s.daysRestricted && s.weekdaysRestricted) return day || weekday
  return day && weekday
}

// Eight years cover every leap-day schedule; anything not due by then never is (e.g. "0 0 30 2 *").
const SEARCH_LIMIT_MS = 8 * 366 * 86_400_000

/** The first time strictly after `afterMs` (epoch ms, UTC) that the schedule matches, at a whole minute. */
export function nextCronTime(schedule: CronSchedule, afterMs: number): number {
  const date = new Date(Math.floor(afterMs / 60_000) * 60_000 + 60_000)
  const limit = afterMs + SEARCH_LIMIT_MS
  while (date.getTime() <= limit) {
    if (!schedule.months.has(date.getUTCMonth() + 1)) {
      date.setUTCMonth(date.getUTCMonth() + 1, 1)
      date.setUTCHours(0, 0, 0, 0)
    } else if (!dayMatches(schedule, date)) {
      date.setUTCDate(date.getUTCDate() + 1)
      date.setUTCHours(0, 0, 0, 0)
    } else if (!schedule.hours.has(date.getUTCHours())) {
      date.setUTCHours(date.getUTCHours() + 1, 0, 0, 0)
    } else if (!schedule.minutes.has(date.getUTCMinutes())) {
      date.setUTCMinutes(date.getUTCMinutes() + 1, 0, 0)
    } else {
      return date.getTime()
    }
  }
  throw new CronError(schedule.expression, 'never matches a real date')
}
