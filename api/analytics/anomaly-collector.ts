// Collects anomalous points into typed-array columns, and the score rule shared by the anomaly detectors.
import { paramError } from './errors.ts'
import type { Anomalies, Series } from './types.ts'

/** Deviation over spread; a deviation from a zero spread scores ±Infinity, no deviation scores 0. */
export function ratio(deviation: number, spread: number): number {
  if (spread > 0) return deviation / spread
  if (deviation === 0) return 0
  return deviation > 0 ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY
}

export interface AnomalyCollector {
  /** Keeps point `i` (input position) when |score| > threshold. */
  offer(i: number, score: number): void
  result(): Anomalies
}

export function createAnomalyCollector(series: Series, threshold: number): AnomalyCollector {
  const index: number[] = []
  const score: number[] = []
  return {
    offer(i, s) {
      if (Math.abs(s) > threshold) {
        index.push(i)
        score.push(s)
      }
    },
    result() {
      const idx = Uint32Array.from(index)
      return {
        threshold,
        index: idx,
        tsMs: Float64Array.from(idx, (i) => series.tsMs[i]!),
        value: Float64Array.from(idx, (i) => series.values[i]!),
        score: Float64Array.from(score),
      }
    },
  }
}

export function checkThreshold(field: string, threshold: number): void {
  if (!(Number.isFinite(threshold) && threshold > 0)) {
    throw paramError(field, `must be a finite number > 0, got ${threshold}`)
  }
}
