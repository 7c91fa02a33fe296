// Numerically careful building blocks, the same operations in the same order as the Rust core's numeric.rs.

/** Neumaier's compensated sum. */
export class NeumaierSum {
  private sum = 0
  private compensation = 0

  add(x: number): void {
    const t = this.sum + x
    if (Math.abs(this.sum) >= Math.abs(x)) this.compensation += this.sum - t + x
    else this.compensation += x - t + this.sum
    this.sum = t
  }

  /** The sum; an overflowed running sum is reported as is (the compensation would be NaN). */
  value(): number {
    return Number.isFinite(this.sum) ? this.sum + this.compensation : this.sum
  }
}

/** Mean given the sum; when the sum overflowed, averages x / n terms instead. */
export function meanFromSum(values: Float64Array, sum: number): number {
  const n = values.length
  if (Number.isFinite(sum)) return sum / n
  const scaled = new NeumaierSum()
  for (let i = 0; i < n; i++) scaled.add(values[i]! / n)
  return scaled.value()
}

const UNSCALED_RANGE_MIN = 1e-100
const UNSCALED_RANGE_MAX = 1e100

/** Population standard deviation around `mean`; deviations divided by the range when squares could over/underflow. */
export function populationStd(values: Float64Array, mean: number, min: number, max: number): number {
  const n = values.length
  if (n === 0) return Number.NaN
  const range = max - min
  if (range === 0) return 0
  let squares = 0
  if (range >= UNSCALED_RANGE_MIN && range <= UNSCALED_RANGE_MAX) {
    for (let i = 0; i < n; i++) {
      const d = values[i]! - mean
      squares += d * d
    }
    return Math.sqrt(squares / n)
  }
  for (let i = 0; i < n; i++) {
    const d = (values[i]! - mean) / range
    squares += d * d
  }
  return range * Math.sqrt(squares / n)
}

export const STATS_PERCENTILES = [0.5, 0.9, 0.95, 0.99] as const

/** Lower closest rank and interpolation fraction of percentile p among n sorted values. */
export function rankOf(n: number, p: number): [number, number] {
  const h = (n - 1) * p
  const lo = Math.floor(h)
  const loRank = Math.min(lo, n - 1)
  return [loRank, loRank === n - 1 ? 0 : h - lo]
}

/** a + (b - a)·t, exact when a === b; a·(1 - t) + b·t if b - a overflows. */
export function interpolate(a: number, b: number, t: number): number {
  const span = b - a
  return Number.isFinite(span) ? a + span * t : a * (1 - t) + b * t
}

/**
 * Exact percentiles by linear interpolation between closest ranks (numpy's default): sorts `values` in
 * place (the reference; Rust selects instead) and reads ranks ⌊(n-1)p⌋ and the next one. NaN when empty.
 */
export function percentilesInPlace(values: Float64Array, ps: readonly number[]): number[] {
  const n = values.length
  if (n === 0) return ps.map(() => Number.NaN)
  values.sort()
  return ps.map((p) => {
    const [lo, frac] = rankOf(n, p)
    return frac > 0 ? interpolate(values[lo]!, values[lo + 1]!, frac) : values[lo]!
  })
}
