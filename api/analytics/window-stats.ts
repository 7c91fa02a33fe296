// Window statistics, the TypeScript twin of the Rust core's stats.rs (and the reference it is tested against).
import { meanFromSum, NeumaierSum, percentilesInPlace, populationStd, STATS_PERCENTILES } from './numeric.ts'
import { checkSeries } from './series.ts'
import type { Series, WindowStats } from './types.ts'

const EMPTY_STATS: WindowStats = Object.freeze({
  count: 0,
  min: Number.NaN,
  max: Number.NaN,
  sum: 0,
  mean: Number.NaN,
  std: Number.NaN,
  firstIndex: -1,
  firstTsMs: Number.NaN,
  firstValue: Number.NaN,
  lastIndex: -1,
  lastTsMs: Number.NaN,
  lastValue: Number.NaN,
  p50: Number.NaN,
  p90: Number.NaN,
  p95: Number.NaN,
  p99: Number.NaN,
})

/** Count, extremes, compensated sum, mean, population std, first/last by time, exact p50/p90/p95/p99. */
export function windowStats(series: Series): WindowStats {
  checkSeries(series)
  const { tsMs, values } = series
  const n = values.length
  if (n === 0) return { ...EMPTY_STATS }
  let min = values[0]!
  let max = values[0]!
  const sum = new NeumaierSum()
  let first = 0
  let last = 0
  for (let i = 0; i < n; i++) {
    const x = values[i]!
    const t = tsMs[i]!
    if (x < min) min = x
    if (x > max) max = x
    sum.add(x)
    // Strict `<` keeps the earliest input position on ties for first, `>=` the latest for last.
    if (t < tsMs[first]!) first = i
    if (t >= tsMs[last]!) last = i
  }
  const total = sum.value()
  const mean = meanFromSum(values, total)
  const std = populationStd(values, mean, min, max)
  const [p50, p90, p95, p99] = percentilesInPlace(values.slice(), STATS_PERCENTILES) as [
    number,
    number,
    number,
    number,
  ]
  return {
    count: n,
    min,
    max,
    sum: total,
    mean,
    std,
    firstIndex: first,
    firstTsMs: tsMs[first]!,
    firstValue: values[first]!,
    lastIndex: last,
    lastTsMs: tsMs[last]!,
    lastValue: values[last]!,
    p50,
    p90,
    p95,
    p99,
  }
}
