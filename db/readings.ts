// Read side of readings, latest values and rejects; never blocks the writer (WAL readers see committed data).
import { createPointReader } from './chunks.ts'
import type { Sqlite } from './connection.ts'
import { createHotReader, overlayHotLatest } from './hot-blocks.ts'
import { createRollupStore } from './rollups.ts'
import { type BucketQuery, type BucketResult, createSeriesQueries } from './series.ts'
import type { LatestReading, Reading, Reject, RejectFilter } from './types.ts'

interface RejectRow {
  id: number
  received_ms: number
  machine_id: number | null
  client_id: string
  topic: string
  reason: string
  sensor_key: string | null
  detail: string
  payload: Buffer
  payload_truncated: number
}

const utf8 = new TextDecoder('utf-8', { fatal: true })

function decodePayload(payload: Buffer): { payload: string; payloadEncoding: 'utf8' | 'base64' } {
  try {
    return { payload: utf8.decode(payload), payloadEncoding: 'utf8' }
  } catch {
    return { payload: payload.toString('base64'), payloadEncoding: 'base64' }
  }
}

const toReject = (r: RejectRow): Reject => ({
  id: r.id,
  receivedMs: r.received_ms,
  machineId: r.machine_id,
  clientId: r.client_id,
  topic: r.topic,
  reason: r.reason,
  sensorKey: r.sensor_key,
  detail: r.detail,
  ...decodePayload(r.payload),
  payloadTruncated: r.payload_truncated === 1,
})

type Nullable<T extends { tsMs: number; value: number }> = Omit<T, 'tsMs' | 'value'> & {
  tsMs: number | null
  value: number | null
}

export interface CountFilter {
  machineId?: number
  sensorId?: number
  fromMs: number
  toMs: number
}

export function createReadingQueries(db: Sqlite) {
  const points = createPointReader(db)
  const series = createSeriesQueries(points, createRollupStore(db))
  const hot = createHotReader(db)
  const q = {
    latest: db.prepare(
      `SELECT s.id AS sensorId, s.key, s.unit, l.ts_ms AS tsMs, l.value FROM sensors s
       LEFT JOIN sensor_latest l ON l.sensor_id = s.id WHERE s.machine_id = ? ORDER BY s.id`,
    ),
    latestOfFactory: db
      .prepare(
        `SELECT s.id, l.ts_ms, l.value FROM machines m JOIN sensors s ON s.machine_id = m.id
         LEFT JOIN sensor_latest l ON l.sensor_id = s.id WHERE m.factory_id = ? ORDER BY s.id`,
      )
      .raw(),
    sensorsOfMachine: db.prepare('SELECT id FROM sensors WHERE machine_id = ?').pluck(),
  }

  return {
    /** Readings of one sensor in [fromMs, toMs), oldest first, at most `limit`. */
    range(sensorId: number, fromMs: number, toMs: number, limit: number): Reading[] {
      const p = points.points(sensorId, fromMs, toMs, limit)
      const out: Reading[] = new Array(p.tsMs.length)
      for (let i = 0; i < p.tsMs.length; i++) out[i] = { tsMs: p.tsMs[i]!, value: p.values[i]! }
      return out
    },

    /** The same range as columns, for analytics. */
    series(sensorId: number, fromMs: number, toMs: number): { tsMs: Float64Array; values: Float64Array } {
      const p = points.points(sensorId, fromMs, toMs)
      return { tsMs: p.tsMs, values: p.values }
    },

    /** The newest `limit` readings before `beforeMs`, newest first, as [tsMs, value] pairs. */
    recentBefore(sensorId: number, beforeMs: number, limit: number): [number, number][] {
      // Widen the window until enough readings are found or it reaches back to the epoch.
      for (let spanMs = 3_600_000; ; spanMs *= 16) {
        const fromMs = Math.max(0, beforeMs - spanMs)
        const p = points.points(sensorId, fromMs, beforeMs)
        if (p.tsMs.length >= limit || fromMs === 0) {
          const out: [number, number][] = []
          for (let i = p.tsMs.length - 1; i >= 0 && out.length < limit; i--)
            out.push([p.tsMs[i]!, p.values[i]!])
          return out
        }
      }
    },

    /** Bucketed aggregates (min, max, avg, sum, count, first, last) of one sensor. */
    buckets: (sensorId: number, query: BucketQuery): BucketResult => series.buckets(sensorId, query),

    /** Readings of [fromMs, toMs) in pages of `pageSize`, oldest first: constant memory for exports. */
    *pages(sensorId: number, fromMs: number, toMs: number, pageSize = 10_000): Generator<Reading[]> {
      let from = fromMs
      for (;;) {
        const page = this.range(sensorId, from, toMs, pageSize)
        if (page.length > 0) yield page
        if (page.length < pageSize) return
        from = page[page.length - 1]!.tsMs + 1
      }
    },

    /** Latest reading of each sensor of a machine: sensor_latest overlaid with the hot blocks. */
    latestForMachine: (machineId: number): LatestReading[] =>
      points
        .snapshot(() => overlayHotLatest(hot, q.latest.all(machineId) as Nullable<LatestReading>[]))
        .filter((r): r is LatestReading => r.tsMs !== null),

    /** Latest value of every sensor of a factory, as columns (one index lookup per sensor). */
    latestForFactory(factoryId: number): { sensorId: Int32Array; tsMs: Float64Array; values: Float64Array } {
      const rows = points.snapshot(() => {
        const stored = q.latestOfFactory.all(factoryId) as [number, number | null, number | null][]
        const newer = hot.latest(stored.map((r) => r[0]))
        for (const r of stored) {
          const h = newer.get(r[0])
          if (h && (r[1] === null || h.tsMs >= r[1])) {
            r[1] = h.tsMs
            r[2] = h.value
          }
        }
        return stored.filter((r): r is [number, number, number] => r[1] !== null)
      })
      const out = {
        sensorId: new Int32Array(rows.length),
        tsMs: new Float64Array(rows.length),
        values: new Float64Array(rows.length),
      }
      for (let i = 0; i < rows.length; i++) {
        const [id, ts, v] = rows[i]!
        out.sensorId[i] = id
        out.tsMs[i] = ts
        out.values[i] = v
      }
      return out
    },

    count(filter: CountFilter): number {
      if (filter.sensorId !== undefined) return points.count(filter.sensorId, filter.fromMs, filter.toMs)
      if (filter.machineId !== undefined) {
        let n = 0
        for (const id of q.sensorsOfMachine.all(filter.machineId) as number[]) {
          n += points.count(id, filter.fromMs, filter.toMs)
        }
        return n
      }
      throw new Error('count needs a sensorId or a machineId')
    },

    /** Rejects newest first, filtered; page with `beforeId` = the last id of the previous page. */
    rejects(filter: RejectFilter): Reject[] {
      const where: string[] = []
      const params: (number | string)[] = []
      const add = (clause: string, value: number | string | undefined) => {
        if (value === undefined) return
        where.push(clause)
        params.push(value)
      }
      add('machine_id = ?', filter.machineId)
      add('reason = ?', filter.reason)
      add('received_ms >= ?', filter.fromMs)
      add('received_ms < ?', filter.toMs)
      add('id < ?', filter.beforeId)
      const sql = `SELECT * FROM rejected_readings ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY id DESC LIMIT ?`
      return (db.prepare(sql).all(...params, filter.limit) as RejectRow[]).map(toReject)
    },
  }
}

export type ReadingQueries = ReturnType<typeof createReadingQueries>
