// The analytics entry point: runs each function in the Rust addon (sync below a size, off the main thread
// above it) or in its TypeScript twin, and maps every failure to an AnalyticsError.
import { compute } from '../../crates/factory_compute/binding.ts'
import { ewma } from './anomaly-ewma.ts'
import { robustZScore } from './anomaly-robust-zscore.ts'
import { rollingZScore } from './anomaly-rolling-zscore.ts'
import { downsampleBuckets } from './downsample-buckets.ts'
import { lttb } from './downsample-lttb.ts'
import { AnalyticsError, fromEngineError } from './errors.ts'
import type {
  Anomalies,
  BucketParams,
  Buckets,
  EwmaParams,
  RobustZScoreParams,
  RollingZScoreParams,
  SampledPoints,
  Series,
  WindowStats,
} from './types.ts'
import { windowStats } from './window-stats.ts'

/** Series with at least this many points run as a napi AsyncTask on the libuv pool instead of blocking. */
export const ASYNC_THRESHOLD_POINTS = 50_000

export type AnalyticsEngine = 'auto' | 'rust' | 'ts'

export type AnalyticsFunction =
  | 'windowStats'
  | 'rollingZScore'
  | 'robustZScore'
  | 'ewma'
  | 'downsampleBuckets'
  | 'lttb'

/**
 * Below this many points `auto` runs the TypeScript twin, where crossing the boundary costs more than the
 * Rust core saves (figures in docs/analytics.md, from tests/bench/analytics-bench.ts).
 */
export const RUST_MIN_POINTS: Readonly<Record<AnalyticsFunction, number>> = Object.freeze({
  windowStats: 0,
  rollingZScore: 0,
  robustZScore: 0,
  ewma: 0,
  downsampleBuckets: 0,
  lttb: 0,
})

export interface AnalyticsOptions {
  /** `auto` (default) picks per function and size; `rust` and `ts` force one engine (tests, benchmarks). */
  engine?: AnalyticsEngine
  /** Default ASYNC_THRESHOLD_POINTS. */
  asyncThresholdPoints?: number
}

export interface Analytics {
  windowStats(series: Series): Promise<WindowStats>
  rollingZScore(series: Series, params?: RollingZScoreParams): Promise<Anomalies>
  robustZScore(series: Series, params?: RobustZScoreParams): Promise<Anomalies>
  ewma(series: Series, params?: EwmaParams): Promise<Anomalies>
  downsampleBuckets(series: Series, params: BucketParams): Promise<Buckets>
  lttb(series: Series, points: number): Promise<SampledPoints>
}

interface Route<R> {
  name: AnalyticsFunction
  twin: () => R
  sync: () => R
  async: () => Promise<R>
}

export function createAnalytics(options: AnalyticsOptions = {}): Analytics {
  const engine = options.engine ?? 'auto'
  const asyncThresholdPoints = options.asyncThresholdPoints ?? ASYNC_THRESHOLD_POINTS

  async function dispatch<R>(series: Series, route: Route<R>): Promise<R> {
    const points = series.values.length
    const useRust = engine === 'rust' || (engine === 'auto' && points >= RUST_MIN_POINTS[route.name])
    if (!useRust) return route.twin()
    try {
      return points >= asyncThresholdPoints ? await route.async() : route.sync()
    } catch (error) {
      throw error instanceof AnalyticsError ? error : fromEngineError(error)
    }
  }

  return {
    windowStats: (s) =>
      dispatch(s, {
        name: 'windowStats',
        twin: () => windowStats(s),
        sync: () => compute.analyticsWindowStats(s.tsMs, s.values),
        async: () => compute.analyticsWindowStatsAsync(s.tsMs, s.values),
      }),
    rollingZScore: (s, p = {}) =>
      dispatch(s, {
        name: 'rollingZScore',
        twin: () => rollingZScore(s, p),
        sync: () => compute.analyticsRollingZscore(s.tsMs, s.values, p),
        async: () => compute.analyticsRollingZscoreAsync(s.tsMs, s.values, p),
      }),
    robustZScore: (s, p = {}) =>
      dispatch(s, {
        name: 'robustZScore',
        twin: () => robustZScore(s, p),
        sync: () => compute.analyticsRobustZscore(s.tsMs, s.values, p),
        async: () => compute.analyticsRobustZscoreAsync(s.tsMs, s.values, p),
      }),
    ewma: (s, p = {}) =>
      dispatch(s, {
        name: 'ewma',
        twin: () => ewma(s, p),
        sync: () => compute.analyticsEwma(s.tsMs, s.values, p),
        async: () => compute.analyticsEwmaAsync(s.tsMs, s.values, p),
      }),
    downsampleBuckets: (s, p) =>
      dispatch(s, {
        name: 'downsampleBuckets',
        twin: () => downsampleBuckets(s, p),
        sync: () => compute.analyticsDownsampleBuckets(s.tsMs, s.values, p),
        async: () => compute.analyticsDownsampleBucketsAsync(s.tsMs, s.values, p),
      }),
    lttb: (s, points) =>
      dispatch(s, {
        name: 'lttb',
        twin: () => lttb(s, points),
        sync: () => compute.analyticsLttb(s.tsMs, s.values, points),
        async: () => compute.analyticsLttbAsync(s.tsMs, s.values, points),
      }),
  }
}
