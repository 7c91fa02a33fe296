// Rolling z-score anomaly detection, the TypeScript twin of rolling_zscore in the Rust core's anomaly.rs.
import { checkThreshold, createAnomalyCollector, ratio } from './anomaly-collector.ts'
import {
  ROLLING_ZSCORE_DEFAULT_THRESHOLD,
  ROLLING_ZSCORE_DEFAULT_WINDOW,
  ROLLING_ZSCORE_MAX_WINDOW,
} from './defaults.ts'
import { checkWholeNumber, paramError } from './errors.ts'
import { meanFromSum, populationStd } from './numeric.ts'
import { checkSeries, timeOrder, valuesInOrder } from './series.ts'
import type { Anomalies, RollingZScoreParams, Series } from './types.ts'

/** z = (x - mean) / population std of the `window` points preceding x in time order; first `window` points unscored. */
export function rollingZScore(series: Series, params: RollingZScoreParams = {}): Anomalies {
  const window = params.window ?? ROLLING_ZSCORE_DEFAULT_WINDOW
  const threshold = params.threshold ?? ROLLING_ZSCORE_DEFAULT_THRESHOLD
  // Same check order as the addon: whole-number conversion, then the series, then ranges.
  checkWholeNumber('window', window)
  checkSeries(series)
  if (window < 2 || window > ROLLING_ZSCORE_MAX_WINDOW) {
    throw paramError('window', `must be an integer in 2..=${ROLLING_ZSCORE_MAX_WINDOW}, got ${window}`)
  }
  checkThreshold('threshold', threshold)
  const out = createAnomalyCollector(series, threshold)
  const order = timeOrder(series.tsMs)
  const sorted = valuesInOrder(series.values, order)
  for (let k = window; k < sorted.length; k++) {
    const slice = sorted.subarray(k - window, k)
    let sum = 0
    let min = slice[0]!
    let max = slice[0]!
    for (let j = 0; j < window; j++) {
      const x = slice[j]!
      sum += x
      if (x < min) min = x
      if (x > max) max = x
    }
    const mean = meanFromSum(slice, sum)
    const std = populationStd(slice, mean, min, max)
    out.offer(order === null ? k : order[k]!, ratio(sorted[k]! - mean, std))
  }
  return out.result()
}
