// Read side of readings, latest values and rejects; never blocks the writer (WAL readers see committed data).
import type { Sqlite } from './connection.ts'
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

export interface CountFilter {
  machineId?: number
  sensorId?: number
  fromMs: number
  toMs: number
}

export function createReadingQueries(db: Sqlite) {
  const q = {
    range: db.prepare(
      'SELECT ts_ms AS tsMs, value FROM readings WHERE sensor_id = ? AND ts_ms >= ? AND ts_ms < ? ORDER BY ts_ms LIMIT ?',
    ),
    series: db
      .prepare(
        'SELECT ts_ms, value FROM readings WHERE sensor_id = ? AND ts_ms >= ? AND ts_ms < ? ORDER BY ts_ms',
      )
      .raw(),
    latest: db.prepare(
      `SELECT s.id AS sensorId, s.key, s.unit, l.ts_ms AS tsMs, l.value FROM sensors s
       JOIN sensor_latest l ON l.sensor_id = s.id WHERE s.machine_id = ? ORDER BY s.id`,
    ),
    countSensor: db
      .prepare('SELECT count(*) FROM readings WHERE sensor_id = ? AND ts_ms >= ? AND ts_ms < ?')
      .pluck(),
    countMachine: db
      .prepare(
        `SELECT count(*) FROM sensors s JOIN readings r ON r.sensor_id = s.id
         WHERE s.machine_id = ? AND r.ts_ms >= ? AND r.ts_ms < ?`,
      )
      .pluck(),
  }

  return {
    /** Readings of one sensor in [fromMs, toMs), oldest first, at most `limit`. */
    range(sensorId: number, fromMs: number, toMs: number, limit: number): Reading[] {
      return q.range.all(sensorId, fromMs, toMs, limit) as Reading[]
    },

    /** The same range as columns, for analytics. */
    series(sensorId: number, fromMs: number, toMs: number): { tsMs: Float64Array; values: Float64Array } {
      const rows = q.series.all(sensorId, fromMs, toMs) as [number, number][]
      const tsMs = new Float64Array(rows.length)
      const values = new Float64Array(rows.length)
      for (let i = 0; i < rows.length; i++) {
        tsMs[i] = rows[i]![0]
        values[i] = rows[i]![1]
      }
      return { tsMs, values }
    },

    latestForMachine: (machineId: number): LatestReading[] => q.latest.all(machineId) as LatestReading[],

    count(filter: CountFilter): number {
      if (filter.sensorId !== undefined) {
        return q.countSensor.get(filter.sensorId, filter.fromMs, filter.toMs) as number
      }
      if (filter.machineId !== undefined) {
        return q.countMachine.get(filter.machineId, filter.fromMs, filter.toMs) as number
      }
      throw new Error('count needs a sensorId or a machineId')
    },

    /** Rejects newest first, filtered; page with `beforeId` = the last id of the previous page. */
    rejects(filter: RejectFilter): Reject[] {
      const where: string[] = []
      const params: (number | string)[] = []
      if (filter.machineId !== undefined) where.push('machine_id = ?') && params.push(filter.machineId)
      if (filter.reason !== undefined) where.push('reason = ?') && params.push(filter.reason)
      if (filter.fromMs !== undefined) where.push('received_ms >= ?') && params.push(filter.fromMs)
      if (filter.toMs !== undefined) where.push('received_ms < ?') && params.push(filter.toMs)
      if (filter.beforeId !== undefined) where.push('id < ?') && params.push(filter.beforeId)
      const sql = `SELECT * FROM rejected_readings ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY id DESC LIMIT ?`
      return (db.prepare(sql).all(...params, filter.limit) as RejectRow[]).map(toReject)
    },
  }
}

export type ReadingQueries = ReturnType<typeof createReadingQueries>
