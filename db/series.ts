// Bucketed aggregates of one sensor: answered from the coarsest rollup tier whose grid divides every
// bucket edge, plus the hot log; from raw points otherwise. Optional gap filling.

import { type BucketSpec, bucketBoundaries } from './buckets.ts'
import type { PointReader } from './chunks.ts'
import { type Aggregate, addPoint, HOUR_MS, MINUTE_MS, mergeAggregate, type RollupStore } from './rollups.ts'

export type Fill = 'none' | 'null' | 'previous' | 'linear'
export type Tier = 'raw' | '1m' | '1h'

export interface BucketQuery {
  fromMs: number
  toMs: number
  bucket: BucketSpec
  timeZone?: string
  fill?: Fill
  /** Force a tier (tests compare tiers with raw); by default the coarsest exact one. */
  tier?: Tier
}

export interface BucketRow {
  startMs: number
  endMs: number
  count: number
  min: number | null
  max: number | null
  avg: number | null
  sum: number | null
  first: number | null
  last: number | null
}

export interface BucketResult {
  tier: Tier
  buckets: BucketRow[]
}

const VALUE_FIELDS = ['min', 'max', 'avg', 'sum', 'first', 'last'] as const

/** Index of the bucket containing t: the last boundary <= t. */
function bucketOf(edges: number[], t: number): number {
  let lo = 0
  let hi = edges.length - 2
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1
    if (edges[mid]! <= t) lo = mid
    else hi = mid - 1
  }
  return lo
}

export function coarsestTier(edges: number[]): Tier {
  if (edges.every((t) => t % HOUR_MS === 0)) return '1h'
  if (edges.every((t) => t % MINUTE_MS === 0)) return '1m'
  return 'raw'
}

export function createSeriesQueries(points: PointReader, rollups: RollupStore) {
  return {
    buckets(sensorId: number, query: BucketQuery): BucketResult {
      const { fromMs, toMs } = query
      const boundaries = bucketBoundaries(query.bucket, fromMs, toMs, query.timeZone ?? 'UTC')
      // Edges actually cut: the range ends and the boundaries inside it.
      const edges = [fromMs, ...boundaries.slice(1, -1), toMs]
      const tier = query.tier ?? coarsestTier(edges)
      const aggs: (Aggregate | undefined)[] = new Array(edges.length - 1)
      // Rollups and hot blocks from one snapshot: a compaction moves readings from one to the other.
      points.snapshot(() => {
        if (tier === 'raw') {
          const p = points.points(sensorId, fromMs, toMs)
          for (let i = 0; i < p.tsMs.length; i++) {
            const b = bucketOf(edges, p.tsMs[i]!)
            aggs[b] = addPoint(aggs[b], p.tsMs[i]!, p.values[i]!)
          }
        } else {
          for (const [startMs, a] of rollups.read(
            tier === '1h' ? 'rollups_1h' : 'rollups_1m',
            sensorId,
            fromMs,
            toMs,
          )) {
            const b = bucketOf(edges, startMs)
            aggs[b] = mergeAggregate(aggs[b], a)
          }
          for (const [t, v] of points.hotPoints(sensorId, fromMs, toMs)) {
            const b = bucketOf(edges, t)
            aggs[b] = addPoint(aggs[b], t, v)
          }
        }
      })
      const rows: BucketRow[] = []
      for (let i = 0; i < aggs.length; i++) {
        const a = aggs[i]
        const startMs = boundaries[i]!
        const endMs = boundaries[i + 1]!
        if (a) {
          rows.push({
            startMs,
            endMs,
            count: a.count,
            min: a.min,
            max: a.max,
            avg: a.sum / a.count,
            sum: a.sum,
            first: a.first,
            last: a.last,
          })
        } else if ((query.fill ?? 'none') !== 'none') {
          rows.push({
            startMs,
            endMs,
            count: 0,
            min: null,
            max: null,
            avg: null,
            sum: null,
            first: null,
            last: null,
          })
        }
      }
      if (query.fill === 'previous') fillPrevious(rows)
      if (query.fill === 'linear') fillLinear(rows)
      return { tier, buckets: rows }
    },
  }
}

function fillPrevious(rows: BucketRow[]): void {
  let previous: BucketRow | null = null
  for (const row of rows) {
    if (row.count > 0) previous = row
    else if (previous) for (const f of VALUE_FIELDS) row[f] = previous[f]
  }
}

/** Empty buckets between two filled ones get values interpolated by bucket start time. */
function fillLinear(rows: BucketRow[]): void {
  let before = -1
  for (let i = 0; i < rows.length; i++) {
    if (rows[i]!.count === 0) continue
    if (before >= 0 && i - before > 1) {
      const a = rows[before]!
      const b = rows[i]!
      for (let j = before + 1; j < i; j++) {
        const f = (rows[j]!.startMs - a.startMs) / (b.startMs - a.startMs)
        for (const k of VALUE_FIELDS) rows[j]![k] = a[k]! + (b[k]! - a[k]!) * f
      }
    }
    before = i
  }
}
