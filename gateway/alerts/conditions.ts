// Judges one reading against a rule's condition: trigger, clear, or hold (the hysteresis band between them).
import { compute } from '../../crates/factory_compute/binding.ts'
import type { AlertCondition } from '../../db/index.ts'
import type { HistoryNeeds, SensorHistory } from './sensor-history.ts'

export type Verdict = 'trigger' | 'clear' | 'hold' | 'unknown'

export const ANOMALY_DEFAULT_WINDOW_READINGS = 60
export const ANOMALY_DEFAULT_THRESHOLD = compute.analyticsDefaults().robustThreshold
/** A robust z-score needs a few readings before the median and MAD mean anything. */
export const ANOMALY_MIN_READINGS = 8
export const STALE_DEFAULT_FACTOR = 3

const band = (triggered: boolean, cleared: boolean): Verdict =>
  triggered ? 'trigger' : cleared ? 'clear' : 'hold'

/** Value conditions only; `stale` is judged by time, in the engine. */
export function judge(
  condition: AlertCondition,
  tsMs: number,
  value: number,
  history?: SensorHistory,
): Verdict {
  switch (condition.type) {
    case 'above':
      return band(value > condition.threshold, value <= (condition.clearThreshold ?? condition.threshold))
    case 'below':
      return band(value < condition.threshold, value >= (condition.clearThreshold ?? condition.threshold))
    case 'outside':
      return band(
        value < condition.low || value > condition.high,
        value >= (condition.clearLow ?? condition.low) && value <= (condition.clearHigh ?? condition.high),
      )
    case 'rate': {
      const oldest = history?.oldestSince(tsMs - condition.windowMs)
      if (!oldest || oldest.tsMs >= tsMs) return 'unknown'
      const perSecond = Math.abs(((value - oldest.value) * 1000) / (tsMs - oldest.tsMs))
      return band(
        perSecond > condition.limitPerSecond,
        perSecond <= (condition.clearLimitPerSecond ?? condition.limitPerSecond),
      )
    }
    case 'anomaly': {
      const score = anomalyScore(condition, history)
      if (score === undefined) return 'unknown'
      const threshold = condition.threshold ?? ANOMALY_DEFAULT_THRESHOLD
      return band(score > threshold, score <= (condition.clearThreshold ?? threshold))
    }
    case 'stale':
      return 'unknown'
  }
}

/**
 * |robust z-score| of the newest reading against the recent window, computed by the Rust analytics core.
 * The core reports only points above a threshold, so it is asked with the clear threshold: a point it
 * does not report is in the clear zone, and its exact score is not needed.
 */
function anomalyScore(
  condition: Extract<AlertCondition, { type: 'anomaly' }>,
  history?: SensorHistory,
): number | undefined {
  const window = condition.windowReadings ?? ANOMALY_DEFAULT_WINDOW_READINGS
  if (!history || history.length < ANOMALY_MIN_READINGS) return undefined
  const { tsMs, values } = history.tail(window)
  const threshold = condition.threshold ?? ANOMALY_DEFAULT_THRESHOLD
  const result = compute.analyticsRobustZscore(tsMs, values, {
    threshold: condition.clearThreshold ?? threshold,
  })
  const last = result.index.length - 1
  if (last < 0 || result.index[last] !== values.length - 1) return 0
  return Math.abs(result.score[last]!)
}

/** The history a condition needs, or null when it needs none. */
export function historyNeeds(condition: AlertCondition): HistoryNeeds | null {
  if (condition.type === 'rate') return { count: 1, ageMs: condition.windowMs }
  if (condition.type === 'anomaly')
    return { count: condition.windowReadings ?? ANOMALY_DEFAULT_WINDOW_READINGS, ageMs: 0 }
  return null
}
