// Input and result shapes shared by the TypeScript twins and the Rust addon: columns of typed arrays.

/** A series: parallel columns, any order, timestamps may repeat. */
export interface Series {
  tsMs: Float64Array
  values: Float64Array
}

/** Statistics of a series. Empty: count 0, sum 0, firstIndex/lastIndex -1, every other field NaN. */
export interface WindowStats {
  count: number
  min: number
  max: number
  sum: number
  mean: number
  /** Population standard deviation (divides by n). */
  std: number
  firstIndex: number
  firstTsMs: number
  firstValue: number
  lastIndex: number
  lastTsMs: number
  lastValue: number
  p50: number
  p90: number
  p95: number
  p99: number
}

/** Anomalous points in time order (ties: input order); |score| > threshold for each. */
export interface Anomalies {
  threshold: number
  index: Uint32Array
  tsMs: Float64Array
  value: Float64Array
  score: Float64Array
}

/** Non-empty buckets in time order. */
export interface Buckets {
  startMs: Float64Array
  count: Uint32Array
  min: Float64Array
  max: Float64Array
  avg: Float64Array
  first: Float64Array
  last: Float64Array
}

/** Points selected by a downsampler, in time order; `index` is the position in the input. */
export interface SampledPoints {
  index: Uint32Array
  tsMs: Float64Array
  value: Float64Array
}

export interface RollingZScoreParams {
  /** Preceding points each point is compared with, 2..10 000 (default 60). */
  window?: number
  /** Flag |z| above this (default 3). */
  threshold?: number
}

export interface RobustZScoreParams {
  /** Flag |modified z| above this (default 3.5). */
  threshold?: number
}

export interface EwmaParams {
  /** Smoothing factor in (0, 1] (default 0.3). */
  alpha?: number
  /** Control limits at ± this many sigmas of the EWMA statistic (default 3). */
  limitSigmas?: number
  /** Points (in time order) forming the in-control baseline; 0 = all (default 0). */
  baselinePoints?: number
}

export interface BucketParams {
  /** Bucket width in ms, > 0. */
  bucketMs: number
  /** Buckets start at originMs + k·bucketMs (default 0). */
  originMs?: number
}
