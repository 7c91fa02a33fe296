// Series validation and time order, the same rules as the Rust core's series.rs.
import { AnalyticsError } from './errors.ts'
import type { Series } from './types.ts'

const MAX_POINTS = 0xffff_ffff

function firstNonFinite(column: Float64Array): number {
  for (let i = 0; i < column.length; i++) {
    if (!Number.isFinite(column[i]!)) return i
  }
  return -1
}

/** Throws unless the columns have equal lengths, every entry is finite and indices fit a u32. */
export function checkSeries(series: Series): void {
  const { tsMs, values } = series
  if (tsMs.length !== values.length) {
    throw new AnalyticsError(
      'ANALYTICS_SERIES_LENGTH_MISMATCH',
      'values',
      `has ${values.length} entries but tsMs has ${tsMs.length}`,
    )
  }
  if (values.length > MAX_POINTS) {
    throw new AnalyticsError('ANALYTICS_SERIES_TOO_LONG', 'values', `has ${values.length} entries`)
  }
  for (const [field, column] of [
    ['tsMs', tsMs],
    ['values', values],
  ] as const) {
    const at = firstNonFinite(column)
    if (at >= 0)
      throw new AnalyticsError('ANALYTICS_SERIES_NOT_FINITE', field, `entry ${at} is ${column[at]}`)
  }
}

/** Input positions in time order (ties keep input order), or null when the input is already sorted. */
export function timeOrder(tsMs: Float64Array): Uint32Array | null {
  let sorted = true
  for (let i = 1; i < tsMs.length; i++) {
    if (tsMs[i - 1]! > tsMs[i]!) {
      sorted = false
      break
    }
  }
  if (sorted) return null
  const order = new Uint32Array(tsMs.length)
  for (let i = 0; i < order.length; i++) order[i] = i
  return order.sort((a, b) => tsMs[a]! - tsMs[b]! || a - b)
}

/** Values in time order; the input itself when already sorted. */
export function valuesInOrder(values: Float64Array, order: Uint32Array | null): Float64Array {
  if (order === null) return values
  const out = new Float64Array(values.length)
  for (let k = 0; k < out.length; k++) out[k] = values[order[k]!]!
  return out
}
