// Bucket boundaries for a time range: fixed widths (s, m, h) aligned to the epoch, or calendar days,
// weeks (Monday) and months aligned to local midnight in an IANA time zone, DST-correct via Intl.

export type BucketUnit = 's' | 'm' | 'h' | 'd' | 'w' | 'M'
export interface BucketSpec {
  count: number
  unit: BucketUnit
}

const UNIT_MS: Record<'s' | 'm' | 'h', number> = { s: 1000, m: 60_000, h: 3_600_000 }
const BUCKET_FORMAT = /^([1-9]\d{0,5})(s|m|h|d|w|M)$/
/** A query may not ask for more buckets than this. */
export const MAX_BUCKETS = 100_000

export function parseBucket(text: string): BucketSpec | null {
  const match = BUCKET_FORMAT.exec(text)
  return match ? { count: Number(match[1]), unit: match[2] as BucketUnit } : null
}

const formatters = new Map<string, Intl.DateTimeFormat>()
function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone)
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    })
    formatters.set(timeZone, f)
  }
  return f
}

/** Local wall-clock fields of an instant in a zone. */
function localParts(tsMs: number, timeZone: string) {
  const parts: Record<string, number> = {}
  for (const p of formatter(timeZone).formatToParts(new Date(tsMs))) {
    if (p.type !== 'literal') parts[p.type] = Number(p.value)
  }
  return {
    year: parts.year!,
    month: parts.month!,
    day: parts.day!,
    hour: parts.hour!,
    minute: parts.minute!,
    second: parts.second!,
  }
}

/** Offset of the zone from UTC at an instant, in ms (positive east of Greenwich). */
export function zoneOffsetMs(tsMs: number, timeZone: string): number {
  const p = localParts(tsMs, timeZone)
  const asUtc = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second)
  return asUtc - (tsMs - (((tsMs % 1000) + 1000) % 1000))
}

/** The instant of local midnight starting a date (month may overflow; Date.UTC normalises it). */
export function localMidnight(year: number, month: number, day: number, timeZone: string): number {
  const wall = Date.UTC(year, month - 1, day)
  // Two passes settle the offset on either side of a DST change.
  let t = wall - zoneOffsetMs(wall, timeZone)
  t = wall - zoneOffsetMs(t, timeZone)
  return t
}

/** Bucket boundaries covering [fromMs, toMs): b[0] <= fromMs, b[n] >= toMs; bucket i is [b[i], b[i+1]). */
export function bucketBoundaries(spec: BucketSpec, fromMs: number, toMs: number, timeZone = 'UTC'): number[] {
  const starts: number[] = []
  if (spec.unit === 's' || spec.unit === 'm' || spec.unit === 'h') {
    const width = spec.count * UNIT_MS[spec.unit]
    const first = fromMs - (((fromMs % width) + width) % width)
    if ((toMs - first) / width > MAX_BUCKETS) throw new RangeError('too many buckets')
    let t = first
    for (; t < toMs; t += width) starts.push(t)
    starts.push(t)
    return starts
  }
  const p = localParts(fromMs, timeZone)
  let { year, month, day } = p
  if (spec.unit === 'w') {
    const weekday = new Date(Date.UTC(year, month - 1, day)).getUTCDay()
    day -= (weekday + 6) % 7
  }
  if (spec.unit === 'M') day = 1
  let t = localMidnight(year, month, day, timeZone)
  while (t < toMs) {
    starts.push(t)
    if (starts.length > MAX_BUCKETS) throw new RangeError('too many buckets')
    if (spec.unit === 'M') month += spec.count
    else day += spec.count * (spec.unit === 'w' ? 7 : 1)
    t = localMidnight(year, month, day, timeZone)
  }
  starts.push(t)
  return starts
}
