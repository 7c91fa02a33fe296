// Robust (median/MAD) z-score anomaly detection, the TypeScript twin of robust_zscore in the Rust core.
import { checkThreshold, createAnomalyCollector, ratio } from './anomaly-collector.ts'
import {
  ROBUST_ZSCORE_DEFAULT_THRESHOLD,
  ROBUST_ZSCORE_MAD_FACTOR,
  ROBUST_ZSCORE_MEAN_AD_FACTOR,
} from './defaults.ts'
import { meanFromSum, NeumaierSum, percentilesInPlace } from './numeric.ts'
import { checkSeries, timeOrder } from './series.ts'
import type { Anomalies, RobustZScoreParams, Series } from './types.ts'

/** 0.6745·(x - median) / MAD over the whole series; MAD 0 falls back to 1.253314·mean absolute deviation. */
export function robustZScore(series: Series, params: RobustZScoreParams = {}): Anomalies {
  const threshold = params.threshold ?? ROBUST_ZSCORE_DEFAULT_THRESHOLD
  checkSeries(series)
  checkThreshold('threshold', threshold)
  const out = createAnomalyCollector(series, threshold)
  const { values } = series
  const n = values.length
  if (n === 0) return out.result()
  const scratch = values.slice()
  const median = percentilesInPlace(scratch, [0.5])[0]!
  for (let i = 0; i < n; i++) scratch[i] = Math.abs(values[i]! - median)
  const sum = new NeumaierSum()
  for (let i = 0; i < n; i++) sum.add(scratch[i]!)
  const meanAd = meanFromSum(scratch, sum.value())
  const mad = percentilesInPlace(scratch, [0.5])[0]!
  const order = timeOrder(series.tsMs)
  for (let k = 0; k < n; k++) {
    const i = order === null ? k : order[k]!
    const deviation = values[i]! - median
    const score =
      mad > 0
        ? ratio(ROBUST_ZSCORE_MAD_FACTOR * deviation, mad)
        : ratio(deviation, ROBUST_ZSCORE_MEAN_AD_FACTOR * meanAd)
    out.offer(i, score)
  }
  return out.result()
}
