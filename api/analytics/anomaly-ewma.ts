// EWMA control-chart anomaly detection, the TypeScript twin of ewma in the Rust core's anomaly.rs.
import { checkThreshold, createAnomalyCollector, ratio } from './anomaly-collector.ts'
import { EWMA_DEFAULT_ALPHA, EWMA_DEFAULT_LIMIT_SIGMAS } from './defaults.ts'
import { checkWholeNumber, paramError } from './errors.ts'
import { meanFromSum, NeumaierSum, populationStd } from './numeric.ts'
import { checkSeries, timeOrder, valuesInOrder } from './series.ts'
import type { Anomalies, EwmaParams, Series } from './types.ts'

function meanAndStd(values: Float64Array): [number, number] {
  const sum = new NeumaierSum()
  let min = values[0]!
  let max = values[0]!
  for (let i = 0; i < values.length; i++) {
    const x = values[i]!
    sum.add(x)
    if (x < min) min = x
    if (x > max) max = x
  }
  const mean = meanFromSum(values, sum.value())
  return [mean, populationStd(values, mean, min, max)]
}

/** z_t = α·x_t + (1-α)·z_{t-1}; anomalous when |z_t - μ| > L·σ·√(α/(2-α)·(1-(1-α)^(2t))). */
export function ewma(series: Series, params: EwmaParams = {}): Anomalies {
  const alpha = params.alpha ?? EWMA_DEFAULT_ALPHA
  const limitSigmas = params.limitSigmas ?? EWMA_DEFAULT_LIMIT_SIGMAS
  const baselinePoints = params.baselinePoints ?? 0
  // Same check order as the addon: whole-number conversion, then the series, then ranges.
  checkWholeNumber('baselinePoints', baselinePoints)
  checkSeries(series)
  if (!(alpha > 0 && alpha <= 1)) throw paramError('alpha', `must be in (0, 1], got ${alpha}`)
  checkThreshold('limitSigmas', limitSigmas)
  const out = createAnomalyCollector(series, limitSigmas)
  const n = series.values.length
  if (n === 0) return out.result()
  const order = timeOrder(series.tsMs)
  const sorted = valuesInOrder(series.values, order)
  const baselineLength = baselinePoints === 0 ? n : Math.min(baselinePoints, n)
  const [center, sigma] = meanAndStd(sorted.subarray(0, baselineLength))
  const keep = 1 - alpha
  const keepSquared = keep * keep
  const varianceFactor = alpha / (2 - alpha)
  let z = center
  // (1 - α)^(2t), updated by multiplication so both implementations round identically.
  let decay = 1
  for (let k = 0; k < n; k++) {
    z = alpha * sorted[k]! + keep * z
    decay *= keepSquared
    const spread = sigma * Math.sqrt(varianceFactor * (1 - decay))
    out.offer(order === null ? k : order[k]!, ratio(z - center, spread))
  }
  return out.result()
}
