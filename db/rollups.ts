// Rollup tiers (1 minute, 1 hour) of chunked readings: mergeable aggregates, their upsert and lookup.
import type { Statement } from 'better-sqlite3'
import type { Sqlite } from './connection.ts'
import { multiRowInsert } from './multi-row.ts'

export const MINUTE_MS = 60_000
export const HOUR_MS = 3_600_000

/** Mergeable aggregate of one bucket; first/last carry their timestamps so partial buckets merge exactly. */
export interface Aggregate {
  count: number
  min: number
  max: number
  sum: number
  firstTsMs: number
  first: number
  lastTsMs: number
  last: number
}

/** Aggregates of many (sensor, bucket) pairs as columns. */
export interface AggregateColumns {
  sensorId: Int32Array
  bucketMs: Float64Array
  count: Float64Array
  min: Float64Array
  max: Float64Array
  sum: Float64Array
  firstTsMs: Float64Array
  first: Float64Array
  lastTsMs: Float64Array
  last: Float64Array
}

export const TIERS = [
  { name: 'rollups_1h', widthMs: HOUR_MS },
  { name: 'rollups_1m', widthMs: MINUTE_MS },
] as const
export type TierName = (typeof TIERS)[number]['name']

export function addPoint(into: Aggregate | undefined, tsMs: number, value: number): Aggregate {
  if (!into) {
    return {
      count: 1,
      min: value,
      max: value,
      sum: value,
      firstTsMs: tsMs,
      first: value,
      lastTsMs: tsMs,
      last: value,
    }
  }
  into.count++
  if (value < into.min) into.min = value
  if (value > into.max) into.max = value
  into.sum += value
  if (tsMs < into.firstTsMs) {
    into.firstTsMs = tsMs
    into.first = value
  }
  if (tsMs > into.lastTsMs) {
    into.lastTsMs = tsMs
    into.last = value
  }
  return into
}

export function mergeAggregate(into: Aggregate | undefined, other: Aggregate): Aggregate {
  if (!into) return { ...other }
  into.count += other.count
  into.min = Math.min(into.min, other.min)
  into.max = Math.max(into.max, other.max)
  into.sum += other.sum
  if (other.firstTsMs < into.firstTsMs) {
    into.firstTsMs = other.firstTsMs
    into.first = other.first
  }
  if (other.lastTsMs > into.lastTsMs) {
    into.lastTsMs = other.lastTsMs
    into.last = other.last
  }
  return into
}

/** Aggregates one sensor's points into fixed epoch-aligned buckets of `widthMs`. */
export function bucketPoints(tsMs: ArrayLike<number>, values: ArrayLike<number>, widthMs: number) {
  const out = new Map<number, Aggregate>()
  for (let i = 0; i < tsMs.length; i++) {
    const t = tsMs[i]!
    const bucket = t - (((t % widthMs) + widthMs) % widthMs)
    out.set(bucket, addPoint(out.get(bucket), t, values[i]!))
  }
  return out
}

const COLUMNS = 'count, min, max, sum, first_ts_ms, first, last_ts_ms, last'

export function createRollupStore(db: Sqlite) {
  const upsertSql = (table: TierName) => (values: string) =>
    `INSERT INTO ${table} (bucket_ms, sensor_id, ${COLUMNS}) VALUES ${values}
     ON CONFLICT (bucket_ms, sensor_id) DO UPDATE SET count = count + excluded.count,
     min = min(min, excluded.min), max = max(max, excluded.max), sum = sum + excluded.sum,
     first = CASE WHEN excluded.first_ts_ms < first_ts_ms THEN excluded.first ELSE first END,
     first_ts_ms = min(first_ts_ms, excluded.first_ts_ms),
     last = CASE WHEN excluded.last_ts_ms > last_ts_ms THEN excluded.last ELSE last END,
     last_ts_ms = max(last_ts_ms, excluded.last_ts_ms)`
  const upsert = Object.fromEntries(
    TIERS.map((t) => [t.name, multiRowInsert(db, 10, upsertSql(t.name))]),
  ) as Record<TierName, ReturnType<typeof multiRowInsert>>
  // One seek per bucket: the key is time first, so a range scan would walk every sensor's rows.
  const select = Object.fromEntries(
    TIERS.map((t) => [
      t.name,
      db
        .prepare(
          `WITH RECURSIVE b(t) AS (SELECT ? UNION ALL SELECT t + ? FROM b WHERE t + ? < ?)
           SELECT r.bucket_ms, r.${COLUMNS.replaceAll(', ', ', r.')} FROM b
           JOIN ${t.name} r ON r.bucket_ms = b.t AND r.sensor_id = ?`,
        )
        .raw(),
    ]),
  ) as Record<TierName, Statement>

  return {
    /** Merges aggregates of newly chunked points into a tier (called inside the compaction transaction). */
    add(tier: TierName, sensorId: number, buckets: Map<number, Aggregate>): void {
      const rows = [...buckets]
      upsert[tier](rows.length, (k, p, at) => {
        const [bucketMs, a] = rows[k]!
        p[at] = bucketMs
        p[at + 1] = sensorId
        p[at + 2] = a.count
        p[at + 3] = a.min
        p[at + 4] = a.max
        p[at + 5] = a.sum
        p[at + 6] = a.firstTsMs
        p[at + 7] = a.first
        p[at + 8] = a.lastTsMs
        p[at + 9] = a.last
      })
    },

    /** Merges aggregate columns (as the Rust compaction returns them, one row per bucket and sensor) into a tier. */
    addColumns(tier: TierName, a: AggregateColumns): void {
      upsert[tier](a.sensorId.length, (k, p, at) => {
        p[at] = a.bucketMs[k]!
        p[at + 1] = a.sensorId[k]!
        p[at + 2] = a.count[k]!
        p[at + 3] = a.min[k]!
        p[at + 4] = a.max[k]!
        p[at + 5] = a.sum[k]!
        p[at + 6] = a.firstTsMs[k]!
        p[at + 7] = a.first[k]!
        p[at + 8] = a.lastTsMs[k]!
        p[at + 9] = a.last[k]!
      })
    },

    /** A sensor's stored tier buckets in [fromMs, toMs) (fromMs aligned to the tier), by bucket start. */
    read(tier: TierName, sensorId: number, fromMs: number, toMs: number): Map<number, Aggregate> {
      const widthMs = TIERS.find((t) => t.name === tier)!.widthMs
      const out = new Map<number, Aggregate>()
      if (fromMs >= toMs) return out
      const rows = select[tier].all(fromMs, widthMs, widthMs, toMs, sensorId) as number[][]
      for (const r of rows) {
        out.set(r[0]!, {
          count: r[1]!,
          min: r[2]!,
          max: r[3]!,
          sum: r[4]!,
          firstTsMs: r[5]!,
          first: r[6]!,
          lastTsMs: r[7]!,
          last: r[8]!,
        })
      }
      return out
    },
  }
}

export type RollupStore = ReturnType<typeof createRollupStore>
