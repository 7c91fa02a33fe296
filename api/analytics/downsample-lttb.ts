// Largest-Triangle-Three-Buckets downsampling, the TypeScript twin of lttb in the Rust core's downsample.rs.
import { checkWholeNumber, paramError } from './errors.ts'
import { checkSeries, timeOrder } from './series.ts'
import type { SampledPoints, Series } from './types.ts'

/** Values above this magnitude are divided by the largest one so triangle areas cannot overflow. */
const LTTB_SCALE_ABOVE = 1e100

/** Down to `points` (≥ 2) points in time order, keeping the first and last; all points when n ≤ points. */
export function lttb(series: Series, points: number): SampledPoints {
  checkWholeNumber('points', points)
  checkSeries(series)
  if (points < 2) throw paramError('points', `must be an integer ≥ 2, got ${points}`)
  const { tsMs, values } = series
  const n = values.length
  const order = timeOrder(tsMs)
  const at = (k: number) => (order === null ? k : order[k]!)
  const picked: number[] = []
  if (n <= points) {
    for (let k = 0; k < n; k++) picked.push(at(k))
  } else {
    let maxAbs = 0
    for (let i = 0; i < n; i++) if (Math.abs(values[i]!) > maxAbs) maxAbs = Math.abs(values[i]!)
    const scale = maxAbs > LTTB_SCALE_ABOVE ? maxAbs : 1
    const t = (k: number) => tsMs[at(k)]!
    const y = (k: number) => values[at(k)]! / scale
    picked.push(at(0))
    const every = (n - 2) / (points - 2)
    let a = 0
    for (let bucket = 0; bucket < points - 2; bucket++) {
      const avgStart = Math.floor((bucket + 1) * every) + 1
      const avgEnd = Math.min(Math.floor((bucket + 2) * every) + 1, n)
      let avgT = 0
      let avgY = 0
      for (let k = avgStart; k < avgEnd; k++) {
        avgT += t(k)
        avgY += y(k)
      }
      avgT /= avgEnd - avgStart
      avgY /= avgEnd - avgStart
      const rangeStart = Math.floor(bucket * every) + 1
      const rangeEnd = Math.floor((bucket + 1) * every) + 1
      const aT = t(a)
      const aY = y(a)
      let best = rangeStart
      let bestArea = -1
      for (let k = rangeStart; k < rangeEnd; k++) {
        // Twice the triangle area; the factor 1/2 does not change which point wins.
        const area = Math.abs((aT - avgT) * (y(k) - aY) - (aT - t(k)) * (avgY - aY))
        if (area > bestArea) {
          bestArea = area
          best = k
        }
      }
      picked.push(at(best))
      a = best
    }
    picked.push(at(n - 1))
  }
  const index = Uint32Array.from(picked)
  return {
    index,
    tsMs: Float64Array.from(index, (i) => tsMs[i]!),
    value: Float64Array.from(index, (i) => values[i]!),
  }
}
